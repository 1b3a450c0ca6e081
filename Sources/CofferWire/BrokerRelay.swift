import CofferCore

// The messages of a confidential launch (decision 0022): the host hands the guest its measured
// init-data, relays the guest's own requests to the key broker, and in development mode signs
// sample evidence. Nothing the host sends here is trusted: the guest checks the init-data against
// its measured digest and every resource against the broker's signature.

/// Host → guest: the launch's init-data document, before `start`. Payload: the document's bytes.
/// The agent refuses it unless it hashes to the `coffer.initdata=` digest on the measured command line.
public struct InitDataMessage: WireMessage {
    public static let kind = FrameKind.initData
    /// As `InitDataDocument.maxSize`: init-data is a configuration, not a payload.
    public static let maximumSize = 64 * 1024

    public var document: [UInt8]

    public init(document: [UInt8]) { self.document = document }

    public func write(to writer: inout ByteWriter) { writer.write(document) }

    public init(reading reader: inout ByteReader) throws {
        document = reader.readRest()
        guard document.count <= Self.maximumSize else { throw FieldError("init-data of \(document.count) bytes (at most \(Self.maximumSize))") }
    }
}

/// Guest → host: one HTTP request for the host to send to the broker named in the init-data.
/// Payload: `id u32 | method u8 (1 GET, 2 POST) | path string | cookie string | body (the rest)`.
/// The guest composes every field itself; the host only carries them.
public struct BrokerRequest: WireMessage {
    public static let kind = FrameKind.brokerRequest

    public enum Method: UInt8, Sendable {
        case get = 1, post = 2
        public var name: String { self == .get ? "GET" : "POST" }
    }

    public var id: UInt32
    public var method: Method
    /// Below the broker's base URL, e.g. `/kbs/v0/auth`.
    public var path: String
    /// The `kbs-session-id` cookie's value, empty before `auth` answered.
    public var cookie: String
    /// JSON for POST, empty for GET.
    public var body: [UInt8]

    public init(id: UInt32, method: Method, path: String, cookie: String = "", body: [UInt8] = []) {
        self.id = id
        self.method = method
        self.path = path
        self.cookie = cookie
        self.body = body
    }

    public func write(to writer: inout ByteWriter) {
        writer.writeUInt32BE(id)
        writer.writeUInt8(method.rawValue)
        writer.writeString(path)
        writer.writeString(cookie)
        writer.write(body)
    }

    public init(reading reader: inout ByteReader) throws {
        id = try reader.readUInt32BE("id")
        let value = try reader.readUInt8("method")
        guard let method = Method(rawValue: value) else { throw FieldError("unknown method \(value)") }
        self.method = method
        path = try reader.readString("path")
        guard path.hasPrefix("/kbs/v0/"), !path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw FieldError("path \(path.prefix(80)) is not a /kbs/v0/ path")
        }
        cookie = try reader.readString("cookie")
        body = reader.readRest()
    }
}

/// Host → guest: the broker's answer to a `BrokerRequest`, or the relay's failure to get one
/// (status 0, the reason as the body). Payload: `id u32 | status u16 | cookie string |
/// signature string | body (the rest)`. `signature` is the `X-Coffer-KBS-Signature` header.
public struct BrokerResponse: WireMessage {
    public static let kind = FrameKind.brokerResponse

    public var id: UInt32
    /// The HTTP status; 0 when the host could not reach the broker.
    public var status: UInt16
    /// The `kbs-session-id` cookie the broker set, empty if none.
    public var cookie: String
    public var signature: String
    public var body: [UInt8]

    public init(id: UInt32, status: UInt16, cookie: String = "", signature: String = "", body: [UInt8] = []) {
        self.id = id
        self.status = status
        self.cookie = cookie
        self.signature = signature
        self.body = body
    }

    public func write(to writer: inout ByteWriter) {
        writer.writeUInt32BE(id)
        writer.writeUInt16BE(status)
        writer.writeString(cookie)
        writer.writeString(signature)
        writer.write(body)
    }

    public init(reading reader: inout ByteReader) throws {
        id = try reader.readUInt32BE("id")
        status = try reader.readUInt16BE("status")
        cookie = try reader.readString("cookie")
        signature = try reader.readString("signature")
        body = reader.readRest()
    }
}

/// Guest → host, development mode only (no TEE in the guest): sign sample evidence over this
/// report data, the launch measurement and the init-data digest. Payload: `report data (64 bytes)`.
/// Sample evidence protects nothing and a broker takes it only with `--dev`; the guest still
/// derives the report data itself, so even this cannot turn it into an oracle.
public struct SampleEvidenceRequest: WireMessage {
    public static let kind = FrameKind.sampleEvidenceRequest

    public var reportData: [UInt8]

    public init(reportData: [UInt8]) { self.reportData = reportData }

    public func write(to writer: inout ByteWriter) { writer.write(reportData) }

    public init(reading reader: inout ByteReader) throws {
        reportData = try reader.read(64, "report data")
    }
}

/// Host → guest: the sample evidence (`SampleEvidence` bytes) for a `SampleEvidenceRequest`, or
/// empty when the launcher will not sign. Payload: the bytes.
public struct SampleEvidenceResponse: WireMessage {
    public static let kind = FrameKind.sampleEvidence
    public static let maximumSize = 4096

    public var evidence: [UInt8]

    public init(evidence: [UInt8]) { self.evidence = evidence }

    public func write(to writer: inout ByteWriter) { writer.write(evidence) }

    public init(reading reader: inout ByteReader) throws {
        evidence = reader.readRest()
        guard evidence.count <= Self.maximumSize else { throw FieldError("sample evidence of \(evidence.count) bytes (at most \(Self.maximumSize))") }
    }
}
