import Credentials
import Domain
import Foundation

/// Turns an `Authorization: Bearer <jwt>` header into the shopper's id.
///
/// No header: an anonymous request (operations that need a shopper refuse it). A header with a
/// token that does not verify: the request is refused with 401, whatever it asks. Verified tokens
/// are remembered (bounded) until their own expiry, so a shopper polling the waiting room costs one
/// signature check, not one per poll.
struct ShopperAuthenticator: Sendable {
    let verifier: ShopperTokenVerifier?
    private let verified = GenerationalCache<String, Verified>(capacity: 100_000)

    struct Verified: Sendable {
        let user: UserID
        let expiresAt: Date
        /// The token carries the operator role.
        let isOperator: Bool
    }

    init(verifier: ShopperTokenVerifier?) {
        self.verifier = verifier
    }

    func user(authorization: String?) async throws(RequestFailure) -> UserID? {
        try await caller(authorization: authorization)?.user
    }

    /// The verified caller: the user and whether the token carries the operator role.
    func caller(authorization: String?) async throws(RequestFailure) -> Verified? {
        guard let authorization, !authorization.isEmpty else { return nil }
        // On UTF-8 bytes: String.count and lowercased() of a whole token showed up in the CPU profile.
        let bytes = authorization.utf8
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), ShopperTokenVerifier.isBearer(bytes[..<space]),
            bytes.index(after: space) < bytes.endIndex
        else {
            throw RequestFailure(APIError(.unauthenticated, "Authorization must be `Bearer <token>`"))
        }
        let token = String(Substring(bytes[bytes.index(after: space)...].drop { $0 == UInt8(ascii: " ") }))
        let now = Date()
        if let hit = verified.value(for: token), now < hit.expiresAt { return hit }
        guard let verifier else {
            throw RequestFailure(APIError(.unauthenticated, "this gateway has no token verification key configured"))
        }
        do {
            let claims = try await verifier.verifyClaims(bearer: token, at: now)
            guard let user = try? UserID(claims.subject) else {
                throw RequestFailure(APIError(.unauthenticated, "the token's subject is not a valid user id"))
            }
            let caller = Verified(user: user, expiresAt: claims.expiresAt, isOperator: claims.isOperator)
            verified.insert(token, caller)
            return caller
        } catch let failure as RequestFailure {
            throw failure
        } catch let error as CredentialError {
            throw RequestFailure(APIError(.unauthenticated, "the bearer token is not valid: \(error.description)"))
        } catch {
            throw RequestFailure(APIError(.unauthenticated, "the bearer token is not valid"))
        }
    }
}
