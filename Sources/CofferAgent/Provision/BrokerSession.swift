import CofferCore
import CofferJSON
import CofferKBSProtocol
import CofferSys
import CofferWire
import Crypto

/// The guest's RCAR session with the key broker (decision 0022 §3), over a `BrokerChannel`:
/// `auth`, `attest` with evidence binding a fresh per-boot P-256 key, then `GET resource` for
/// the URIs the measured init-data names, each checked against the broker's identity before it is
/// decrypted. Every failure is an `AgentFailure` with reason `.broker` that says what the broker
/// (or the relay) answered; no secret, key or plaintext is ever part of one.
struct BrokerSession {
    /// How many times a request the relay could not deliver (status 0, or 502/503/504 from a
    /// proxy in front of the broker) is sent, and how long to wait before each retry.
    static let attempts = 3
    static let retryMilliseconds = [1000, 2000]

    let broker: LaunchConfiguration.Broker
    let identity: P256.Signing.PublicKey
    /// This boot's key: the JWEs are to it, and the resource signatures name it.
    private let key = P256.KeyAgreement.PrivateKey()
    let teePubkey: TeePubKey
    private(set) var cookie = ""

    /// Security: with `pin` (the image's `coffer.kbs=`, measured), a host that wrote another
    /// broker into the init-data is refused here, before the guest sends it anything or would take
    /// a resource it signed (decision 0037).
    init(broker: LaunchConfiguration.Broker, pin: BrokerPin? = nil) throws(AgentFailure) {
        self.broker = broker
        do { identity = try P256.Signing.PublicKey(pemRepresentation: broker.identity) } catch {
            throw AgentFailure(.broker, "the broker identity in the launch's init-data is not a P-256 public key (PEM): \(error)")
        }
        if let pin {
            let named = BrokerPin(subjectPublicKeyInfo: Array(identity.derRepresentation))
            guard named == pin else {
                throw AgentFailure(
                    .broker, "the broker in the launch's init-data (\(named.description)) is not the one the image pins (\(BrokerPin.parameterName)=\(pin.description)): nothing is fetched")
            }
        }
        teePubkey = TeePubKey(p256: key.publicKey)
    }

