/// The thing being sold. A product can be featured by many deals over time.
public struct Product: Hashable, Sendable, Codable {
    public static var maximumNameLength: Int { 200 }
    public static var maximumDescriptionLength: Int { 2000 }

    public let id: ProductID
    public let name: String
    public let description: String?

    public init(id: ProductID, name: String, description: String? = nil) throws(ProductValidationError) {
        let trimmed = name.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .emptyName }
        guard trimmed.count <= Self.maximumNameLength else {
            throw .nameTooLong(length: trimmed.count, maximum: Self.maximumNameLength)
        }
        if let description, description.count > Self.maximumDescriptionLength {
            throw .descriptionTooLong(length: description.count, maximum: Self.maximumDescriptionLength)
        }
        self.id = id
        self.name = trimmed
        self.description = description
    }

    private enum CodingKeys: String, CodingKey { case id, name, description }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(ProductID.self, forKey: .id)
        let name = try c.decode(String.self, forKey: .name)
        let description = try c.decodeIfPresent(String.self, forKey: .description)
        self = try c.decodeValidated(forKey: .name) { try Product(id: id, name: name, description: description) }
    }
}

public enum ProductValidationError: DomainError {
    case emptyName
    case nameTooLong(length: Int, maximum: Int)
    case descriptionTooLong(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case .emptyName: "product name must not be blank"
        case .nameTooLong(let length, let maximum): "product name has \(length) characters; the maximum is \(maximum)"
        case .descriptionTooLong(let length, let maximum):
            "product description has \(length) characters; the maximum is \(maximum)"
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
