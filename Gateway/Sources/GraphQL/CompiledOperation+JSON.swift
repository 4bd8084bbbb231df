import GraphQL

/// The compiled path's answer written straight from the plan: a successful operation's body is
/// produced without building GraphQL `Map` values first. Anything else — an error, a null where
/// the schema forbids one — is completed as a `GraphQLResult` by ``CompiledOperation/result(of:)``,
/// so error answers keep coming from one place. `CompiledOperationDifferentialTests` compares the
/// bytes with the general executor's.
extension CompiledOperation {
    enum Answer {
        /// The whole response body of an answer without errors.
        case body([UInt8])
        case result(GraphQLResult)
    }

    func run(api: ShopperAPI, variables: [String: Map], context: CallContext) async -> Answer {
        let resolved = await resolve(api: api, variables: variables, context: context)
        guard case .success(let object?) = resolved else { return .result(result(of: resolved)) }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"data":{"#.utf8)
        MapJSON.writeString(responseKey, into: &out)
        out.append(UInt8(ascii: ":"))
        do {
            try Self.write(object, selection, into: &out)
        } catch {
            return .result(result(of: resolved))
        }
        out.append(contentsOf: "}}".utf8)
        return .body(out)
    }

    /// Writes an object along its plan exactly as ``complete(_:_:)`` followed by `MapJSON.write`
    /// would; throws where `complete` throws.
    static func write(_ object: GatewaySchema.Object, _ plan: [Selected], into out: inout [UInt8]) throws(GraphQLError)
    {
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: String, _ out: inout [UInt8]) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            MapJSON.writeString(name, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        for selected in plan {
            switch selected.kind {
            case .typeName(let name):
                key(selected.key, &out)
                MapJSON.writeString(name, into: &out)
            case .leaf(let type):
                var value = Map.null
                if let raw = object[selected.name], let present = present(raw) {
                    do { value = try type.serialize(value: present) } catch let error as GraphQLError {
                        throw error
                    } catch {
                        throw GraphQLError(error)
                    }
                }
                if case .null = value, selected.nonNull {
                    throw nullError(parent: selected.parentType, field: selected.name)
                }
                if case .undefined = value { continue }
                key(selected.key, &out)
                MapJSON.write(value, into: &out)
            case .object(let children):
                guard let raw = object[selected.name], let present = present(raw),
                    let child = present as? GatewaySchema.Object
                else {
                    if selected.nonNull { throw nullError(parent: selected.parentType, field: selected.name) }
                    key(selected.key, &out)
                    out.append(contentsOf: "null".utf8)
                    continue
                }
                key(selected.key, &out)
                if selected.nonNull {
                    try write(child, children, into: &out)
                } else {
                    let mark = out.count
                    do { try write(child, children, into: &out) } catch {
                        out.removeSubrange(mark...)
                        out.append(contentsOf: "null".utf8)
                    }
                }
            }
        }
        out.append(UInt8(ascii: "}"))
    }
}
