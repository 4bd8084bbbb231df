/// What happens to a request the bucket refuses.
public enum RateAction: String, Hashable, Sendable, Codable, CaseIterable {
    /// Answer 429 with `Retry-After`.
    case reject
    /// Send the shopper to the waiting room.
    case queue
    /// Let it through but record that it would have been limited (for tuning).
    case shadow
}

/// What to do when the limiter's store is unreachable.
public enum RateFailMode: String, Hashable, Sendable, Codable, CaseIterable {
    /// Admit the request.
    case open
    /// Refuse the request.
    case closed
}
