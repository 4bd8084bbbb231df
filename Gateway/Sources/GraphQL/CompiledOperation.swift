import GraphQL
import OrderedCollections

/// An operation on one of the hot root fields (`admission`, `joinWaitingRoom`, `createOrder`,
/// `order`), compiled once when its document is first prepared, and then run without the general
/// executor: its variables are checked against a plan made from their declared types, the field's
/// arguments are bound from a plan, the shared resolver (``GatewaySchema/resolveAdmission(_:_:_:)``
/// and its siblings) runs, and the result is completed along a plan of the selection with the
/// schema's own serializers.
///
/// Only the ordinary shape compiles — one root field, no fragments, no directives, scalar and
/// nested object selections, variables of the types these fields take — and only the ordinary
/// request runs compiled: variables present with the expected JSON types. Anything else (a missing
/// or null variable, a number where a string is expected, an unknown input field) goes to the
/// general executor, which is the reference: it decides the answer, error messages included.
/// `CompiledOperationDifferentialTests` checks that both paths give the same answers.
struct CompiledOperation: Sendable {
    enum Root: String, Sendable, CaseIterable {
        case admission, joinWaitingRoom, createOrder, order

        var isMutation: Bool { self == .joinWaitingRoom || self == .createOrder }
    }

    /// The declared type of a variable, as far as the compiled path accepts it.
    enum InputKind: Sendable {
        case id, string, int
        case createOrderInput
    }

    struct Variable: Sendable {
        let name: String
        let kind: InputKind
        let nonNull: Bool
        let defaultValue: Map?
    }

    indirect enum Argument: Sendable {
        case variable(String)
        case constant(Map)
        /// An input object literal: its fields in order, and the defaults of the fields it leaves out.
        case object([(String, Argument)])
    }

    /// One selected field: a leaf serialized by its type, `__typename`, or an object with its own plan.
    struct Selected: Sendable {
        enum Kind: Sendable {
            case leaf(any GraphQLLeafType)
            case typeName(String)
            case object([Selected])
        }
        let key: String
        let name: String
        let parentType: String
        let nonNull: Bool
        let kind: Kind
    }

    let root: Root
    let responseKey: String
    let rootNonNull: Bool
    let rootNode: Field
    let variables: [Variable]
    let arguments: [(String, Argument)]
    let selection: [Selected]

    // MARK: Running

    /// The request's variables for the compiled path, or nil when they need the general executor.
    func coerce(_ raw: [String: Map]) -> [String: Map]? {
        var coerced: [String: Map] = [:]
        for variable in variables {
            switch raw[variable.name] ?? .undefined {
            case .undefined:
                if let value = variable.defaultValue {
                    coerced[variable.name] = value
                } else if variable.nonNull {
                    return nil
                }
            case .null: return nil
            case let value:
                guard let accepted = Self.accept(value, variable.kind) else { return nil }
                coerced[variable.name] = accepted
            }
        }
        return coerced
    }

    static func accept(_ value: Map, _ kind: InputKind) -> Map? {
        switch (kind, value) {
        case (.id, .string), (.string, .string): return value
        case (.int, .number(let number)):
            guard number.storageType == .int, let int = Int32(exactly: number.intValue) else { return nil }
            return .number(Number(Int(int)))
        case (.createOrderInput, .dictionary(let fields)):
            var input: OrderedDictionary<String, Map> = [:]
            for key in fields.keys where !["dealId", "quantity", "idempotencyKey", "pass"].contains(key) {
                return nil
            }
            guard let deal = fields["dealId"].flatMap({ accept($0, .id) }),
                let key = fields["idempotencyKey"].flatMap({ accept($0, .string) })
            else { return nil }
            input["dealId"] = deal
            if let quantity = fields["quantity"] {
                guard let accepted = accept(quantity, .int) else { return nil }
                input["quantity"] = accepted
            } else {
                input["quantity"] = .number(1)
            }
            input["idempotencyKey"] = key
            if let pass = fields["pass"] {
                guard let accepted = accept(pass, .string) else { return nil }
                input["pass"] = accepted
            }
            return .dictionary(input)
        default: return nil
        }
    }

    /// Runs the operation: the same resolver as the general executor, the same result shape.
    func execute(api: ShopperAPI, variables: [String: Map], context: CallContext) async -> GraphQLResult {
        result(of: await resolve(api: api, variables: variables, context: context))
    }

