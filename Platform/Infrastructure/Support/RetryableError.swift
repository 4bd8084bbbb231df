/// An error that tells its caller whether trying again may succeed.
///
/// Every adapter error conforms, so the layers above decide retry, back-off or compensation
/// without knowing which server failed.
public protocol RetryableError: Error, Sendable {
    /// `true` when the same call may succeed later (a server restarting, a timeout, a full queue);
    /// `false` when it never will (bad input, a rejected command, a protocol violation).
    var isRetryable: Bool { get }
}