    /// `auth` then `attest`: on return the session cookie admits `resource`.
    mutating func attest(initData: InitDataDocument, evidence: any EvidenceSource, channel: inout some BrokerChannel) throws(AgentFailure) {
        let kind = evidence.teeKind
        let tee = switch kind {
        case .tdxQuote: "tdx"
        case .snpReport: "snp"
        case .none: "sample"
        }
        let hashes: JSONValue = .strings(BindingHash.allCases.map(\.rawValue))
        let request = KBSRequest(tee: tee, extraParams: .object([KBSProtocol.supportedHashAlgorithmsKey: hashes]))
        let auth = try send(.post, "/kbs/v0/auth", body: CanonicalJSON.serialize(request.json), what: "the attestation (auth)", channel: &channel)
        let challenge: KBSChallenge
        do { challenge = try KBSChallenge(json: try JSONValue.parse(auth.body)) } catch {
            throw AgentFailure(.broker, "the broker's challenge does not parse: \(error)")
        }
        guard !auth.cookie.isEmpty else { throw AgentFailure(.broker, "the broker's challenge set no \(KBSProtocol.sessionCookie) cookie") }
        cookie = auth.cookie
        var hash = BindingHash.sha384
        if let selected = challenge.extraParams[KBSProtocol.selectedHashAlgorithmKey] {
            guard let name = selected.stringValue, let chosen = BindingHash(rawValue: name.lowercased()) else {
                throw AgentFailure(.broker, "the broker selected a hash algorithm the agent did not offer (\(String(describing: selected).prefix(40)))")
            }
            hash = chosen
        }
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: teePubkey)
        /// Security: the report data is derived here from the nonce and this boot's key, never taken
        /// from the host, so the evidence binds only a session whose secrets only this guest can open.
        let digest = ReportDataBinding.expected(runtimeData: runtime, additionalEvidence: "", hash: hash)
        let reportData = digest + [UInt8](repeating: 0, count: max(0, 64 - digest.count))
        let primary: JSONValue
        if kind == .none {
            let sample = try channel.sampleEvidence(reportData: reportData)
            guard !sample.isEmpty else {
                throw AgentFailure(
                    .broker, "this guest has no TEE and the launcher will not sign sample evidence for it (development mode needs the launcher's key and a broker started with --dev)")
            }
            primary = .object(["evidence": .string(Base64URL.encode(sample))])
        } else {
            let (answer, vcek) = evidence.evidenceWithVCEK(reportData: reportData)
            guard answer.format == kind else {
                throw AgentFailure(.broker, "the TEE gave no evidence: \(answer.format == .none ? answer.note : "another kind than it announced")")
            }
            var fields: [String: JSONValue] = [kind == .tdxQuote ? "quote" : "report": .string(Base64URL.encode(answer.bytes))]
            // SNP: the VCEK from the host's certificate table, passed on for the broker to check
            // against AMD's chain; untrusted until then, and only ever a hint which key signed.
            if kind == .snpReport, let vcek { fields["vcek"] = .string(Base64URL.encode(vcek)) }
            primary = .object(fields)
        }
        let attestation = KBSAttestation(
            initData: InitData(format: "toml", body: initData.text), runtimeData: runtime, teeEvidence: CompositeEvidence(primaryEvidence: primary))
        let attested = try send(.post, "/kbs/v0/attest", body: CanonicalJSON.serialize(attestation.json), what: "the attestation", channel: &channel)
        if !attested.cookie.isEmpty { cookie = attested.cookie }
    }

    /// The plaintext of `resource`, once its answer verified as the broker's for this path and
    /// this boot's key. The caller wipes it after use.
    func resource(_ resource: ResourceURI, channel: inout some BrokerChannel) throws(AgentFailure) -> [UInt8] {
        let answer = try send(.get, "/kbs/v0/resource/\(resource.path)", body: [], what: resource.uri, channel: &channel)
        /// Security: checked before anything is decrypted, against the identity the launch measured:
        /// a swapped, replayed, altered or forged answer never reaches the JWE code.
        do {
            try ResourceSignature.verify(answer.signature, body: answer.body, resource: resource, teePubkey: teePubkey, key: identity)
        } catch {
            throw AgentFailure(.broker, "\(error)")
        }
        let jwe: JWEResponse
        do { jwe = try JWEResponse(json: try JSONValue.parse(answer.body)) } catch {
            throw AgentFailure(.broker, "the broker's answer for \(resource.uri) is not a JWE: \(error)")
        }
        do { return try JWE.decrypt(jwe, with: key) } catch {
            throw AgentFailure(.broker, "the broker's answer for \(resource.uri) does not open with this boot's key: \(error)")
        }
    }

    /// One request, retried while the relay cannot reach the broker; a 200 is returned, anything
    /// else is thrown with what the broker said.
    private func send(
        _ method: BrokerRequest.Method, _ path: String, body: [UInt8], what: String, channel: inout some BrokerChannel
    ) throws(AgentFailure) -> BrokerResponse {
        var attempt = 1
        while true {
            let answer = try channel.exchange(method, path, cookie: path == "/kbs/v0/auth" ? "" : cookie, body: body)
            if answer.status == 200 { return answer }
            guard [0, 502, 503, 504].contains(answer.status) else { throw Self.refusal(answer, what: what) }
            guard attempt < Self.attempts else {
                let reason = answer.status == 0 ? Self.printable(answer.body) : "HTTP \(answer.status)"
                throw AgentFailure(.broker, "the broker at \(broker.url) could not be reached through the host after \(Self.attempts) attempts: \(reason)")
            }
            sleep(milliseconds: Self.retryMilliseconds[attempt - 1])
            attempt += 1
        }
    }

    /// The broker's refusal as the operator needs it: the denial's claim, expected and actual.
    static func refusal(_ answer: BrokerResponse, what: String) -> AgentFailure {
        guard let information = try? ErrorInformation(json: try JSONValue.parse(answer.body)) else {
            return AgentFailure(.broker, "the broker answered HTTP \(answer.status) for \(what): \(printable(answer.body))")
        }
        guard let denial = information.denial else {
            return AgentFailure(.broker, "the broker refused \(what) (HTTP \(answer.status), \(information.type)): \(information.detail.prefix(400))")
        }
        return AgentFailure(
            .broker, "the broker denied \(what): claim \(denial.claim) expected \(denial.expected) actual \(denial.actual ?? "absent") (\(denial.reason))")
    }

    /// At most 300 bytes of an answer's body, control characters replaced (it comes from the host).
    static func printable(_ body: [UInt8]) -> String {
        String(decoding: body.prefix(300).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }
}
