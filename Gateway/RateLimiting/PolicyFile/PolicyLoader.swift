import Crypto
import Domain
public import Foundation
import Yams

/// Reads and validates policy files. Every problem is reported, each at its line and column.
public enum PolicyLoader {
    /// Reads the file at `path`. The digest is taken over its exact bytes.
    public static func load(path: String) throws(PolicyFileError) -> PolicySet {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PolicyFileError(diagnostics: [
                PolicyDiagnostic(
                    file: path, line: 1, column: 1, message: "cannot read the file: \(reason(error, path: path))")
            ])
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw PolicyFileError(diagnostics: [
                PolicyDiagnostic(
                    file: path, line: 1, column: 1, message: "the file is not UTF-8 text", hint: "save it as UTF-8")
            ])
        }
        return try parse(yaml: text, file: path, digest: digest(of: data))
    }

    /// Parses policy YAML held in memory; `file` is used in diagnostics and as `PolicySet.source`.
    public static func parse(yaml: String, file: String = "<memory>") throws(PolicyFileError) -> PolicySet {
        try parse(yaml: yaml, file: file, digest: digest(of: Data(yaml.utf8)))
    }

    /// First 12 hex digits of the SHA-256 of `bytes`.
    public static func digest(of bytes: Data) -> String {
        String(Hex.lowercase(Array(SHA256.hash(data: bytes))).prefix(12))
    }

    private static func parse(yaml: String, file: String, digest: String) throws(PolicyFileError) -> PolicySet {
        var sink = DiagnosticSink(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            YAMLSyntaxDiagnostics.diagnose(error, yaml: yaml, into: &sink)
            throw PolicyFileError(diagnostics: sink.diagnostics)
        }
        guard let root else {
            sink.error(
                "the file is empty", line: 1, column: 1,
                hint: "a policy file starts with 'version: 1' followed by 'policies:'")
            throw PolicyFileError(diagnostics: sink.diagnostics)
        }
        var reader = PolicyDocumentReader(sink: sink)
        let document = reader.read(root)
        sink = reader.sink
        if let document { checkReachability(document, into: &sink) }
        guard sink.isEmpty, let document else { throw PolicyFileError(diagnostics: sink.diagnostics) }
        return PolicySet(
            version: document.version, policies: document.policies.map(\.policy), source: file, digest: digest)
    }

    private static func checkReachability(_ document: PolicyDocument, into sink: inout DiagnosticSink) {
        let policies = document.policies.map(\.policy)
        for (covered, by) in PolicyReachability.redundant(policies) {
            let b = document.policies[covered]
            let a = document.policies[by]
            sink.error(
                "policy \(quoted(b.policy.name)) is unreachable: policy \(quoted(a.policy.name)) (line \(a.nameNode.mark?.line ?? 1)) "
                    + "rejects every request it could limit, with the same key, a match at least as broad and a budget no larger",
                at: b.nameNode,
                hint: "remove it, make it stricter than \(a.policy.name), or set action: shadow to keep it as a trial")
        }
    }

    private static func reason(_ error: any Error, path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "it is a directory" }
        return error.localizedDescription
    }
}
