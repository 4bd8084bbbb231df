import Foundation

/// A JSON Schema (draft 2020-12) validator for the subset of keywords Flash Deal's event schemas
/// use, so tests can check what the services put on Kafka against `schemas/events/`.
///
/// Supported assertions: `type` (one name or a list; `integer` is any number without a fractional
/// part), `const`, `enum`, `pattern` (ECMA-262 semantics: `$` matches only at the very end),
/// `format: date-time` (RFC 3339 §5.6, leap seconds refused), `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength` (counted in code points),
/// `required`, `properties`, `additionalProperties` (`false` or a schema), `$ref` to `#/$defs/…`
/// (applied together with its sibling keywords), and boolean schemas. Annotations (`$schema`, `$id`,
/// `title`, `description`, `$comment`, `examples`, `default`) are accepted and ignored.
///
/// Any other keyword — or an unknown `format` — makes loading fail: a validator that silently
/// skipped a keyword would pass documents the schema refuses.
///
/// Violations name the failing instance location as a JSON pointer (`/quantity`, or `(root)`);
/// `required` and `additionalProperties` are reported at the object, as the specification places them.
public struct JSONSchemaValidator: Sendable {
    /// One failed assertion.
    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        /// JSON pointer to the failing value; `""` is the document itself.
        public let path: String
        /// The keyword that failed, e.g. `"pattern"`.
        public let keyword: String
        public let message: String

        public var description: String { "\(path.isEmpty ? "(root)" : path): \(message)" }
    }

    private let root: Schema
    private let definitions: [String: Schema]

    /// Compiles a schema given as a JSON value (`JSONSerialization` output or Swift literals).
    public init(schema: Any) throws(JSONSchemaError) {
        guard let value = JSONValue(schema) else { throw JSONSchemaError("the schema is not a JSON value") }
        var compiler = SchemaCompiler(document: value)
        root = try compiler.compileRoot()
        definitions = compiler.definitions
    }

    /// Compiles a schema from its JSON text.
    public init(schemaJSON text: String) throws(JSONSchemaError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw JSONSchemaError("the schema is not valid JSON: \(error)")
        }
        try self.init(schema: object)
    }

    /// Loads and compiles the schema in the file at `path`.
    public static func load(schemaAt path: String) throws -> JSONSchemaValidator {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw JSONSchemaError("cannot read \(path): \(error)")
        }
        do {
            return try JSONSchemaValidator(
                schema: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
        } catch let error as JSONSchemaError {
            throw JSONSchemaError("\(path): \(error.message)")
        } catch {
            throw JSONSchemaError("\(path) is not valid JSON: \(error)")
        }
    }

    /// Where the schema of events of type `type` lives: `schemas/events/<type>.schema.json`.
    public static func schemaPath(forEvent type: String) -> String {
        TestStack.root + "/schemas/events/\(type).schema.json"
    }

    /// The validator for events whose `type` is `type`; throws when the repository has no such schema.
    public static func forEvent(_ type: String) throws -> JSONSchemaValidator {
        let path = schemaPath(forEvent: type)
        guard FileManager.default.fileExists(atPath: path) else {
            throw JSONSchemaError("no schema for event type \(type.debugDescription) at \(path)")
        }
        return try load(schemaAt: path)
    }

    /// Checks an event as it travels (for example a Kafka message's value): the bytes must be JSON,
    /// name a `type` that has a schema, and satisfy that schema. Returns the violations; none means valid.
    public static func validateEvent(jsonBytes bytes: [UInt8]) throws -> [String] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            return ["(root): not JSON: \(error)"]
        }
        guard let type = (object as? [String: Any])?["type"] as? String else {
            return ["(root): not an object with a string \"type\""]
        }
        guard FileManager.default.fileExists(atPath: schemaPath(forEvent: type)) else {
            return ["/type: no schema for event type \(type.debugDescription)"]
        }
        return try forEvent(type).validate(object)
    }

    /// The violations of `json` (a value from `JSONSerialization`, or Swift strings, numbers, booleans,
    /// `NSNull`, arrays and `[String: Any]` dictionaries), as `"<JSON pointer>: <message>"`; empty when valid.
    public func validate(_ json: Any) -> [String] {
        violations(json).map(\.description)
    }

    /// Parses `text` and validates it; text that is not JSON is one violation.
    public func validate(jsonText text: String) -> [String] {
        do {
            return validate(try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]))
        } catch {
            return ["(root): not JSON: \(error)"]
        }
    }

    /// The violations of `json` with their pointers and keywords; empty when valid.
    public func violations(_ json: Any) -> [Violation] {
        guard let value = JSONValue(json) else {
            return [Violation(path: "", keyword: "type", message: "\(Swift.type(of: json)) is not a JSON value")]
        }
        var found: [Violation] = []
        check(value, against: root, at: "", into: &found)
        return found
    }

    // MARK: Validation

    private func check(_ value: JSONValue, against schema: Schema, at path: String, into found: inout [Violation]) {
        switch schema {
        case .always: return
        case .never:
            found.append(Violation(path: path, keyword: "false", message: "no value is allowed here"))
        case .keywords(let k):
            check(value, against: k, at: path, into: &found)
        }
    }

    private func check(_ value: JSONValue, against k: Keywords, at path: String, into found: inout [Violation]) {
        func fail(_ keyword: String, _ message: String) {
            found.append(Violation(path: path, keyword: keyword, message: message))
        }
        if let ref = k.ref, let target = definitions[ref] {
            check(value, against: target, at: path, into: &found)
        }
        if let types = k.types, !types.contains(where: { value.isOfType($0) }) {
            let expected = types.map(\.rawValue).joined(separator: " or ")
            fail("type", "expected \(expected), got \(value.typeName) \(value.rendered)")
        }
        if let constant = k.constant, value != constant {
            fail("const", "expected \(constant.rendered), got \(value.rendered)")
        }
        if let allowed = k.enumeration, !allowed.contains(value) {
            fail("enum", "\(value.rendered) is not one of \(allowed.map(\.rendered).joined(separator: ", "))")
        }
        if case .string(let text) = value {
            let length = text.unicodeScalars.count
            if let minLength = k.minLength, length < minLength {
                fail("minLength", "\(value.rendered) is shorter than \(minLength) character(s)")
            }
            if let maxLength = k.maxLength, length > maxLength {
                fail("maxLength", "\(value.rendered) is longer than \(maxLength) character(s) (\(length))")
            }
            if let pattern = k.pattern, !pattern.matches(text) {
                fail("pattern", "\(value.rendered) does not match \(pattern.source)")
            }
            if let format = k.format, !format.accepts(text) {
                fail("format", "\(value.rendered) is not a \(format.rawValue) (RFC 3339)")
            }
        }
        if case .number(let number) = value {
            if let minimum = k.minimum, number < minimum {
                fail("minimum", "\(value.rendered) is less than the minimum \(minimum.rendered)")
            }
            if let maximum = k.maximum, maximum < number {
                fail("maximum", "\(value.rendered) is greater than the maximum \(maximum.rendered)")
            }
            if let bound = k.exclusiveMinimum, !(bound < number) {
                fail("exclusiveMinimum", "\(value.rendered) is not greater than \(bound.rendered)")
            }
            if let bound = k.exclusiveMaximum, !(number < bound) {
                fail("exclusiveMaximum", "\(value.rendered) is not less than \(bound.rendered)")
            }
        }
        if case .object(let members) = value {
            for name in k.required where members[name] == nil {
                fail("required", "missing required property \(JSONValue.string(name).rendered)")
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                let memberPath = path + "/" + JSONValue.escapePointerToken(name)
                if let propertySchema = k.properties[name] {
                    check(member, against: propertySchema, at: memberPath, into: &found)
                } else if let additional = k.additionalProperties {
                    if case .never = additional {
                        fail("additionalProperties", "property \(JSONValue.string(name).rendered) is not allowed")
                    } else {
                        check(member, against: additional, at: memberPath, into: &found)
                    }
                }
            }
        }
    }
}

