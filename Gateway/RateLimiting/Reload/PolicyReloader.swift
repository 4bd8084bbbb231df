import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps the active policies in step with a policy file.
///
/// The file is checked every ``interval`` and on SIGHUP. A changed file is loaded and validated as a
/// whole; only a valid file replaces the active policies, in one step. A bad file leaves the last
/// good policies in force and logs each problem as `file:line:column`. Changes are detected through
/// `stat` of the path with symlinks followed (device, inode, size, modification time), so a
/// Kubernetes ConfigMap update — a symlink swap of the mounted directory — is seen like an edit.
public final class PolicyReloader: Service, Sendable {
    /// What one reload attempt did.
    public enum Outcome: Sendable, Equatable {
        case applied(version: String)
        case unchanged(version: String)
        case rejected(PolicyFileError)
        case unreadable(String)
    }

    public let path: String
    public let interval: Duration
    private let store: PolicyStore
    private let limiter: RateLimiter?
    private let load: @Sendable (String) throws -> PolicySet
    private let onOutcome: @Sendable (Outcome) -> Void
    private let logger: Logger
    private let lastFingerprint = Mutex<FileFingerprint?>(nil)

    /// - Parameters:
    ///   - load: reads and validates a policy file (``PolicyLoader/load(path:)`` in production).
    ///   - limiter: its over-limit cache is cleared when the policies change.
    ///   - onOutcome: told of every reload attempt (metrics).
    public init(
        path: String, store: PolicyStore, limiter: RateLimiter?, interval: Duration = .milliseconds(250),
        logger: Logger, onOutcome: @escaping @Sendable (Outcome) -> Void = { _ in },
        load: @escaping @Sendable (String) throws -> PolicySet
    ) {
        self.onOutcome = onOutcome
        self.path = path
        self.store = store
        self.limiter = limiter
        self.interval = interval
        self.logger = logger
        self.load = load
    }

    /// Loads the file now (whether or not it changed) and applies it if it is valid.
    @discardableResult
    public func reload(reason: String) -> Outcome {
        let outcome = attemptReload(reason: reason)
        onOutcome(outcome)
        return outcome
    }

    private func attemptReload(reason: String) -> Outcome {
        let fingerprint = FileFingerprint(path: path)
        lastFingerprint.withLock { $0 = fingerprint }
        let set: PolicySet
        do {
            set = try load(path)
        } catch let error as PolicyFileError {
            logger.error(
                "policy file rejected; the active policies stay in force",
                metadata: [
                    "file": "\(path)", "reason": "\(reason)", "active_version": "\(store.current.version)",
                    "errors": "\(error.diagnostics.count)",
                ])
            for diagnostic in error.diagnostics { logger.error("\(diagnostic.rendered)") }
            return .rejected(error)
        } catch {
            logger.error(
                "policy file unreadable; the active policies stay in force",
                metadata: ["file": "\(path)", "error": "\(error)"])
            return .unreadable("\(error)")
        }
        let active = ActivePolicies(version: set.digest, policies: set.policies)
        guard active != store.current else { return .unchanged(version: set.digest) }
        store.replace(with: active)
        limiter?.clearCache()
        logger.info(
            "policies applied",
            metadata: [
                "file": "\(path)", "version": "\(set.digest)", "policies": "\(set.policies.count)",
                "reason": "\(reason)",
            ])
        return .applied(version: set.digest)
    }

    /// Reloads when the file changed since the last look.
    @discardableResult
    public func reloadIfChanged() -> Outcome? {
        let now = FileFingerprint(path: path)
        let changed = lastFingerprint.withLock { last in last != now }
        return changed ? reload(reason: "file changed") : nil
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals { self.reload(reason: "SIGHUP") }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.interval)
                    self.reloadIfChanged()
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}

/// Identity of a file's current content as `stat(2)` sees it through symlinks.
struct FileFingerprint: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedNanoseconds: Int64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}
