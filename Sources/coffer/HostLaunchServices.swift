import CofferCore
import CofferEvidence
import CofferImage
import CofferKBS
import CofferKBSProtocol
import CofferVerifier
import CofferVMM
import CofferWire
import Crypto
import Foundation

/// The host's part of a confidential launch (decision 0022), run by the VM's monitor: it carries
/// the guest's own requests to the broker over HTTPS and brings back the answers, and in
/// development mode signs sample evidence. It is untrusted by design: the guest checks the broker's
/// signature on everything it uses, so this code can fail a launch but never change what it gets.
final class HostLaunchServices: LaunchServices {
    /// Answers must fit one frame with room for the response's own fields.
    static let maximumBody = Frame.maxPayload - 4096
    let home: String
    private var client: KBSClient?
    private var clientError: String?

    init(home: String) { self.home = home }

    deinit {
        if let client { _ = try? blocking { await client.shutdown() } }
    }

    func relay(_ request: BrokerRequest, spec: VMSpec) -> BrokerResponse {
        func failed(_ reason: String) -> BrokerResponse {
            BrokerResponse(id: request.id, status: 0, body: Array("the host could not reach the broker: \(reason)".utf8))
        }
        guard let client = connection(spec) else { return failed(clientError ?? "no broker URL") }
        let headers = request.cookie.isEmpty ? [:] : ["Cookie": "\(KBSProtocol.sessionCookie)=\(request.cookie)"]
        let (method, path, body) = (request.method.name, request.path, request.method == .post ? Data(request.body) : nil)
        do {
            let reply = try blocking { try await client.send(method, path, body: body, headers: headers) }
            guard reply.body.count <= Self.maximumBody else { return failed("its answer of \(reply.body.count) bytes is too large to relay") }
            return BrokerResponse(
                id: request.id, status: UInt16(clamping: reply.status), cookie: KBSClient.sessionID(reply) ?? "",
                signature: reply.header(KBSServer.signatureHeader.rawName) ?? "", body: Array(reply.body))
        } catch {
            return failed("\(error)")
        }
    }

    func sampleEvidence(reportData: [UInt8], spec: VMSpec) -> [UInt8] {
        guard let text = spec.initData, let document = try? InitDataDocument(parsing: Array(text.utf8)),
              let measurement = Hex.decode(spec.launchMeasurement.replacingOccurrences(of: "sha256:", with: "")),
              let key = try? LauncherKey.load(explicit: nil, store: ImageStore(home: home)) else { return [] }
        let evidence = try? SampleEvidence.signed(
            measurement: measurement + [UInt8](repeating: 0, count: max(0, 48 - measurement.count)),
            hostData: document.field(length: 32), reportData: reportData, by: key)
        return evidence?.encoded ?? []
    }

    /// One pooled client for the VM's life, to the broker URL its init-data names.
    private func connection(_ spec: VMSpec) -> KBSClient? {
        if let client { return client }
        guard let url = spec.brokerURL else {
            clientError = "the launch names no broker"
            return nil
        }
        do {
            client = try KBSClient(baseURL: url, trustedCertificatePEM: spec.brokerCertificate)
        } catch {
            clientError = "\(error)"
        }
        return client
    }
}