    /// The root field's object from the shared resolver, or the located error it failed with.
    func resolve(api: ShopperAPI, variables: [String: Map], context: CallContext) async -> Result<
        GatewaySchema.Object?, GraphQLError
    > {
        var args: OrderedDictionary<String, Map> = [:]
        for (name, argument) in arguments {
            if let value = Self.bind(argument, variables) { args[name] = value }
        }
        do {
            switch root {
            case .admission: return .success(try await GatewaySchema.resolveAdmission(api, .dictionary(args), context))
            case .joinWaitingRoom:
                return .success(try await GatewaySchema.resolveJoinWaitingRoom(api, .dictionary(args), context))
            case .createOrder:
                return .success(try await GatewaySchema.resolveCreateOrder(api, .dictionary(args), context))
            case .order: return .success(try await GatewaySchema.resolveOrder(api, .dictionary(args), context))
            }
        } catch {
            return .failure(
                (error as? GraphQLError)
                    ?? GraphQLError(
                        message: String(describing: error), nodes: [rootNode], path: [responseKey],
                        originalError: error))
        }
    }

    /// A resolved root field completed as a `GraphQLResult` (the general executor's shape).
    func result(of resolved: Result<GatewaySchema.Object?, GraphQLError>) -> GraphQLResult {
        switch resolved {
        case .failure(let error): return failed(error)
        case .success(nil):
            if rootNonNull { return failed(Self.nullError(parent: rootParent, field: root.rawValue)) }
            return GraphQLResult(data: .dictionary([responseKey: .null]))
        case .success(let object?):
            do {
                let completed = try Self.complete(object, selection)
                return GraphQLResult(data: .dictionary([responseKey: completed]))
            } catch {
                return failed(error)
            }
        }
    }

    var rootParent: String { root.isMutation ? "Mutation" : "Query" }

    /// A failed root field: with a non-null root the whole `data` is null, otherwise the field is.
    private func failed(_ error: GraphQLError) -> GraphQLResult {
        rootNonNull
            ? GraphQLResult(data: nil, errors: [error])
            : GraphQLResult(data: .dictionary([responseKey: .null]), errors: [error])
    }

    static func nullError(parent: String, field: String) -> GraphQLError {
        GraphQLError(message: "Cannot return null for non-nullable field \(parent).\(field).")
    }

    static func bind(_ argument: Argument, _ variables: [String: Map]) -> Map? {
        switch argument {
        case .variable(let name): return variables[name]
        case .constant(let value): return value
        case .object(let fields):
            var object: OrderedDictionary<String, Map> = [:]
            for (name, field) in fields {
                if let value = bind(field, variables) { object[name] = value }
            }
            return .dictionary(object)
        }
    }

    /// Completes an object along its plan. A null in a non-null field throws, as the executor's
    /// completion does; a nullable object field that fails becomes null.
    static func complete(_ object: GatewaySchema.Object, _ plan: [Selected]) throws(GraphQLError) -> Map {
        var fields: OrderedDictionary<String, Map> = [:]
        fields.reserveCapacity(plan.count)
        for selected in plan {
            let value: Map
            switch selected.kind {
            case .typeName(let name): value = .string(name)
            case .leaf(let type):
                if let raw = object[selected.name], let present = Self.present(raw) {
                    do { value = try type.serialize(value: present) } catch let error as GraphQLError {
                        throw error
                    } catch {
                        throw GraphQLError(error)
                    }
                } else {
                    value = .null
                }
            case .object(let children):
                if let raw = object[selected.name], let present = Self.present(raw),
                    let child = present as? GatewaySchema.Object
                {
                    if selected.nonNull {
                        value = try complete(child, children)
                    } else {
                        do { value = try complete(child, children) } catch { value = .null }
                    }
                } else {
                    value = .null
                }
            }
            if case .null = value, selected.nonNull {
                throw nullError(parent: selected.parentType, field: selected.name)
            }
            fields[selected.key] = value
        }
        return .dictionary(fields)
    }

    /// nil for a value the executor counts as null (an empty optional inside the existential, or `Map.null`).
    static func present(_ value: Any) -> Any? {
        if let optional = value as? any OptionalValue { return optional.wrappedAny }
        if let map = value as? Map {
            switch map {
            case .null, .undefined: return nil
            default: return map
            }
        }
        return value
    }
}

/// Lets an optional stored in an existential be looked through without reflection.
private protocol OptionalValue {
    var wrappedAny: Any? { get }
}

extension Optional: OptionalValue {
    fileprivate var wrappedAny: Any? {
        switch self {
        case .none: nil
        case .some(let wrapped): (wrapped as? any OptionalValue).map { $0.wrappedAny } ?? wrapped
        }
    }
}
