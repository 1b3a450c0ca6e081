import ArgumentParser
import CofferCore
import CofferImage
import CofferKBS
import Foundation

/// `coffer kbs admin`: the admin API with a freshly signed short-lived token per call.
struct KBSAdmin: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admin", abstract: "Manage a running KBS (resources, policies, audit).",
                                                    subcommands: [PutResource.self, DeleteResource.self, SetPolicy.self, Audit.self])

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
        static let configuration = CommandConfiguration(commandName: "set-policy", abstract: "Replace the attestation or resource policy (JSON file).")
        enum Kind: String, ExpressibleByArgument { case attestation, resource }
        @OptionGroup var connection: Connection
        @Option(help: "attestation or resource") var kind: Kind
        @Option(help: "Policy JSON file (see docs/kbs-protocol.md).") var file: String
        func run() throws {
            try reportingErrors {
                _ = try connection.send("POST", "/kbs/v0/\(kind.rawValue)-policy", body: try FileSystem.read(file))
                print("\(kind.rawValue) policy set")
            }
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
}
