import Foundation
import Synchronization

/// Completes calls whose caller-chosen deadline passed before their reply arrived.
///
/// One thread per client sleeps until the earliest deadline. A call's completion fires once:
/// whichever of the reply and the deadline comes first wins, and the connection is left alone (a
/// late reply is read and dropped in order, so the pipeline stays in step). This is what lets the
/// rate limiter give Redis a budget of a few milliseconds without tearing down connections.
final class DeadlineWatcher: Sendable {
    private struct Entry: Comparable {
        let deadline: ContinuousClock.Instant
        let sequence: UInt64
        let call: OneShotCompletion
        static func < (a: Entry, b: Entry) -> Bool { (a.deadline, a.sequence) < (b.deadline, b.sequence) }
        static func == (a: Entry, b: Entry) -> Bool { a.sequence == b.sequence }
    }

    private struct State {
        var heap: [Entry] = []
        var sequence: UInt64 = 0
        var started = false
        var stopped = false
    }

    private let state = Mutex(State())
    private let wakeup = Wakeup()

    func watch(_ call: OneShotCompletion, deadline: ContinuousClock.Instant) {
        let (start, earliest): (Bool, Bool) = state.withLock { s in
            s.sequence &+= 1
            let entry = Entry(deadline: deadline, sequence: s.sequence, call: call)
            Self.push(&s.heap, entry)
            defer { s.started = true }
            return (!s.started, s.heap.first == entry)
        }
        if start {
            let thread = Thread { [self] in loop() }
            thread.name = "flashdeal.redis.deadlines"
            thread.start()
        }
        // The watcher sleeps until the earliest deadline it knows: only a new earliest one needs to
        // wake it (budgets are alike, so that is rare; a wake-up per call would cost two context
        // switches on every call).
        if earliest { wakeup.signal() }
    }

    func stop() {
        state.withLock { $0.stopped = true }
        wakeup.signal()
    }

    private func loop() {
        while true {
            let now = ContinuousClock.now
            var expired: [OneShotCompletion] = []
            let (next, stopped): (ContinuousClock.Instant?, Bool) = state.withLock { s in
                while let first = s.heap.first, first.deadline <= now || first.call.isDone {
                    let entry = Self.pop(&s.heap)
                    if !entry.call.isDone { expired.append(entry.call) }
                }
                return (s.heap.first?.deadline, s.stopped)
            }
            for call in expired { call.complete(.failure(RedisError(.timeout, "no reply within the call's budget"))) }
            if stopped { return }
            wakeup.wait(for: next.map { $0 - ContinuousClock.now } ?? .seconds(1))
        }
    }

    private static func push(_ heap: inout [Entry], _ entry: Entry) {
        heap.append(entry)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i] < heap[parent] else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private static func pop(_ heap: inout [Entry]) -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < heap.count && heap[l] < heap[m] { m = l }
                if r < heap.count && heap[r] < heap[m] { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}

/// A condition variable that remembers a signal sent while nobody was waiting, so a deadline added
/// between the watcher's look at the heap and its sleep is never missed.
///
/// `@unchecked Sendable`: `signaled` is only read and written while holding `condition`'s lock.
private final class Wakeup: @unchecked Sendable {
    private let condition = NSCondition()
    private var signaled = false

    func signal() {
        condition.lock()
        signaled = true
        condition.signal()
        condition.unlock()
    }

    func wait(for duration: Duration) {
        condition.lock()
        if !signaled && duration > .zero {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
        }
        signaled = false
        condition.unlock()
    }
}

/// A completion that runs at most once, whoever calls it first.
final class OneShotCompletion: Sendable {
    private let done = Atomic<Bool>(false)
    private let body: @Sendable (Result<RedisValue, RedisError>) -> Void

    init(_ body: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void) { self.body = body }

    var isDone: Bool { done.load(ordering: .acquiring) }

    func complete(_ result: Result<RedisValue, RedisError>) {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        body(result)
    }
}

/// Gathers the replies of one pipeline and hands them over once, when the last reply arrives or
/// when the budget runs out (then every call still open counts as timed out).
final class PipelineCollector: Sendable {
    private struct State {
        var results: [Result<RedisValue, RedisError>?]
        var open: Int
        var finish: (@Sendable ([Result<RedisValue, RedisError>]) -> Void)?
    }
    private let state: Mutex<State>

    init(count: Int) { state = Mutex(State(results: Array(repeating: nil, count: count), open: count)) }

    func onComplete(_ finish: @escaping @Sendable ([Result<RedisValue, RedisError>]) -> Void) {
        state.withLock { $0.finish = finish }
    }

    func complete(_ index: Int, _ result: Result<RedisValue, RedisError>) {
        let done: (([Result<RedisValue, RedisError>]) -> Void, [Result<RedisValue, RedisError>])? = state.withLock {
            s in
            guard s.results[index] == nil, s.finish != nil else { return nil }
            s.results[index] = result
            s.open -= 1
            guard s.open == 0, let finish = s.finish else { return nil }
            s.finish = nil
            return (finish, s.results.map { $0! })
        }
        if let (finish, results) = done { finish(results) }
    }

    /// For the deadline watcher: times out every call still open.
    var timeoutCompletion: OneShotCompletion {
        OneShotCompletion { [self] _ in
            let done: (([Result<RedisValue, RedisError>]) -> Void, [Result<RedisValue, RedisError>])? = state.withLock {
                s in
                guard let finish = s.finish else { return nil }
                s.finish = nil
                return (
                    finish, s.results.map { $0 ?? .failure(RedisError(.timeout, "no reply within the call's budget")) }
                )
            }
            if let (finish, results) = done { finish(results) }
        }
    }
}
