import Yams

/// Collects diagnostics for one file while it is being read.
struct DiagnosticSink {
    let file: String
    private(set) var diagnostics: [PolicyDiagnostic] = []

    init(file: String) { self.file = file }

    var isEmpty: Bool { diagnostics.isEmpty }

    mutating func error(_ message: String, at node: Node?, hint: String? = nil) {
        error(message, at: node?.mark, hint: hint)
    }

    mutating func error(_ message: String, at mark: Mark?, hint: String? = nil) {
        error(message, line: mark?.line ?? 1, column: mark?.column ?? 1, hint: hint)
    }

    mutating func error(_ message: String, line: Int, column: Int, hint: String? = nil) {
        diagnostics.append(PolicyDiagnostic(file: file, line: line, column: column, message: message, hint: hint))
    }
}
