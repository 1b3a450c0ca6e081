import CofferCore
import CofferWire
import Testing

/// The confidential-launch messages: documented layouts, round trips, and what a hostile peer's
/// payloads get (an error, never a trap or an oversized allocation).
@Suite struct BrokerRelayTests {
    @Test func brokerRequestRoundTripsWithItsDocumentedLayout() throws {
        let request = BrokerRequest(id: 3, method: .post, path: "/kbs/v0/auth", cookie: "abc", body: Array("{}".utf8))
        let payload = request.frame.payload
        #expect(request.frame.kind == .brokerRequest)
        #expect(Array(payload.prefix(5)) == [0, 0, 0, 3, 2])
        #expect(Array(payload[5..<21]) == [0, 0, 0, 12] + Array("/kbs/v0/auth".utf8))
        #expect(Array(payload.suffix(2)) == Array("{}".utf8))
        #expect(try BrokerRequest(request.frame) == request)
    }

    @Test func brokerRequestRefusesAnythingButABrokerPath() throws {
        for path in ["/admin", "kbs/v0/auth", "/kbs/v0/resource/a b", "/kbs/v0/\n", "http://evil/kbs/v0/auth"] {
            #expect(throws: WireError.self) { try BrokerRequest(BrokerRequest(id: 1, method: .get, path: path).frame) }
        }
        var payload = BrokerRequest(id: 1, method: .get, path: "/kbs/v0/auth").frame.payload
        payload[4] = 9
        #expect(throws: WireError.self) { try BrokerRequest(Frame(.brokerRequest, payload)) }
        #expect(throws: WireError.self) { try BrokerRequest(Frame(.brokerRequest, [0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff])) }
    }

    @Test func brokerResponseRoundTrips() throws {
        let response = BrokerResponse(id: 9, status: 200, cookie: "kbs-session", signature: "sig", body: [1, 2, 3])
        #expect(Array(response.frame.payload.prefix(6)) == [0, 0, 0, 9, 0, 200])
        #expect(try BrokerResponse(response.frame) == response)
        let unreachable = BrokerResponse(id: 1, status: 0, body: Array("connection refused".utf8))
        #expect(try BrokerResponse(unreachable.frame) == unreachable)
        #expect(throws: WireError.self) { try BrokerResponse(Frame(.brokerResponse, [0, 0, 0, 1, 0])) }
        #expect(throws: WireError.self) { try BrokerResponse(Frame(.brokerRequest, response.frame.payload)) }
    }

    @Test func initDataIsBoundedAndKeptExactly() throws {
        let document = Array("version = \"0.1.0\"\n".utf8)
        #expect(try InitDataMessage(InitDataMessage(document: document).frame).document == document)
        #expect(try InitDataMessage(Frame(.initData, [UInt8](repeating: 0x23, count: 64 * 1024))).document.count == 64 * 1024)
        #expect(throws: WireError.self) { try InitDataMessage(Frame(.initData, [UInt8](repeating: 0x23, count: 64 * 1024 + 1))) }
    }

    @Test func sampleEvidenceRequestsCarryExactly64BytesOfReportData() throws {
        let request = SampleEvidenceRequest(reportData: [UInt8](repeating: 5, count: 64))
        #expect(try SampleEvidenceRequest(request.frame) == request)
        #expect(throws: WireError.self) { try SampleEvidenceRequest(Frame(.sampleEvidenceRequest, [UInt8](repeating: 5, count: 63))) }
        #expect(throws: WireError.self) { try SampleEvidenceRequest(Frame(.sampleEvidenceRequest, [UInt8](repeating: 5, count: 65))) }
        let response = SampleEvidenceResponse(evidence: [UInt8](repeating: 1, count: 252))
        #expect(try SampleEvidenceResponse(response.frame) == response)
        #expect(throws: WireError.self) { try SampleEvidenceResponse(Frame(.sampleEvidence, [UInt8](repeating: 1, count: 4097))) }
    }

    @Test func theNewKindsHaveNames() {
        #expect("\(FrameKind.initData)" == "init-data")
        #expect("\(FrameKind.brokerRequest)" == "kbs-request")
        #expect("\(FrameKind.brokerResponse)" == "kbs-response")
        #expect("\(FrameKind.sampleEvidenceRequest)" == "sample-evidence-request")
        #expect("\(FrameKind.sampleEvidence)" == "sample-evidence")
    }
}
