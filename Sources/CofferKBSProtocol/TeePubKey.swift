import CofferJSON

/// The `tee-pubkey` JWK (`kbs-types` `TeePubKey`, tagged by `kty`). Coffer accepts RSA keys with
/// `RSA1_5`, `RSA-OAEP` or `RSA-OAEP-256`, and P-256 EC keys with `ECDH-ES+A256KW`.
public enum TeePubKey: Codable, Sendable, Equatable {
    case rsa(alg: String, n: String, e: String)
    case ec(crv: String, alg: String, x: String, y: String)

    enum CodingKeys: String, CodingKey { case kty, alg, n, e, crv, x, y }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kty) {
        case "RSA":
            self = .rsa(alg: try c.decode(String.self, forKey: .alg), n: try c.decode(String.self, forKey: .n),
                        e: try c.decode(String.self, forKey: .e))
        case "EC":
            self = .ec(crv: try c.decode(String.self, forKey: .crv), alg: try c.decode(String.self, forKey: .alg),
                       x: try c.decode(String.self, forKey: .x), y: try c.decode(String.self, forKey: .y))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kty, in: c,
                debugDescription: "tee-pubkey kty \"\(other)\" is not supported (RSA or EC)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .rsa(let alg, let n, let e):
            try c.encode("RSA", forKey: .kty)
            try c.encode(alg, forKey: .alg)
            try c.encode(n, forKey: .n)
            try c.encode(e, forKey: .e)
        case .ec(let crv, let alg, let x, let y):
            try c.encode("EC", forKey: .kty)
            try c.encode(crv, forKey: .crv)
            try c.encode(alg, forKey: .alg)
            try c.encode(x, forKey: .x)
            try c.encode(y, forKey: .y)
        }
    }

    public var alg: String {
        switch self {
        case .rsa(let alg, _, _), .ec(_, let alg, _, _): alg
        }
    }

    /// The JWK as a JSON object, for the canonical binding hash and the token.
    public var json: JSONValue {
        switch self {
        case .rsa(let alg, let n, let e):
            .object(["kty": .string("RSA"), "alg": .string(alg), "n": .string(n), "e": .string(e)])
        case .ec(let crv, let alg, let x, let y):
            .object(["kty": .string("EC"), "crv": .string(crv), "alg": .string(alg), "x": .string(x), "y": .string(y)])
        }
    }
}
