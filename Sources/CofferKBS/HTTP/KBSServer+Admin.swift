import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The admin routes: resources, policies, the audit log and the policy dry run. Each request
/// carries a short-lived token signed by the admin key (`AdminAuthenticator`); without
/// `--admin-key` they are all refused (403).
extension KBSServer {
    func adminRoutes(_ kbs: RouterGroup<KBSRequestContext>) {
        kbs.post("resource/:repository/:type/:tag") { request, context in
            await respond { try await self.putResource(request, context) }
        }
        kbs.delete("resource/:repository/:type/:tag") { request, context in
            await respond { try await self.deleteResource(request, context) }
        }
        kbs.post("attestation-policy") { request, _ in
            await respond {
                try self.authorizeAdmin(request)
                let policy: AttestationPolicy = try await self.decode(request, "attestation policy")
                if let entry = policy.invalidEntry() { throw KBSFailure(status: 400, kind: "InvalidPolicy", detail: "attestation policy refused: \(entry)") }
                try await self.storeCall { try await self.broker.store.setAttestationPolicy(policy) }
                return Self.json(status: .ok, ["status": "ok"])
            }
        }
        kbs.post("resource-policy") { request, _ in
            await respond {
                try self.authorizeAdmin(request)
                let policy: ResourcePolicy = try await self.decode(request, "resource policy")
                if let entry = policy.invalidEntry() { throw KBSFailure(status: 400, kind: "InvalidPolicy", detail: "resource policy refused: \(entry)") }
                try await self.storeCall { try await self.broker.store.setResourcePolicy(policy) }
                return Self.json(status: .ok, ["status": "ok"])
            }
        }
        kbs.get("audit") { request, _ in
            await respond {
                try self.authorizeAdmin(request)
                let session = request.uri.queryParameters.get("session")
                let limit = min(request.uri.queryParameters.get("limit", as: Int.self) ?? 100, 10_000)
                let decisions = try await self.storeCall { try await self.broker.store.decisions(session: session, limit: max(limit, 1)) }
                return Self.json(status: .ok, decisions)
            }
        }
        kbs.post("admin/appraise") { request, _ in
            await respond {
                try self.authorizeAdmin(request)
                let body = try AppraisalRequest(json: try await self.parse(request, "appraisal request"))
                let appraisal = try await self.broker.appraise(body, now: Date())
                return Self.json(status: .ok, appraisal.json)
            }
        }
    }

    func putResource(_ request: Request, _ context: KBSRequestContext) async throws -> Response {
        try authorizeAdmin(request)
        let path = try Self.path(context)
        let buffer = try await collect(request)
        try await storeCall { try await self.broker.store.putResource(path.description, Array(buffer.readableBytesView)) }
        return Self.json(status: .ok, ["status": "ok", "resource": path.description])
    }

    func deleteResource(_ request: Request, _ context: KBSRequestContext) async throws -> Response {
        try authorizeAdmin(request)
        let path = try Self.path(context)
        guard try await storeCall({ try await self.broker.store.deleteResource(path.description) }) else {
            throw KBSFailure.notFound("resource \(path) does not exist")
        }
        return Self.json(status: .ok, ["status": "deleted", "resource": path.description])
    }

    func authorizeAdmin(_ request: Request) throws(KBSFailure) {
        guard let admin else { throw KBSFailure(status: 403, kind: "AdminAuth", detail: "admin API disabled: start the KBS with --admin-key") }
        try admin.authorize(request.headers[.authorization], now: Date())
    }
}
