import GraphQL
import OrderedCollections

/// Compiling a validated operation into a ``CompiledOperation``: nil whenever the operation has
/// anything the compiled path does not do, and the general executor keeps it.
extension CompiledOperation {
    static func compile(_ operation: OperationDefinition, schema: GraphQLSchema) -> CompiledOperation? {
        guard operation.directives.isEmpty, operation.selectionSet.selections.count == 1,
            let field = operation.selectionSet.selections.first as? Field, field.directives.isEmpty,
            let root = Root(rawValue: field.name.value), root.isMutation == (operation.operation == .mutation),
            operation.operation != .subscription
        else { return nil }
        guard let parent = root.isMutation ? schema.mutationType : schema.queryType,
            let definition = (try? parent.fields())?[root.rawValue]
        else { return nil }

        var variables: [Variable] = []
        for declared in operation.variableDefinitions {
            guard declared.directives.isEmpty, let (kind, nonNull) = inputKind(declared.type) else { return nil }
            var defaultValue: Map?
            if let literal = declared.defaultValue {
                guard let value = constant(literal, kind: kind) else { return nil }
                defaultValue = value
            }
            variables.append(
                Variable(name: declared.variable.name.value, kind: kind, nonNull: nonNull, defaultValue: defaultValue))
        }
        let kinds = Dictionary(variables.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })

        var arguments: [(String, Argument)] = []
        for argument in field.arguments {
            guard let declared = definition.args[argument.name.value],
                let (kind, _) = inputKind(of: declared.type),
                let bound = self.argument(argument.value, kind: kind, variables: kinds)
            else { return nil }
            arguments.append((argument.name.value, bound))
        }
        // Every argument these fields declare is required: a missing one failed validation already.
        guard Set(arguments.map(\.0)) == Set(definition.args.keys) else { return nil }

        let (rootType, rootNonNull) = unwrap(definition.type)
        guard let objectType = rootType as? GraphQLObjectType, let selectionSet = field.selectionSet,
            let selection = plan(selectionSet, in: objectType)
        else { return nil }
        return CompiledOperation(
            root: root, responseKey: field.alias?.value ?? field.name.value, rootNonNull: rootNonNull,
            rootNode: field, variables: variables, arguments: arguments,
            selection: selection)
    }

    private static func unwrap(_ type: any GraphQLOutputType) -> (any GraphQLOutputType, Bool) {
        if let nonNull = type as? GraphQLNonNull, let inner = nonNull.ofType as? any GraphQLOutputType {
            return (inner, true)
        }
        return (type, false)
    }

    /// The kind of a declared variable type (`ID!`, `String`, `CreateOrderInput!`…).
    private static func inputKind(_ type: any GraphQL.`Type`) -> (InputKind, Bool)? {
        var nonNull = false
        var named = type
        if let wrapper = type as? NonNullType {
            nonNull = true
            named = wrapper.type
        }
        guard let name = (named as? NamedType)?.name.value, let kind = kind(named: name) else { return nil }
        return (kind, nonNull)
    }

    private static func inputKind(of type: any GraphQLInputType) -> (InputKind, Bool)? {
        var nonNull = false
        var named: any GraphQLType = type
        if let wrapper = type as? GraphQLNonNull {
            nonNull = true
            named = wrapper.ofType
        }
        guard let name = (named as? any GraphQLNamedType)?.name, let kind = kind(named: name) else { return nil }
        return (kind, nonNull)
    }

    private static func kind(named name: String) -> InputKind? {
        switch name {
        case "ID": .id
        case "String": .string
        case "Int": .int
        case "CreateOrderInput": .createOrderInput
        default: nil
        }
    }

    /// A literal as the executor would coerce it, for the literals the compiled path takes.
    private static func constant(_ value: any Value, kind: InputKind) -> Map? {
        switch (kind, value) {
        case (.id, let string as StringValue), (.string, let string as StringValue): return .string(string.value)
        case (.id, let int as IntValue): return Int(int.value).map { .string(String($0)) }
        case (.int, let int as IntValue): return Int32(int.value).map { .number(Number(Int($0))) }
        default: return nil
        }
    }

    private static func argument(_ value: any Value, kind: InputKind, variables: [String: InputKind]) -> Argument? {
        if let variable = value as? GraphQL.Variable {
            // Validation checked that the variable's type fits; the kinds must agree for the plan.
            guard variables[variable.name.value] == kind else { return nil }
            return .variable(variable.name.value)
        }
        guard kind == .createOrderInput else { return constant(value, kind: kind).map { .constant($0) } }
        guard let object = value as? ObjectValue else { return nil }
        let declared: [(String, InputKind, Map?)] = [
            ("dealId", .id, nil), ("quantity", .int, .number(1)), ("idempotencyKey", .string, nil),
            ("pass", .string, nil),
        ]
        var fields: [(String, Argument)] = []
        for (name, fieldKind, defaultValue) in declared {
            if let given = object.fields.first(where: { $0.name.value == name }) {
                guard let bound = argument(given.value, kind: fieldKind, variables: variables) else { return nil }
                fields.append((name, bound))
            } else if let defaultValue {
                fields.append((name, .constant(defaultValue)))
            }
        }
        guard object.fields.allSatisfy({ field in declared.contains { $0.0 == field.name.value } }) else { return nil }
        return .object(fields)
    }

    /// The plan of a selection set on `type`: plain fields without arguments or directives only.
    private static func plan(_ set: SelectionSet, in type: GraphQLObjectType) -> [Selected]? {
        var plan: [Selected] = []
        var keys: Set<String> = []
        for selection in set.selections {
            guard let field = selection as? Field, field.directives.isEmpty, field.arguments.isEmpty else {
                return nil
            }
            let key = field.alias?.value ?? field.name.value
            guard keys.insert(key).inserted else { return nil }
            let name = field.name.value
            if name == "__typename" {
                plan.append(
                    Selected(key: key, name: name, parentType: type.name, nonNull: true, kind: .typeName(type.name)))
                continue
            }
            guard let definition = (try? type.fields())?[name] else { return nil }
            let (fieldType, nonNull) = unwrap(definition.type)
            if let leaf = fieldType as? any GraphQLLeafType {
                guard field.selectionSet == nil else { return nil }
                plan.append(Selected(key: key, name: name, parentType: type.name, nonNull: nonNull, kind: .leaf(leaf)))
            } else if let object = fieldType as? GraphQLObjectType, let children = field.selectionSet,
                let childPlan = self.plan(children, in: object)
            {
                plan.append(
                    Selected(
                        key: key, name: name, parentType: type.name, nonNull: nonNull,
                        kind: .object(childPlan)))
            } else {
                return nil
            }
        }
        return plan
    }
}
