internal import CMongoc
import Foundation

// Conversion between the Swift BSON model and libbson's `bson_t`.
//
// libbson declares `bson_t` and `bson_iter_t` 128-byte aligned. Swift imports `bson_t` as an opaque
// pointer and `bson_iter_t` with pointer alignment only, so both are placed in heap memory aligned
// the way the C code expects (see ``BSONBuffer``, ``BSONReply`` and ``withBSONIterator(_:)``).

/// Alignment libbson declares for `bson_t` and `bson_iter_t` (`BSON_EXTRA_ALIGN`).
private let bsonAlignment = 128

/// Owns one `bson_t` from `bson_new`, destroyed with the object.
final class BSONBuffer {
    let pointer: OpaquePointer

    init() {
        guard let pointer = bson_new() else { fatalError("bson_new: out of memory") }
        self.pointer = pointer
    }

    deinit { bson_destroy(pointer) }
}

/// An initialised, caller-owned `bson_t` for libmongoc's `reply` out-parameters, which the C API
/// expects in storage of the caller's (it re-initialises it; `bson_destroy` then frees only the
/// heap buffer the reply grew into, never the struct).
final class BSONReply {
    private let storage: UnsafeMutableRawPointer
    let pointer: OpaquePointer

    init() {
        storage = .allocate(byteCount: bsonAlignment, alignment: bsonAlignment)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: bsonAlignment)
        pointer = OpaquePointer(storage)
        bson_init(pointer)
    }

    deinit {
        bson_destroy(pointer)
        storage.deallocate()
    }

    /// The reply as a Swift document (empty when it does not parse).
    func document() -> BSONDocument { (try? BSONDocument(bson: pointer)) ?? BSONDocument() }
}

/// Runs `body` with a properly aligned, zeroed `bson_iter_t` (which Swift, like `bson_t`, sees as
/// an opaque pointer in libbson's function signatures).
func withBSONIterator<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
    let size = max(MemoryLayout<bson_iter_t>.size, bsonAlignment)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: bsonAlignment)
    defer { raw.deallocate() }
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    return try body(OpaquePointer(raw))
}

// MARK: Swift → bson_t

extension BSONDocument {
    /// A new `bson_t` holding this document, recursively.
    ///
    /// - Throws: ``MongoError/Code/invalidDocument`` for a key containing NUL or a document past
    ///   libbson's size limit.
    func makeBSON() throws(MongoError) -> BSONBuffer {
        let buffer = BSONBuffer()
        for (key, value) in self { try BSONWriter.append(value, key: key, to: buffer.pointer) }
        return buffer
    }
}

private enum BSONWriter {
    static func append(_ value: BSONValue, key: String, to bson: OpaquePointer) throws(MongoError) {
        guard !key.utf8.contains(0) else {
            throw MongoError(.invalidDocument, "BSON key contains a NUL byte: \(key.debugDescription)")
        }
        // Embedded documents are built first (the throwing part), then copied in.
        let child: BSONBuffer?
        switch value {
        case .document(let document): child = try document.makeBSON()
        case .array(let elements): child = try makeArray(elements)
        default: child = nil
        }
        let keyLength = Int32(key.utf8.count)
        let appended = key.withCString { k -> Bool in
            switch value {
            case .string(let s):
                s.utf8CString.withUnsafeBufferPointer {
                    bson_append_utf8(bson, k, keyLength, $0.baseAddress, Int32($0.count - 1))
                }
            case .int32(let v): bson_append_int32(bson, k, keyLength, v)
            case .int64(let v): bson_append_int64(bson, k, keyLength, v)
            case .double(let v): bson_append_double(bson, k, keyLength, v)
            case .bool(let v): bson_append_bool(bson, k, keyLength, v)
            case .date(let v): bson_append_date_time(bson, k, keyLength, v.bsonMilliseconds)
            case .null: bson_append_null(bson, k, keyLength)
            case .document: bson_append_document(bson, k, keyLength, child!.pointer)
            case .array: bson_append_array(bson, k, keyLength, child!.pointer)
            }
        }
        guard appended else {
            throw MongoError(.invalidDocument, "cannot append field '\(key)' (document too large?)")
        }
    }

    /// A BSON array is a document keyed "0", "1", ….
    static func makeArray(_ elements: [BSONValue]) throws(MongoError) -> BSONBuffer {
        let buffer = BSONBuffer()
        for (index, element) in elements.enumerated() {
            try append(element, key: String(index), to: buffer.pointer)
        }
        return buffer
    }
}

// MARK: bson_t → Swift

extension BSONDocument {
    /// Copies a `bson_t` (borrowed, not destroyed) into a Swift document.
    init(bson: OpaquePointer) throws(MongoError) {
        let parsed: BSONDocument? = withBSONIterator { iterator in
            guard bson_iter_init(iterator, bson) else { return nil }
            return BSONReader.document(iterator)
        }
        guard let parsed else { throw MongoError(.invalidReply, "malformed BSON document") }
        self = parsed
    }
}

private enum BSONReader {
    /// Reads every remaining field of `iterator`.
    static func document(_ iterator: OpaquePointer) -> BSONDocument {
        var result = BSONDocument()
        while bson_iter_next(iterator) {
            result.append(String(cString: bson_iter_key(iterator)), value(iterator))
        }
        return result
    }

