import Foundation
#if canImport(Glibc)
public import Glibc
#endif

/// One of the project's executables (`.build/debug/<product>`) running as its own process, from
/// the repository root, its standard output and error in a log file: a process the test can signal,
/// SIGKILL, and read the log of.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let logFile: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(product: String, arguments: [String] = [], environment: [String: String]) throws {
        let binary = TestStack.root + "/.build/debug/" + product
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw Failure(description: "\(binary) is missing: build first (swift build --build-tests builds it)")
        }
        logFile = "/tmp/\(product)-test-\(UUID().uuidString.prefix(8)).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        guard FileManager.default.changeCurrentDirectoryPath(TestStack.root) else {
            throw Failure(description: "cannot enter \(TestStack.root)")
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, binary, &actions, nil, argv, envp)
        guard status == 0 else { throw Failure(description: "posix_spawn \(product) failed: \(status)") }
        self.pid = pid
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
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if let port = (object["port"] as? String).flatMap(Int.init) ?? (object["port"] as? Int) { return port }
        }
        return nil
    }
}
