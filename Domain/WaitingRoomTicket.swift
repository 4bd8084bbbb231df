public import Foundation

/// A shopper's place in a deal's waiting room. `position` is 1-based and absent until assigned.
public struct WaitingRoomTicket: Hashable, Sendable {
    public let ticketId: TicketID
    public let dealId: DealID
    public let userId: UserID
    public let issuedAt: Date
    public let position: Int?

    public init(
        ticketId: TicketID, dealId: DealID, userId: UserID, issuedAt: Date,
        position: Int? = nil
    ) throws(WaitingRoomTicketError) {
        if let position, position < 1 { throw .positionBelowOne(position) }
        self.ticketId = ticketId
        self.dealId = dealId
        self.userId = userId
        self.issuedAt = Timestamp.normalized(issuedAt)
        self.position = position
    }

    public func withPosition(_ position: Int) throws(WaitingRoomTicketError) -> WaitingRoomTicket {
        try WaitingRoomTicket(
            ticketId: ticketId, dealId: dealId, userId: userId, issuedAt: issuedAt, position: position)
    }
}

extension WaitingRoomTicket: Codable {
    private enum CodingKeys: String, CodingKey { case ticketId, dealId, userId, issuedAt, position }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let ticketId = try c.decode(TicketID.self, forKey: .ticketId)
        let dealId = try c.decode(DealID.self, forKey: .dealId)
        let userId = try c.decode(UserID.self, forKey: .userId)
        let issuedAt = try c.decodeTimestamp(forKey: .issuedAt)
        let position = try c.decodeIfPresent(Int.self, forKey: .position)
        self = try c.decodeValidated(forKey: .position) {
            try WaitingRoomTicket(
                ticketId: ticketId, dealId: dealId, userId: userId, issuedAt: issuedAt, position: position)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ticketId, forKey: .ticketId)
        try c.encode(dealId, forKey: .dealId)
        try c.encode(userId, forKey: .userId)
        try c.encodeTimestamp(issuedAt, forKey: .issuedAt)
        try c.encodeIfPresent(position, forKey: .position)
    }
}

public enum WaitingRoomTicketError: DomainError {
    case positionBelowOne(Int)

    public var description: String {
        switch self {
        case .positionBelowOne(let position): "waiting room position must be at least 1, got \(position)"
        }
    }
}