    static func value(_ iterator: OpaquePointer) -> BSONValue {
        switch bson_iter_type(iterator) {
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            return .string(string(bson_iter_utf8(iterator, &length), length))
        case BSON_TYPE_INT32: return .int32(bson_iter_int32(iterator))
        case BSON_TYPE_INT64: return .int64(bson_iter_int64(iterator))
        case BSON_TYPE_DOUBLE: return .double(bson_iter_double(iterator))
        case BSON_TYPE_BOOL: return .bool(bson_iter_bool(iterator))
        case BSON_TYPE_DATE_TIME: return .date(Date(bsonMilliseconds: bson_iter_date_time(iterator)))
        case BSON_TYPE_NULL: return .null
        case BSON_TYPE_DOCUMENT:
            return withBSONIterator { child in
                bson_iter_recurse(iterator, child) ? .document(document(child)) : .null
            }
        case BSON_TYPE_ARRAY:
            return withBSONIterator { child in
                bson_iter_recurse(iterator, child) ? .array(document(child).values) : .null
            }
        case BSON_TYPE_OID:
            var hex = [CChar](repeating: 0, count: 25)
            bson_oid_to_string(bson_iter_oid(iterator), &hex)
            return .string(cString(hex))
        case BSON_TYPE_DECIMAL128:
            var decimal = bson_decimal128_t()
            var text = [CChar](repeating: 0, count: 43)  // BSON_DECIMAL128_STRING
            guard bson_iter_decimal128(iterator, &decimal) else { return .null }
            bson_decimal128_to_string(&decimal, &text)
            return .string(cString(text))
        case BSON_TYPE_BINARY:
            var subtype = bson_subtype_t(rawValue: 0)
            var length: UInt32 = 0
            var bytes: UnsafePointer<UInt8>?
            bson_iter_binary(iterator, &subtype, &length, &bytes)
            guard let bytes else { return .string("") }
            return .string(Data(bytes: bytes, count: Int(length)).base64EncodedString())
        case BSON_TYPE_TIMESTAMP:
            var seconds: UInt32 = 0
            var increment: UInt32 = 0
            bson_iter_timestamp(iterator, &seconds, &increment)
            return .int64(Int64(seconds) << 32 | Int64(increment))
        case BSON_TYPE_REGEX:
            var options: UnsafePointer<CChar>?
            let pattern = bson_iter_regex(iterator, &options)
            return .string("/\(pattern.map { String(cString: $0) } ?? "")/\(options.map { String(cString: $0) } ?? "")")
        case BSON_TYPE_CODE:
            var length: UInt32 = 0
            return .string(string(bson_iter_code(iterator, &length), length))
        case BSON_TYPE_CODEWSCOPE:
            var length: UInt32 = 0
            var scopeLength: UInt32 = 0
            var scope: UnsafePointer<UInt8>?
            return .string(string(bson_iter_codewscope(iterator, &length, &scopeLength, &scope), length))
        case BSON_TYPE_SYMBOL:
            var length: UInt32 = 0
            return .string(string(bson_iter_symbol(iterator, &length), length))
        default:  // undefined, MinKey, MaxKey, DBPointer, anything newer
            return .null
        }
    }

    /// The NUL-terminated string in `buffer`.
    private static func cString(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A UTF-8 string of `length` bytes (may contain NUL) from libbson.
    private static func string(_ pointer: UnsafePointer<CChar>?, _ length: UInt32) -> String {
        guard let pointer else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self)
        }
    }
}

// MARK: Raw BSON bytes

extension BSONDocument {
    /// This document encoded as BSON (the format of the wire protocol and of MongoDB's storage).
    ///
    /// - Throws: ``MongoError/Code/invalidDocument`` for a key containing NUL or an oversized document.
    public func bsonBytes() throws(MongoError) -> [UInt8] {
        let buffer = try makeBSON()
        guard let data = bson_get_data(buffer.pointer) else { return [] }
        // A BSON document starts with its total length, little-endian.
        let length = Int(UInt32(littleEndian: UnsafeRawPointer(data).loadUnaligned(as: UInt32.self)))
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    /// Decodes one BSON document (types outside ``BSONValue`` map as described there).
    ///
    /// - Throws: ``MongoError/Code/invalidDocument`` when `bsonBytes` is not exactly one well-formed document.
    public init(bsonBytes: [UInt8]) throws(MongoError) {
        let bson = bsonBytes.withUnsafeBufferPointer { bson_new_from_data($0.baseAddress, $0.count) }
        guard let bson else { throw MongoError(.invalidDocument, "not a BSON document (\(bsonBytes.count) bytes)") }
        defer { bson_destroy(bson) }
        var offset = 0
        guard bson_validate(bson, BSON_VALIDATE_NONE, &offset) else {
            throw MongoError(.invalidDocument, "malformed BSON at byte \(offset)")
        }
        try self.init(bson: bson)
    }
}

// MARK: Dates

extension Date {
    /// Milliseconds since the Unix epoch, rounded to the nearest millisecond.
    var bsonMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(bsonMilliseconds milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
