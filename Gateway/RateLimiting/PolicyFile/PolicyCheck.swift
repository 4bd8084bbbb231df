/// `flashdeal policy check`: validates files and renders the result the way the CLI prints it.
public enum PolicyCheck {
    public struct FileResult: Sendable {
        public let path: String
        public let result: Result<PolicySet, PolicyFileError>

        public var isValid: Bool { if case .success = result { true } else { false } }

        /// `ok  FILE  N policies  version <digest>`, or every diagnostic with its hint.
        public var rendered: String {
            switch result {
            case .success(let set):
                "ok  \(path)  \(set.policies.count) \(set.policies.count == 1 ? "policy" : "policies")  version \(set.digest)"
            case .failure(let error):
                error.description
            }
        }
    }

    public static func check(paths: [String]) -> [FileResult] {
        paths.map { path in
            do throws(PolicyFileError) {
                return FileResult(path: path, result: .success(try PolicyLoader.load(path: path)))
            } catch {
                return FileResult(path: path, result: .failure(error))
            }
        }
    }

    /// A closing line for runs with errors: `2 errors in 1 of 3 files`.
    public static func summary(_ results: [FileResult]) -> String? {
        let failed = results.filter { !$0.isValid }
        guard !failed.isEmpty else { return nil }
        let errors = failed.reduce(0) { count, file in
            if case .failure(let error) = file.result { count + error.diagnostics.count } else { count }
        }
        return
            "\(errors) \(errors == 1 ? "error" : "errors") in \(failed.count) of \(results.count) \(results.count == 1 ? "file" : "files")"
    }
}
