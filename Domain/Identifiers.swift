public enum DealIDKind: IdentifierKind { public static var fieldName: String { "dealId" } }
public enum ProductIDKind: IdentifierKind { public static var fieldName: String { "productId" } }
public enum UserIDKind: IdentifierKind { public static var fieldName: String { "userId" } }
public enum OrderIDKind: IdentifierKind { public static var fieldName: String { "orderId" } }
public enum IdempotencyKeyKind: IdentifierKind { public static var fieldName: String { "idempotencyKey" } }
public enum EventIDKind: IdentifierKind { public static var fieldName: String { "eventId" } }
public enum PassIDKind: IdentifierKind { public static var fieldName: String { "passId" } }
public enum SigningKeyIDKind: IdentifierKind { public static var fieldName: String { "keyId" } }
public enum TicketIDKind: IdentifierKind { public static var fieldName: String { "ticketId" } }

public typealias DealID = Identifier<DealIDKind>
public typealias ProductID = Identifier<ProductIDKind>
public typealias UserID = Identifier<UserIDKind>
/// Always derived with `OrderID.derive(userId:dealId:idempotencyKey:)`; see docs/domain.md.
public typealias OrderID = Identifier<OrderIDKind>
/// Chosen by the shopper's client; one key per purchase intent.
public typealias IdempotencyKey = Identifier<IdempotencyKeyKind>
public typealias EventID = Identifier<EventIDKind>
/// Identifies one admission pass.
public typealias PassID = Identifier<PassIDKind>
/// Names the key that signed an admission pass, so keys can rotate.
public typealias SigningKeyID = Identifier<SigningKeyIDKind>
public typealias TicketID = Identifier<TicketIDKind>
