/// Reads a Redis function's reply (an array of strings and integers) field by field; a field that
/// is missing or of the wrong kind throws ``RedisError/Code/invalidReply`` naming the function.
public struct FunctionReply: Sendable {
    public let function: String
    public let values: [RedisValue]

    public init(_ value: RedisValue, from function: String) throws(RedisError) {
        guard let values = value.arrayValue, !values.isEmpty else {
            throw RedisError(.invalidReply, "\(function) replied \(value), expected an array")
        }
        self.function = function
        self.values = values
    }

    public var count: Int { values.count }

    public func string(_ index: Int) throws(RedisError) -> String {
        guard index < values.count, let text = values[index].stringValue else {
            throw invalid("field \(index) missing or not a string")
        }
        return text
    }

    public func int(_ index: Int) throws(RedisError) -> Int {
        guard index < values.count, let number = values[index].integerValue else {
            throw invalid("field \(index) missing or not an integer")
        }
        return Int(number)
    }

    public func double(_ index: Int) throws(RedisError) -> Double {
        guard let number = Double(try string(index)) else { throw invalid("field \(index) is not a number") }
        return number
    }

    public func invalid(_ what: String) -> RedisError {
        RedisError(.invalidReply, "\(function) replied \(values): \(what)")
    }
}
