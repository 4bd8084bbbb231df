public import Infrastructure

/// A reply or document the admission library could not make sense of. Never retryable: it means
/// Redis or MongoDB hold data in a shape this version does not write.
public struct AdmissionError: RetryableError, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var isRetryable: Bool { false }
    public var description: String { "admission: \(message)" }
}

/// Reads a function's reply (an array of strings and integers) field by field.
struct Reply {
    let function: String
    let values: [RedisValue]

    init(_ value: RedisValue, from function: String) throws {
        guard let values = value.arrayValue, !values.isEmpty else {
            throw AdmissionError("\(function) replied \(value), expected an array")
        }
        self.function = function
        self.values = values
    }

    var count: Int { values.count }

    func string(_ index: Int) throws -> String {
        guard index < values.count, let text = values[index].stringValue else {
            throw AdmissionError("\(function) reply field \(index) missing or not a string: \(values)")
        }
        return text
    }

    func int(_ index: Int) throws -> Int {
        guard index < values.count, let number = values[index].integerValue else {
            throw AdmissionError("\(function) reply field \(index) missing or not an integer: \(values)")
        }
        return Int(number)
    }

    func double(_ index: Int) throws -> Double {
        guard let number = Double(try string(index)) else {
            throw AdmissionError("\(function) reply field \(index) is not a number: \(values)")
        }
        return number
    }

    func invalid(_ what: String) -> AdmissionError {
        AdmissionError("\(function) replied \(values): \(what)")
    }
}
