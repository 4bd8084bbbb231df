import Foundation
import TestSupport
import Testing

/// Every keyword the validator supports, on a schema of its own, with documents that pass and fail
/// it; the same documents are cross-checked against Python's `jsonschema`.
enum KeywordSamples {
    static let schema = #"""
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "$id": "urn:flashdeal:test:keywords",
          "title": "every supported keyword",
          "type": "object",
          "required": ["n"],
          "properties": {
            "n": {"type": "number", "minimum": -1.5, "maximum": 10},
            "i": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
            "s": {"type": "string", "minLength": 2, "maxLength": 4},
            "u": {"type": ["string", "null"]},
            "e": {"enum": [1, "one", true, null, [1, 2], {"k": "v"}]},
            "c": {"const": {"a": [1, 2]}},
            "b": {"type": "boolean"},
            "t": {"type": "string", "format": "date-time"},
            "p": {"type": "string", "pattern": "ab+c"},
            "a": {"pattern": "^[a-z]+$"},
            "r": {"$ref": "#/$defs/positive", "maximum": 5},
            "x": false,
            "y": true,
            "o": {
              "type": "object",
              "required": ["k"],
              "properties": {"k": {"type": "string"}},
              "additionalProperties": {"type": "integer"}
            }
          },
          "$defs": {
            "positive": {"type": "integer", "minimum": 1},
            "unused": {"type": "string"}
          }
        }
        """#

    /// Documents and the pointers at which they violate the schema.
    static let documents: [(document: String, pointers: Set<String>)] = [
        (#"{"n": 0}"#, []),
        (#"{}"#, [""]),
        (#"[]"#, [""]),
        (#""n""#, [""]),
        (#"null"#, [""]),
        (#"{"n": 10}"#, []), (#"{"n": 10.0}"#, []), (#"{"n": 10.5}"#, ["/n"]), (#"{"n": -1.5}"#, []),
        (#"{"n": -1.6}"#, ["/n"]), (#"{"n": "5"}"#, ["/n"]), (#"{"n": true}"#, ["/n"]), (#"{"n": null}"#, ["/n"]),
        (#"{"n": 1e1}"#, []), (#"{"n": 1e2}"#, ["/n"]),
        (#"{"n": 0, "i": 1}"#, []), (#"{"n": 0, "i": 1.0}"#, []), (#"{"n": 0, "i": 0}"#, ["/i"]),
        (#"{"n": 0, "i": 99}"#, []), (#"{"n": 0, "i": 100}"#, ["/i"]), (#"{"n": 0, "i": 1.5}"#, ["/i"]),
        (#"{"n": 0, "i": -0}"#, ["/i"]), (#"{"n": 0, "i": 99.99}"#, ["/i"]),
        (#"{"n": 0, "s": "ab"}"#, []), (#"{"n": 0, "s": "a"}"#, ["/s"]), (#"{"n": 0, "s": "abcde"}"#, ["/s"]),
        (#"{"n": 0, "s": "é"}"#, ["/s"]), (#"{"n": 0, "s": "😀😀"}"#, []), (#"{"n": 0, "s": "😀😀😀😀😀"}"#, ["/s"]),
        (#"{"n": 0, "s": "e\u0301"}"#, []), (#"{"n": 0, "s": 12}"#, ["/s"]),
        (#"{"n": 0, "u": null}"#, []), (#"{"n": 0, "u": "x"}"#, []), (#"{"n": 0, "u": 1}"#, ["/u"]),
        (#"{"n": 0, "e": 1}"#, []), (#"{"n": 0, "e": 1.0}"#, []), (#"{"n": 0, "e": true}"#, []),
        (#"{"n": 0, "e": false}"#, ["/e"]), (#"{"n": 0, "e": 0}"#, ["/e"]), (#"{"n": 0, "e": "One"}"#, ["/e"]),
        (#"{"n": 0, "e": null}"#, []), (#"{"n": 0, "e": [1, 2]}"#, []), (#"{"n": 0, "e": [2, 1]}"#, ["/e"]),
        (#"{"n": 0, "e": {"k": "v"}}"#, []), (#"{"n": 0, "e": {"k": "v", "l": 1}}"#, ["/e"]),
        (#"{"n": 0, "c": {"a": [1, 2]}}"#, []), (#"{"n": 0, "c": {"a": [1, 2.0]}}"#, []),
        (#"{"n": 0, "c": {"a": [1, true]}}"#, ["/c"]), (#"{"n": 0, "c": {"a": [1]}}"#, ["/c"]),
        (#"{"n": 0, "b": false}"#, []), (#"{"n": 0, "b": 0}"#, ["/b"]), (#"{"n": 0, "b": "true"}"#, ["/b"]),
        (#"{"n": 0, "t": "2026-11-25T10:00:00.123Z"}"#, []), (#"{"n": 0, "t": "2026-11-25T10:00:00Z"}"#, []),
        (#"{"n": 0, "t": "2026-11-25t10:00:00z"}"#, []), (#"{"n": 0, "t": "2026-11-25T10:00:00.123456789+09:00"}"#, []),
        (#"{"n": 0, "t": "2026-11-25T10:00:00-23:59"}"#, []), (#"{"n": 0, "t": "2024-02-29T00:00:00Z"}"#, []),
        (#"{"n": 0, "t": "2000-02-29T00:00:00Z"}"#, []), (#"{"n": 0, "t": "2100-02-29T00:00:00Z"}"#, ["/t"]),
        (#"{"n": 0, "t": "2026-04-31T00:00:00Z"}"#, ["/t"]), (#"{"n": 0, "t": "2026-13-01T00:00:00Z"}"#, ["/t"]),
        (#"{"n": 0, "t": "2026-11-25T24:00:00Z"}"#, ["/t"]), (#"{"n": 0, "t": "2026-11-25T10:60:00Z"}"#, ["/t"]),
        (#"{"n": 0, "t": "2026-11-25T23:59:60Z"}"#, ["/t"]), (#"{"n": 0, "t": "2026-11-25T10:00:00"}"#, ["/t"]),
        (#"{"n": 0, "t": "2026-11-25T10:00:00+0900"}"#, ["/t"]),
        (#"{"n": 0, "t": "2026-11-25T10:00:00+24:00"}"#, ["/t"]),
        (#"{"n": 0, "t": "2026-11-25 10:00:00Z"}"#, ["/t"]), (#"{"n": 0, "t": "2026-11-25T10:00:00.Z"}"#, ["/t"]),
        (#"{"n": 0, "t": "2026-11-25"}"#, ["/t"]), (#"{"n": 0, "t": "２０２６-11-25T10:00:00Z"}"#, ["/t"]),
        (#"{"n": 0, "t": 1795600800}"#, ["/t"]), (#"{"n": 0, "t": ""}"#, ["/t"]),
        (#"{"n": 0, "p": "abbbc"}"#, []), (#"{"n": 0, "p": "xxabcxx"}"#, []), (#"{"n": 0, "p": "ac"}"#, ["/p"]),
        (#"{"n": 0, "a": "abc"}"#, []), (#"{"n": 0, "a": "abC"}"#, ["/a"]), (#"{"n": 0, "a": 5}"#, []),
        (#"{"n": 0, "a": "abc\u2029x"}"#, ["/a"]), (#"{"n": 0, "a": ""}"#, ["/a"]),
        (#"{"n": 0, "r": 3}"#, []), (#"{"n": 0, "r": 0}"#, ["/r"]), (#"{"n": 0, "r": 6}"#, ["/r"]),
        (#"{"n": 0, "r": 2.5}"#, ["/r"]),
        (#"{"n": 0, "x": 1}"#, ["/x"]), (#"{"n": 0, "x": null}"#, ["/x"]), (#"{"n": 0, "y": {"any": ["thing"]}}"#, []),
        (#"{"n": 0, "unknown": [1, {"deep": true}]}"#, []),
        (#"{"n": 0, "o": {"k": "v"}}"#, []), (#"{"n": 0, "o": {"k": "v", "z": 1}}"#, []),
        (#"{"n": 0, "o": {"k": "v", "z": "no"}}"#, ["/o/z"]), (#"{"n": 0, "o": {}}"#, ["/o"]),
        (#"{"n": 0, "o": {"k": 1}}"#, ["/o/k"]), (#"{"n": 0, "o": {"k": "v", "a/b~c": "no"}}"#, ["/o/a~1b~0c"]),
        (#"{"n": 0, "o": []}"#, ["/o"]),
        (#"{"n": "x", "s": "y", "o": {"z": "w"}, "x": 0}"#, ["/n", "/s", "/o", "/o/z", "/x"]),
    ]

    /// Documents where Python's `jsonschema` reports a `false` subschema's violation at the parent
    /// object instead of at the value (its `descend` returns before adding the path); the specification
    /// and the Swift validator place it at the value.
    static let falseSubschemaDocuments: Set<String> = [
        #"{"n": 0, "x": 1}"#, #"{"n": 0, "x": null}"#, #"{"n": "x", "s": "y", "o": {"z": "w"}, "x": 0}"#,
    ]
}

@Suite("JSON Schema validator")
struct ValidatorKeywordTests {
    @Test("every supported keyword passes and fails the documents it should")
    func keywords() throws {
        let validator = try JSONSchemaValidator(schemaJSON: KeywordSamples.schema)
        for (document, expected) in KeywordSamples.documents {
            let object = try JSONSerialization.jsonObject(with: Data(document.utf8), options: [.fragmentsAllowed])
            #expect(Set(validator.violations(object).map(\.path)) == expected, "\(document)")
        }
    }

    @Test("Swift values validate like the JSON they stand for")
    func swiftValues() throws {
        let validator = try JSONSchemaValidator(schemaJSON: KeywordSamples.schema)
        #expect(validator.validate(["n": 1, "i": 5, "b": true, "u": NSNull(), "e": [1, 2]] as [String: Any]) == [])
        #expect(validator.validate(["n": 1.5, "c": ["a": [1, 2]]] as [String: Any]) == [])
        // A Swift Bool is not a number, and an Int is not a boolean.
        #expect(validator.violations(["n": true] as [String: Any]).map(\.path) == ["/n"])
        #expect(validator.violations(["n": 0, "b": 1] as [String: Any]).map(\.path) == ["/b"])
        #expect(validator.violations(["n": 0, "e": false] as [String: Any]).map(\.path) == ["/e"])
        #expect(validator.violations(Date()).map(\.path) == [""])
    }

    @Test("patterns follow ECMA-262: $ is the very end, even before a trailing line break")
    func dollarIsTheEnd() throws {
        let validator = try JSONSchemaValidator(schemaJSON: #"{"type": "string", "pattern": "^ord_[0-9a-f]{4}$"}"#)
        #expect(validator.validate("ord_00ff") == [])
        for bad in ["ord_00ff\n", "ord_00ff\r\n", "ord_00ff\u{2028}", "ord_00ffx", "xord_00ff"] {
            #expect(validator.validate(bad).count == 1, "\(bad.debugDescription)")
        }
        // `$` inside a class and an escaped `\$` stay literal.
        let literal = try JSONSchemaValidator(schemaJSON: #"{"pattern": "^[$]\\$x$"}"#)
        #expect(literal.validate("$$x") == [])
        #expect(literal.validate("$$x\n").count == 1)
    }

    @Test(
        "a schema using something the validator cannot check does not load",
        arguments: [
            #"{"oneOf": [{"type": "string"}]}"#,
            #"{"properties": {"a": {"items": {"type": "string"}}}}"#,
            #"{"type": "string", "format": "email"}"#,
            #"{"$ref": "other.schema.json#/$defs/x"}"#,
            ##"{"$ref": "#/$defs/missing", "$defs": {}}"##,
            #"{"properties": {"a": {"$defs": {"x": true}}}}"#,
            #"{"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"}"#,
            #"{"type": "float"}"#,
            #"{"pattern": "(unclosed"}"#,
            #"{"minLength": -1}"#,
            #"{"required": "a"}"#,
            #"{"properties": {"a": 5}}"#,
            #"[]"#,
            #"not json"#,
        ])
    func unsupportedSchemas(schema: String) {
        #expect(throws: JSONSchemaError.self) { try JSONSchemaValidator(schemaJSON: schema) }
    }

    @Test("a schema file that does not exist or is not JSON does not load")
    func unreadableFiles() throws {
        #expect(throws: (any Error).self) {
            try JSONSchemaValidator.load(schemaAt: TestStack.root + "/schemas/events/Nope.schema.json")
        }
        #expect(throws: (any Error).self) { try JSONSchemaValidator.load(schemaAt: TestStack.root + "/README.md") }
    }

    @Test("definitions may refer to each other, and to themselves")
    func recursiveDefinitions() throws {
        let validator = try JSONSchemaValidator(
            schemaJSON: #"""
                {"$ref": "#/$defs/node",
                 "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}, "v": {"$ref": "#/$defs/v"}}},
                           "v": {"type": "integer"}}}
                """#)
        #expect(validator.validate(jsonText: #"{"v": 1, "next": {"v": 2, "next": {}}}"#) == [])
        #expect(
            validator.violations(try jsonObject(#"{"v": 1, "next": {"v": 2, "next": {"v": "x"}}}"#)).map(\.path)
                == ["/next/next/v"])
    }
}