/// A schema that cannot be used: unreadable, not JSON, or using a keyword this validator does not support.
public struct JSONSchemaError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "JSON schema: \(message)" }
}

// MARK: - Compiled schemas

indirect enum Schema: Sendable {
    case always
    case never
    case keywords(Keywords)
}

struct Keywords: Sendable {
    var ref: String?
    var types: [JSONType]?
    var constant: JSONValue?
    var enumeration: [JSONValue]?
    var minLength: Int?
    var maxLength: Int?
    var pattern: ECMAPattern?
    var format: StringFormat?
    var minimum: JSONNumber?
    var maximum: JSONNumber?
    var exclusiveMinimum: JSONNumber?
    var exclusiveMaximum: JSONNumber?
    var required: [String] = []
    var properties: [String: Schema] = [:]
    var additionalProperties: Schema?
}

enum JSONType: String, Sendable, CaseIterable {
    case null, boolean, object, array, number, string, integer
}

enum StringFormat: String, Sendable {
    case dateTime = "date-time"

    func accepts(_ text: String) -> Bool {
        switch self {
        case .dateTime: RFC3339.isDateTime(text)
        }
    }
}

/// Turns a schema document into `Schema` values, resolving `$ref`s to `#/$defs/…`.
struct SchemaCompiler {
    static let draft = "https://json-schema.org/draft/2020-12/schema"
    static let annotations: Set<String> = ["$schema", "$id", "title", "description", "$comment", "examples", "default"]

    let document: JSONValue
    var definitions: [String: Schema] = [:]
    private var pendingReferences: [(ref: String, at: String)] = []

