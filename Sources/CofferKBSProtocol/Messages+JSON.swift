import CofferJSON

/// The RCAR messages read from and written as `JSONValue`, with the field names `kbs-types`
/// serialises (kebab case for the envelope, snake case inside `tee-evidence`). The handshake's
/// hot path uses these instead of Codable: the open fields (`extra-params`, `primary_evidence`)
/// made Foundation's decoder the largest cost of a handshake. A malformed field throws
/// `KBSProtocolError` naming its path (`runtime-data.tee-pubkey.kty`).
public struct MessageFields {
    public let value: JSONValue
    public let path: String

    public init(_ value: JSONValue, path: String = "") throws(KBSProtocolError) {
        guard case .object = value else { throw KBSProtocolError(path.isEmpty ? "expected a JSON object" : "wrong type at \"\(path)\": expected an object") }
        self.value = value
        self.path = path
    }

    public func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// Absent and `null` are both "not given" (serde writes `None` as `null`).
    public func optional(_ key: String) -> JSONValue? {
        switch value[key] {
        case nil, .null?: nil
        case let member?: member
        }
    }

    public func required(_ key: String) throws(KBSProtocolError) -> JSONValue {
        guard let member = value[key] else { throw KBSProtocolError("missing field \"\(name(key))\"") }
        return member
    }

    public func string(_ key: String) throws(KBSProtocolError) -> String {
        guard case .string(let text) = try required(key) else { throw KBSProtocolError("wrong type at \"\(name(key))\": expected a string") }
        return text
    }

    public func object(_ key: String) throws(KBSProtocolError) -> MessageFields { try MessageFields(try required(key), path: name(key)) }
}

extension KBSRequest {
    public init(json: JSONValue) throws(KBSProtocolError) {
        let fields = try MessageFields(json)
        self.init(version: try fields.string("version"), tee: try fields.string("tee"), extraParams: fields.optional("extra-params"))
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = ["version": .string(version), "tee": .string(tee)]
        members["extra-params"] = extraParams ?? .string("")
        return .object(members)
    }
}

extension KBSChallenge {
    public init(json: JSONValue) throws(KBSProtocolError) {
        let fields = try MessageFields(json)
        self.init(nonce: try fields.string("nonce"), extraParams: fields.optional("extra-params") ?? .string(""))
    }

    public var json: JSONValue { .object(["nonce": .string(nonce), "extra-params": extraParams]) }
}

extension TeePubKey {
    public init(json: JSONValue, path: String) throws(KBSProtocolError) {
        let f = try MessageFields(json, path: path)
        switch try f.string("kty") {
        case "RSA": self = .rsa(alg: try f.string("alg"), n: try f.string("n"), e: try f.string("e"))
        case "EC": self = .ec(crv: try f.string("crv"), alg: try f.string("alg"), x: try f.string("x"), y: try f.string("y"))
        case let other: throw KBSProtocolError("invalid \"\(path).kty\": tee-pubkey kty \"\(other.prefix(16))\" is not supported (RSA or EC)")
        }
    }
}

extension KBSAttestation {
    public init(json: JSONValue) throws(KBSProtocolError) {
        let fields = try MessageFields(json)
        var initData: InitData?
        if let value = fields.optional("init-data") {
            let f = try MessageFields(value, path: "init-data")
            initData = InitData(format: try f.string("format"), body: try f.string("body"))
        }
        let runtime = try fields.object("runtime-data")
        let evidence = try fields.object("tee-evidence")
        self.init(initData: initData,
                  runtimeData: RuntimeData(nonce: try runtime.string("nonce"),
                                           teePubkey: try TeePubKey(json: try runtime.required("tee-pubkey"), path: "runtime-data.tee-pubkey")),
                  teeEvidence: CompositeEvidence(primaryEvidence: try evidence.required("primary_evidence"),
                                                 additionalEvidence: try evidence.string("additional_evidence")))
    }

    /// As guest-components' client serialises it: `init-data` is `null` when absent.
    public var json: JSONValue {
        .object([
            "init-data": initData.map { .object(["format": .string($0.format), "body": .string($0.body)]) } ?? .null,
            "runtime-data": .object(["nonce": .string(runtimeData.nonce), "tee-pubkey": runtimeData.teePubkey.json]),
            "tee-evidence": .object(["primary_evidence": teeEvidence.primaryEvidence,
                                     "additional_evidence": .string(teeEvidence.additionalEvidence)]),
        ])
    }
}

extension AttestationTokenResponse {
    public init(json: JSONValue) throws(KBSProtocolError) { self.init(token: try MessageFields(json).string("token")) }
    public var json: JSONValue { .object(["token": .string(token)]) }
}

extension JWEResponse {
    public init(json: JSONValue) throws(KBSProtocolError) {
        let f = try MessageFields(json)
        self.init(protected: try f.string("protected"), encryptedKey: try f.string("encrypted_key"), iv: try f.string("iv"),
                  ciphertext: try f.string("ciphertext"), tag: try f.string("tag"))
    }

    public var json: JSONValue {
        .object(["protected": .string(protected), "encrypted_key": .string(encryptedKey), "iv": .string(iv),
                 "ciphertext": .string(ciphertext), "tag": .string(tag)])
    }
}

extension ErrorInformation {
    /// The error body a client reads from a refused request; `denial` only when a policy refused.
    public init(json: JSONValue) throws(KBSProtocolError) {
        let f = try MessageFields(json)
        var denial: Denial?
        if let value = f.optional("denial") {
            let d = try MessageFields(value, path: "denial")
            var actual: String?
            if let member = d.optional("actual") {
                guard case .string(let text) = member else { throw KBSProtocolError("wrong type at \"denial.actual\": expected a string") }
                actual = text
            }
            denial = Denial(claim: try d.string("claim"), expected: try d.string("expected"), actual: actual, reason: try d.string("reason"))
        }
        self.init(type: try f.string("type"), detail: try f.string("detail"), denial: denial)
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = ["type": .string(type), "detail": .string(detail)]
        if let denial {
            var d: [String: JSONValue] = ["claim": .string(denial.claim), "expected": .string(denial.expected), "reason": .string(denial.reason)]
            if let actual = denial.actual { d["actual"] = .string(actual) }
            members["denial"] = .object(d)
        }
        return .object(members)
    }
}
