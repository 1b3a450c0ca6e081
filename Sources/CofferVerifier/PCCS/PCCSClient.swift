import CofferCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
import CofferJSON

#endif

/// Fetches a quote's DCAP collateral from a PCCS or Intel PCS (API v4) and assembles the bundle
/// `DCAPCollateral(json:)` reads (the layout of ../shared/vectors/*/collateral.json).
///
/// Requests (Intel PCS API v4; TDX uses `/tdx/` for TCB Info and QE Identity, `/sgx/` for the rest):
/// - `GET /sgx/certification/v4/pckcrl?ca=processor|platform&encoding=der` → the PCK CRL; issuer
///   chain in `SGX-PCK-CRL-Issuer-Chain`.
/// - `GET /{sgx,tdx}/certification/v4/tcb?fmspc=…` → `{"tcbInfo": {…}, "signature": "…"}`; issuer
///   chain in `TCB-Info-Issuer-Chain` (or `SGX-TCB-Info-Issuer-Chain`).
/// - `GET /{sgx,tdx}/certification/v4/qe/identity` → `{"enclaveIdentity": {…}, "signature": "…"}`;
///   issuer chain in `SGX-Enclave-Identity-Issuer-Chain`.
/// - `GET /sgx/certification/v4/rootcacrl` → the root CA CRL (DER, hex of DER, or PEM).
///
/// Nothing fetched is trusted: the bundle is only parsed here, and verifying a quote with it checks
/// every signature up to the pinned Intel root. That is also why plain http is acceptable when
/// the caller allows it.
public struct PCCSClient: Sendable {
    /// The service root, e.g. `https://api.trustedservices.intel.com` or `https://pccs:8081`.
    public var baseURL: URL
    public var timeout: TimeInterval

    public init(baseURL: URL, allowPlainHTTP: Bool = false, timeout: TimeInterval = 30) throws(PCCSError) {
        guard let scheme = baseURL.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw .url("\(baseURL.absoluteString) is not an http(s) URL")
        }
        guard scheme == "https" || allowPlainHTTP else {
            throw .url("\(baseURL.absoluteString) is plain http; pass --insecure to allow it")
        }
        // Accept a base that already ends in the API path.
        var text = baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        for suffix in ["/sgx/certification/v4", "/tdx/certification/v4"] where text.hasSuffix(suffix) {
            text.removeLast(suffix.count)
        }
        guard let base = URL(string: text) else { throw .url("\(baseURL.absoluteString) is not a URL") }
        self.baseURL = base
        self.timeout = timeout
    }

    /// The bundle JSON (UTF-8) for `quote`; it parses as `DCAPCollateral`.
    public func collateralBundle(forQuote quote: [UInt8]) throws(PCCSError) -> [UInt8] {
        let request = try CollateralRequest(quote: quote)
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        func get(_ path: String) throws(PCCSError) -> HTTPGet {
            guard let url = URL(string: baseURL.absoluteString + path) else { throw .url("cannot form \(path)") }
            return try HTTPGet(url, session: session, timeout: timeout)
        }
        let tee = request.tee.rawValue

        let pckCRL = try get("/sgx/certification/v4/pckcrl?ca=\(request.ca.rawValue)&encoding=der")
        let rootCRL = try get("/sgx/certification/v4/rootcacrl")
        let tcb = try get("/\(tee)/certification/v4/tcb?fmspc=\(request.fmspcHex)")
        let identity = try get("/\(tee)/certification/v4/qe/identity")
        let (tcbInfo, tcbSignature) = try Self.signedBody(tcb, member: "tcbInfo")
        let (qeIdentity, qeSignature) = try Self.signedBody(identity, member: "enclaveIdentity")

        let bundle: [String: String] = [
            "pck_crl_issuer_chain": try pckCRL.decodedHeader("SGX-PCK-CRL-Issuer-Chain"),
            "root_ca_crl": try Self.crlHex(rootCRL),
            "pck_crl": try Self.crlHex(pckCRL),
            "tcb_info_issuer_chain": try tcb.decodedHeader("TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"),
            "tcb_info": tcbInfo,
            "tcb_info_signature": tcbSignature,
            "qe_identity_issuer_chain": try identity.decodedHeader("SGX-Enclave-Identity-Issuer-Chain"),
            "qe_identity": qeIdentity,
            "qe_identity_signature": qeSignature,
        ]
        let json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: bundle, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw .response(url: baseURL.absoluteString, detail: "cannot encode the bundle: \(error)")
        }
        // Parse what was assembled, so a response that only looked right is reported here.
        do throws(VerificationFailure) { _ = try DCAPCollateral(json: json) } catch {
            throw .response(url: baseURL.absoluteString, detail: "the assembled bundle does not parse: \(error.message)")
        }
        return Array(json)
    }

    /// The exact text of `member` (what Intel signed) and the hex `signature` beside it.
    static func signedBody(_ get: HTTPGet, member: String) throws(PCCSError) -> (body: String, signature: String) {
        let url = get.response.url?.absoluteString ?? ""
        let spans: [String: Range<Int>]
        do { spans = try JSONParser.memberSpans(get.body) } catch {
            throw .response(url: url, detail: "body is not a JSON object: \(error)")
        }
        guard let bodySpan = spans[member], let signatureSpan = spans["signature"],
              case .string(let signature)? = try? JSONValue.parse(get.body[signatureSpan])
        else { throw .response(url: url, detail: "body lacks \"\(member)\" or a string \"signature\"") }
        guard case .object? = try? JSONValue.parse(get.body[bodySpan]) else {
            throw .response(url: url, detail: "\"\(member)\" is not an object")
        }
        return (String(decoding: get.body[bodySpan], as: UTF8.self), signature)
    }

    /// A CRL response as hex of DER: PCS sends DER with `encoding=der`, PCCS sends the root CA CRL
    /// as hex text, and PEM is accepted too.
    static func crlHex(_ get: HTTPGet) throws(PCCSError) -> String {
        let url = get.response.url?.absoluteString ?? ""
        let body = get.body
        if body.first == 0x30 { return Hex.encode(body) }
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("-----BEGIN"), let der = PEMBase64.der(ofBlock: Substring(text)) { return Hex.encode(der) }
        if let der = Hex.decode(text), der.first == 0x30 { return Hex.encode(der) }
        throw .response(url: url, detail: "the CRL is neither DER, hex of DER nor PEM")
    }
}
