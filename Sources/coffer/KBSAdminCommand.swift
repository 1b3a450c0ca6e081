import ArgumentParser
import CofferCore
import CofferImage
import CofferKBS
import Foundation
import CofferJSON

/// `coffer kbs admin`: the admin API with a freshly signed short-lived token per call.
struct KBSAdmin: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admin", abstract: "Manage a running KBS (resources, policies, audit).",
                                                    subcommands: [PutResource.self, DeleteResource.self, SetPolicy.self, Audit.self, Appraise.self])

    struct Connection: ParsableArguments {
        @Option(help: "KBS base URL, e.g. http://127.0.0.1:8080") var url: String
        @Option(help: "Admin private key (P-256 PEM).") var key: String
        @Option(help: "Trust only this TLS certificate (PEM), e.g. the KBS's tls.crt.") var cacert: String?

        func send(_ method: String, _ path: String, body: Data?) throws -> KBSClient.Reply {
            let token = try AdminAuthenticator.token(key: try AdminKey.load(key), now: Date())
            let client = try KBSClient(baseURL: url, trustedCertificatePEM: try cacert.map { try readPEM($0, "--cacert") })
            let reply = try blocking { try await client.send(method, path, body: body, headers: ["Authorization": "Bearer \(token)"]) }
            guard reply.status == 200 else {
                throw CofferError(.denied, "\(method) \(path): HTTP \(reply.status): \(reply.error?.detail ?? String(decoding: reply.body.prefix(300), as: UTF8.self))")
            }
            return reply
        }
    }

    struct PutResource: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "put-resource", abstract: "Create or replace a resource from a file.")
        @OptionGroup var connection: Connection
        @Option(help: "repository/type/tag") var resource: String
        @Option(help: "File holding the secret value.") var file: String
        func run() throws {
            try reportingErrors {
                _ = try connection.send("POST", "/kbs/v0/resource/\(resource)", body: try FileSystem.read(file))
                print("stored \(resource)")
            }
        }
    }

    struct DeleteResource: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-resource", abstract: "Delete a resource.")
        @OptionGroup var connection: Connection
        @Option(help: "repository/type/tag") var resource: String
        func run() throws {
            try reportingErrors {
                _ = try connection.send("DELETE", "/kbs/v0/resource/\(resource)", body: nil)
                print("deleted \(resource)")
            }
        }
    }

    struct SetPolicy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-policy", abstract: "Replace the attestation or resource policy, or both (JSON file).",
            discussion: """
                With --kind, the file is that policy. Without it, the file is {"attestation": POLICY, "resource": POLICY} \
                (either or both, as `coffer measure --format policy` prints): both are checked here before either is sent.
                """)
        enum Kind: String, ExpressibleByArgument { case attestation, resource }
        @OptionGroup var connection: Connection
        @Option(help: "attestation or resource; omit for a file holding both.") var kind: Kind?
        @Option(help: "Policy JSON file (see docs/kbs-protocol.md).") var file: String
        func run() throws {
            try reportingErrors {
                let bytes = try FileSystem.read(file)
                for (kind, body) in try Self.parts(bytes, kind: kind, file: file) {
                    _ = try connection.send("POST", "/kbs/v0/\(kind.rawValue)-policy", body: body)
                    print("\(kind.rawValue) policy set")
                }
            }
        }

        /// The policies to send, in order: the file as `kind`, or each member of a combined file,
        /// checked as the broker will check it (so a combined file is applied whole or not at all,
        /// barring the broker failing between the two calls).
        static func parts(_ bytes: Data, kind: Kind?, file: String) throws(CofferError) -> [(Kind, Data)] {
            if let kind { return [(kind, bytes)] }
            guard let value = try? JSONValue.parse(Array(bytes)), let members = value.objectValue else {
                throw CofferError(.invalidInput, "\(file): not a JSON object; without --kind give {\"attestation\": …, \"resource\": …}")
            }
            if let unknown = members.keys.first(where: { $0 != "attestation" && $0 != "resource" }) {
                throw CofferError(.invalidInput, "\(file): unknown member \(unknown.prefix(64)); without --kind only attestation and resource are read")
            }
            var parts: [(Kind, Data)] = []
            for kind in [Kind.attestation, .resource] {
                guard let member = value[kind.rawValue] else { continue }
                let body = Data(CanonicalJSON.serialize(member))
                let invalid: String?
                do {
                    switch kind {
                    case .attestation: invalid = try JSONDecoder().decode(AttestationPolicy.self, from: body).invalidEntry()
                    case .resource: invalid = try JSONDecoder().decode(ResourcePolicy.self, from: body).invalidEntry()
                    }
                } catch {
                    throw CofferError(.invalidInput, "\(file): \(kind.rawValue) is not a \(kind.rawValue) policy (see docs/kbs-protocol.md)")
                }
                if let invalid { throw CofferError(.invalidInput, "\(file): \(kind.rawValue) policy refused: \(invalid)") }
                parts.append((kind, body))
            }
            guard !parts.isEmpty else { throw CofferError(.invalidInput, "\(file): names neither an attestation nor a resource policy") }
            return parts
        }
    }

    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "audit", abstract: "Print recent decisions (JSON).")
        @OptionGroup var connection: Connection
        @Option(help: "Only this session.") var session: String?
        @Option(help: "At most this many, newest first.") var limit: Int = 50
        func run() throws {
            try reportingErrors {
                var query = "?limit=\(limit)"
                if let session { query += "&session=\(session)" }
                let reply = try connection.send("GET", "/kbs/v0/audit\(query)", body: nil)
                FileHandle.standardOutput.write(reply.body + Data("\n".utf8))
            }
        }
    }

    /// The policy dry run (`POST /kbs/v0/admin/appraise`): would the KBS's attestation policy
    /// accept this evidence, at this time? Releases nothing; recorded in the audit log.
    struct Appraise: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "appraise",
            abstract: "Dry-run the attestation policy on evidence (quote/report) without the nonce binding; exits 1 if refused.")
        @OptionGroup var connection: Connection
        @Option(help: "TEE type (sgx, tdx, snp, sample).") var tee: String
        @Option(help: "The evidence file (raw quote/report bytes).") var evidence: String
        @Option(help: "DCAP collateral JSON or SNP {vcek, cert_chain} JSON to verify it with.") var collateral: String?
        @Option(help: "Evaluate certificates and collateral at this time (Unix seconds); default now.") var time: Int?
        @Flag(help: "Print the KBS's JSON reply instead of a summary.") var json = false

        func run() throws {
            try reportingErrors {
                var body: [String: JSONValue] = ["tee": .string(tee), "evidence": .string(try FileSystem.read(evidence).base64EncodedString())]
                if let collateral {
                    let bytes = try FileSystem.read(collateral)
                    body["collateral"] = (try? JSONValue.parse(Array(bytes))) ?? .string(bytes.base64EncodedString())
                }
                if let time { body["time"] = .number(Double(time)) }
                let reply = try connection.send("POST", "/kbs/v0/admin/appraise", body: Data(CanonicalJSON.serialize(.object(body))))
                let result = try JSONValue.parse(Array(reply.body))
                let allowed = result["allowed"] == .bool(true)
                if json {
                    FileHandle.standardOutput.write(reply.body + Data("\n".utf8))
                } else {
                    var lines = ["result  \(allowed ? "allowed" : "denied") (dry run)", "tee     \(tee)",
                                 "time    \(result["time"]?.doubleValue.flatMap { Int(exactly: $0.rounded(.down)) } ?? 0)",
                                 "id      \(result["id"]?.stringValue ?? "")"]
                    if let detail = result["detail"]?.stringValue { lines.append("reason  \(detail)") }
                    if let denial = result["denial"] {
                        lines += ["claim   \(denial["claim"]?.stringValue ?? "")", "expected \(denial["expected"]?.stringValue ?? "")"]
                        if let actual = denial["actual"]?.stringValue { lines.append("actual  \(actual)") }
                    }
                    if case .object(let measurements)? = result["claims"]?["measurements"] {
                        for name in measurements.keys.sorted() { lines.append("\(name) \(measurements[name]?.stringValue ?? "")") }
                    }
                    if let digest = result["claims_digest"]?.stringValue, !digest.isEmpty { lines.append("claims  sha256:\(digest)") }
                    print(lines.joined(separator: "\n"))
                }
                if !allowed { throw ExitCode.failure }
            }
        }
    }
}
