import Crypto
import Foundation
import CofferJSON

/// Admin requests carry `Authorization: Bearer <JWT>` signed (ES256) by the admin private key;
/// the KBS holds only the public key (`--admin-key`). Tokens live at most `maxLifetime`.
public struct AdminAuthenticator: Sendable {
    public var publicKey: P256.Signing.PublicKey
    public static let maxLifetime: TimeInterval = 300

    public init(publicKey: P256.Signing.PublicKey) { self.publicKey = publicKey }

    public func authorize(_ authorization: String?, now: Date) throws(KBSFailure) {
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            throw .adminRefused("admin routes need Authorization: Bearer <token signed by the admin key> (coffer kbs admin-token)")
        }
        let payload: JSONValue
        do { payload = try CompactJWT.verify(String(authorization.dropFirst(7)), with: publicKey, now: now) } catch {
            throw .adminRefused("admin token refused: \(error.description)")
        }
        /// Security: a long-lived admin token is a standing credential; refuse any that claims
        /// more than five minutes, so a leaked one is soon worthless.
        guard let exp = payload["exp"]?.doubleValue, exp - now.timeIntervalSince1970 <= Self.maxLifetime + 5 else {
            throw .adminRefused("admin token lifetime exceeds \(Int(Self.maxLifetime)) seconds")
        }
        guard payload["aud"]?.stringValue == "coffer-kbs-admin" else { throw .adminRefused("admin token audience must be coffer-kbs-admin") }
    }

    /// A token for the CLI and tests: `{"aud": "coffer-kbs-admin", "iat", "exp"}`.
    public static func token(key: P256.Signing.PrivateKey, now: Date, lifetime: TimeInterval = 120) throws -> String {
        try CompactJWT.sign(payload: .object([
            "aud": .string("coffer-kbs-admin"),
            "iat": .number(now.timeIntervalSince1970.rounded(.down)),
            "exp": .number((now.timeIntervalSince1970 + lifetime).rounded(.down)),
        ]), with: key)
    }
}
