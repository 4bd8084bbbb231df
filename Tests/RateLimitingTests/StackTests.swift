import Testing

/// The suites of this target that stop or restart servers, or measure rates and timings that other
/// tests running at the same time would disturb, are nested in this one. `scripts/test` runs every
/// `StackTests` suite on its own, one at a time, after the others — by this name, so a suite
/// nested here cannot drift into the parallel phase by being renamed.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct StackTests {}
