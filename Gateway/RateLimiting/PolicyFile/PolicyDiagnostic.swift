/// One problem in a policy file, pinned to a 1-based line and column.
public struct PolicyDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    /// Plain English, no trailing period.
    public let message: String
    /// How to fix it, when there is something useful to say.
    public let hint: String?

    public init(file: String, line: Int, column: Int, message: String, hint: String? = nil) {
        self.file = file
        self.line = max(line, 1)
        self.column = max(column, 1)
        self.message = message
        self.hint = hint
    }

    /// `file:line:column: error: message`, the shape editors and CI annotators understand.
    public var description: String { "\(file):\(line):\(column): error: \(message)" }

    /// `description`, followed by an indented hint line when there is one.
    public var rendered: String {
        guard let hint else { return description }
        return description + "\n    hint: " + hint
    }
}

/// A policy file that cannot be used, with every problem found in it (sorted by position).
public struct PolicyFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public let diagnostics: [PolicyDiagnostic]

    public init(diagnostics: [PolicyDiagnostic]) {
        self.diagnostics = diagnostics.enumerated()
            .sorted {
                ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
            }
            .map(\.element)
    }

    public var description: String { diagnostics.map(\.rendered).joined(separator: "\n") }
}
