import Foundation

extension Deal: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, productId, title, price, startsAt, endsAt, totalStock, perCustomerLimit, paymentWindowSeconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(DealID.self, forKey: .id)
        let productId = try c.decode(ProductID.self, forKey: .productId)
        let title = try c.decode(String.self, forKey: .title)
        let price = try c.decode(Money.self, forKey: .price)
        let startsAt = try c.decodeTimestamp(forKey: .startsAt)
        let endsAt = try c.decodeTimestamp(forKey: .endsAt)
        let totalStock = try c.decode(Int.self, forKey: .totalStock)
        let perCustomerLimit = try c.decode(Int.self, forKey: .perCustomerLimit)
        let window = try c.decodeIfPresent(Double.self, forKey: .paymentWindowSeconds)
        self = try c.decodeValidated(forKey: .id) {
            try Deal(
                id: id, productId: productId, title: title, price: price, startsAt: startsAt,
                endsAt: endsAt, totalStock: totalStock, perCustomerLimit: perCustomerLimit,
                paymentWindow: window.map { .milliseconds(Int64(($0 * 1_000).rounded())) })
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(productId, forKey: .productId)
        try c.encode(title, forKey: .title)
        try c.encode(price, forKey: .price)
        try c.encodeTimestamp(startsAt, forKey: .startsAt)
        try c.encodeTimestamp(endsAt, forKey: .endsAt)
        try c.encode(totalStock, forKey: .totalStock)
        try c.encode(perCustomerLimit, forKey: .perCustomerLimit)
        try c.encodeIfPresent(paymentWindow.map { Double($0.milliseconds) / 1_000 }, forKey: .paymentWindowSeconds)
    }
}
