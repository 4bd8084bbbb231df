public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A process started by a test, from a directory of its choosing (the repository root unless said
/// otherwise), its standard output and error in one log file: a server the test can signal, SIGKILL
/// and read the log of, or a command run to completion with ``run(_:_:environment:directory:input:)``.
/// The one way the tests start a process.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let logFile: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// One of the project's executables, `.build/debug/<product>`.
    public convenience init(product: String, arguments: [String] = [], environment: [String: String]) throws {
        let binary = TestStack.root + "/.build/debug/" + product
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw Failure(description: "\(binary) is missing: build first (swift build --build-tests builds it)")
        }
        var environment = environment
        // The executables read an endpoints file only when one is named: a test names the local stack's.
        if environment["FLASHDEAL_ENDPOINTS_FILE"] == nil && environment["FLASHDEAL_REDIS_URL"] == nil {
            environment["FLASHDEAL_ENDPOINTS_FILE"] = TestStack.root + "/.stack/endpoints.env"
        }
        try self.init(executable: binary, arguments: arguments, environment: environment)
    }

    /// Any executable. `environment` nil inherits the test's; `input` (a file) becomes standard input.
    /// `errorFile`, when given, takes standard error apart from the log.
    public init(
        executable: String, arguments: [String] = [], environment: [String: String]?,
        directory: String = TestStack.root, input: String? = nil, errorFile: String? = nil
    ) throws {
        let name = executable.split(separator: "/").last.map(String.init) ?? "process"
        logFile = "/tmp/\(name)-test-\(UUID().uuidString.prefix(8)).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let errorFile {
            posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // env(1) enters the directory, so the test process's own working directory never changes.
        let argv = (["/usr/bin/env", "-C", directory, executable] + arguments).map { strdup($0) } + [nil]
        let variables = environment ?? ProcessInfo.processInfo.environment
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, envp)
        guard status == 0 else { throw Failure(description: "posix_spawn \(executable) failed: \(status)") }
        self.pid = pid
    }

    /// What a command run to completion left: its exit status (nil when a signal ended it) and output.
    public struct Result: Sendable {
        public let status: Int32?
        /// Standard output, and standard error interleaved as written unless asked for apart.
        public let output: String
        /// Standard error when it was asked for apart (`separateErrors`), else empty.
        public let errors: String
    }

    /// Runs `executable` to completion; `input` is written to its standard input.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        directory: String = TestStack.root, input: Data? = nil,
        separateErrors: Bool = false
    ) throws -> Result {
        var inputFile: String?
        if let input {
            let path = "/tmp/child-input-\(UUID().uuidString.prefix(8))"
            try input.write(to: URL(fileURLWithPath: path))
            inputFile = path
        }
        defer { if let inputFile { try? FileManager.default.removeItem(atPath: inputFile) } }
        let errorFile = separateErrors ? "/tmp/child-errors-\(UUID().uuidString.prefix(8))" : nil
        defer { if let errorFile { try? FileManager.default.removeItem(atPath: errorFile) } }
        let process = try ChildProcess(
            executable: executable, arguments: arguments, environment: environment,
            directory: directory, input: inputFile, errorFile: errorFile)
        let status = process.wait()
        defer { try? FileManager.default.removeItem(atPath: process.logFile) }
        let errors = errorFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        return Result(status: status, output: process.log, errors: errors)
    }

    /// Sends `signal` and waits for the process to end; returns its exit code (nil when a signal ended it).
    @discardableResult
    public func stop(_ signal: Int32) -> Int32? {
        kill(pid, signal)
        return wait()
    }

    /// Waits for the process to end; returns its exit code (nil when a signal ended it).
    @discardableResult
    public func wait() -> Int32? {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
    }

    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// The port the process logged it listens on (`"message":"listening"` with `port`), once it has.
    public var listeningPort: Int? {
        for line in log.split(separator: "\n") where line.contains("\"message\":\"listening\"") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                continue
            }
            if let port = (object["port"] as? String).flatMap(Int.init) ?? (object["port"] as? Int) { return port }
        }
        return nil
    }
}
