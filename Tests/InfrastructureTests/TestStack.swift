import Testing

/// Every integration suite is nested in this one: tests that stop a server must never overlap with
/// tests that use it, and `.serialized` applies to all nested suites and tests.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct StackTests {}