    init(document: JSONValue) { self.document = document }

    mutating func compileRoot() throws(JSONSchemaError) -> Schema {
        if case .object(let members) = document, let declared = members["$schema"], declared != .string(Self.draft) {
            throw JSONSchemaError("$schema must be \(Self.draft), not \(declared.rendered)")
        }
        let root = try compile(document, at: "", isRoot: true)
        // Compile every referenced definition once; definitions may refer to each other.
        while let (ref, origin) = pendingReferences.popLast() {
            guard definitions[ref] == nil else { continue }
            guard let target = resolve(ref) else {
                throw JSONSchemaError(
                    "$ref \(ref.debugDescription) at \(origin.isEmpty ? "(root)" : origin) points nowhere")
            }
            definitions[ref] = .always  // placeholder: a definition that refers to itself terminates
            definitions[ref] = try compile(target, at: String(ref.dropFirst()), isRoot: false)
        }
        return root
    }

    private func resolve(_ ref: String) -> JSONValue? {
        var current = document
        for token in ref.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let name = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard case .object(let members) = current, let next = members[name] else { return nil }
            current = next
        }
        return current
    }

    private mutating func compile(_ value: JSONValue, at path: String, isRoot: Bool) throws(JSONSchemaError) -> Schema {
        func fail(_ message: String) -> JSONSchemaError {
            JSONSchemaError("\(message) at \(path.isEmpty ? "(root)" : path)")
        }
        if case .bool(let allowed) = value { return allowed ? .always : .never }
        guard case .object(let members) = value else {
            throw fail("a schema must be an object or a boolean, not \(value.rendered)")
        }
        var k = Keywords()
        for (keyword, argument) in members.sorted(by: { $0.key < $1.key }) {
            let here = path + "/" + JSONValue.escapePointerToken(keyword)
            switch keyword {
            case _ where Self.annotations.contains(keyword):
                continue
            case "$defs":
                guard isRoot else { throw fail("$defs is supported only at the root") }
                guard case .object = argument else { throw fail("$defs must be an object") }
            case "$ref":
                guard case .string(let ref) = argument, ref.hasPrefix("#/$defs/") else {
                    throw fail("only $ref to \"#/$defs/<name>\" is supported, not \(argument.rendered)")
                }
                k.ref = ref
                pendingReferences.append((ref, here))
            case "type":
                let names: [JSONValue]
                switch argument {
                case .string: names = [argument]
                case .array(let list) where !list.isEmpty: names = list
                default: throw fail("type must be a name or a non-empty list of names")
                }
                k.types = try names.map { (name: JSONValue) throws(JSONSchemaError) -> JSONType in
                    guard case .string(let raw) = name, let type = JSONType(rawValue: raw) else {
                        throw fail("unknown type \(name.rendered)")
                    }
                    return type
                }
            case "const":
                k.constant = argument
            case "enum":
                guard case .array(let list) = argument else { throw fail("enum must be a list") }
                k.enumeration = list
            case "minLength", "maxLength":
                guard case .number(let n) = argument, let count = n.nonNegativeInt else {
                    throw fail("\(keyword) must be a non-negative integer")
                }
                if keyword == "minLength" { k.minLength = count } else { k.maxLength = count }
            case "pattern":
                guard case .string(let source) = argument else { throw fail("pattern must be a string") }
                do { k.pattern = try ECMAPattern(source) } catch {
                    throw fail("pattern \(source.debugDescription) does not compile: \(error)")
                }
            case "format":
                guard case .string(let name) = argument, let format = StringFormat(rawValue: name) else {
                    throw fail("unsupported format \(argument.rendered) (supported: date-time)")
                }
                k.format = format
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                guard case .number(let bound) = argument else { throw fail("\(keyword) must be a number") }
                switch keyword {
                case "minimum": k.minimum = bound
                case "maximum": k.maximum = bound
                case "exclusiveMinimum": k.exclusiveMinimum = bound
                default: k.exclusiveMaximum = bound
                }
            case "required":
                guard case .array(let list) = argument else { throw fail("required must be a list of names") }
                k.required = try list.map { (name: JSONValue) throws(JSONSchemaError) -> String in
                    guard case .string(let text) = name else { throw fail("required must list strings") }
                    return text
                }
            case "properties":
                guard case .object(let schemas) = argument else { throw fail("properties must be an object") }
                for (name, subschema) in schemas {
                    k.properties[name] = try compile(
                        subschema, at: here + "/" + JSONValue.escapePointerToken(name), isRoot: false)
                }
            case "additionalProperties":
                k.additionalProperties = try compile(argument, at: here, isRoot: false)
            default:
                throw fail("unsupported keyword \(keyword.debugDescription)")
            }
        }
        return .keywords(k)
    }
}
