import FluentKit
import Foundation
import JumysDomain
import SQLKit

/// Tokens for outside systems (the labour-contract system, the labour market's register, an employer's HR system):
/// an administrator issues one with a role, a territory and the API areas it may call; only the SHA-256 of the
/// secret is kept; it works until revoked. Each token acts as a user of its own (`sys.NAME`, no password, so it
/// cannot sign in to the pages), so the same rules of role and territory apply, and the audit log names it.
struct CreateSystemTokens: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("system_tokens")
            .field("id", .int, .identifier(auto: true))
            .field("name", .string, .required)
            .field("token_hash", .string, .required)
            .field("user_id", .int, .required, .references("users", "id"))
            .field("areas", .string, .required)
            .field("created_by", .string, .required)
            .field("created_at", .string, .required)
            .field("last_used_at", .string)
            .field("revoked_at", .string)
            .field("revoked_by", .string)
            .unique(on: "token_hash")
            .unique(on: "name")
            .create()
    }
    func revert(on db: any Database) async throws {
        try await db.schema("system_tokens").delete()
    }
}

public struct SystemToken: Codable, Sendable, Equatable {
    public let id: Int; public let name: String; public let user_id: Int; public let areas: String
    public let created_by: String; public let created_at: String; public let last_used_at: String?; public let revoked_at: String?; public let revoked_by: String?
    public var areaList: [String] { areas.split(separator: ",").map(String.init) }
}

extension Directory {
    /// The roles a system may be given: casework (job seekers, hires), an akimat's projects, reading only, everything.
    public static let systemRoles: [Role] = [.caseworker, .akimatOfficer, .analyst, .administrator]

    struct TokenSnapshot: Encodable, Sendable { let name: String; let role: String; let region_iso: String?; let areas: String }

    /// Issues a token; returns its id and the secret, shown once. `areas` are the API's tags.
    public func issueToken(name: String, role: Role, regionISO: String?, areas: [String], allowedAreas: Set<String>, by admin: UserContext) async throws -> (id: Int, token: String) {
        guard admin.role == .administrator, admin.canWrite else { throw FieldErrors(errors: [FieldError("name", "read_only")]) }
        var errors: [FieldError] = []
        let name = name.trimmingCharacters(in: .whitespaces).lowercased()
        if name.wholeMatch(of: /[a-z0-9][a-z0-9._-]{1,58}/) == nil { errors.append(FieldError("name", "token_name_invalid")) }
        if !Self.systemRoles.contains(role) { errors.append(FieldError("role", "choose_from_list")) }
        if let r = regionISO, RegionCode(r)?.isKnown != true { errors.append(FieldError("region_iso", "choose_from_list")) }
        if role == .administrator && regionISO != nil { errors.append(FieldError("region_iso", "token_admin_national")) }
        if (role == .caseworker || role == .akimatOfficer) && regionISO == nil { errors.append(FieldError("region_iso", "token_region_required")) }
        let chosen = Set(areas)
        if chosen.isEmpty || !chosen.isSubset(of: allowedAreas) { errors.append(FieldError("areas", "choose_from_list")) }
        struct N: Decodable { let n: Int }
        if let n = try await store.sql.select().column(SQLRaw("COUNT(*)"), as: "n").from("system_tokens").where("name", .equal, SQLBind(name)).first(decoding: N.self)?.n, n > 0 {
            errors.append(FieldError("name", "token_name_taken"))
        }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let token = "jst_" + Self.randomToken()
        let login = "sys." + name
        let areaText = chosen.sorted().joined(separator: ",")
        return try await store.write(as: admin.actor) { ctx in
            // The system's own user: no password can match "!" (not a bcrypt hash).
            struct R: Decodable { let id: Int }
            let u = UserRecord()
            u.login = login; u.passwordHash = "!"; u.role = role.rawValue; u.displayName = name; u.regionISO = regionISO
            u.active = true; u.createdAt = ctx.now
            try await u.create(on: ctx.db)
            guard let row = try await ctx.sql.insert(into: "system_tokens").columns("name", "token_hash", "user_id", "areas", "created_by", "created_at")
                .values(SQLBind(name), SQLBind(Self.hashToken(token)), SQLBind(u.id!), SQLBind(areaText), SQLBind(admin.login), SQLBind(AuditLog.timestamp(ctx.now)))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("token not issued") }
            try ctx.audit("issue", entity: "system_token", id: String(row.id), after: TokenSnapshot(name: name, role: role.rawValue, region_iso: regionISO, areas: areaText))
            return (row.id, token)
        }
    }

    static let tokenColumns = ["id", "name", "user_id", "areas", "created_by", "created_at", "last_used_at", "revoked_at", "revoked_by"]

    public func systemTokens() async throws -> [SystemToken] {
        try await store.sql.select().columns(Self.tokenColumns.map { SQLIdentifier($0) }).from("system_tokens").orderBy("name").all(decoding: SystemToken.self)
    }

    /// Revokes a token at once: its next call answers 401. The system's user is deactivated with it.
    public func revokeToken(_ id: Int, by admin: UserContext) async throws {
        guard admin.role == .administrator, admin.canWrite else { throw FieldErrors(errors: [FieldError("token", "read_only")]) }
        try await store.write(as: admin.actor) { ctx in
            guard let t = try await ctx.sql.select().columns(Self.tokenColumns.map { SQLIdentifier($0) }).from("system_tokens").where("id", .equal, SQLBind(id)).first(decoding: SystemToken.self) else {
                throw StoreError.notFound
            }
            guard t.revoked_at == nil else { return }
            try await ctx.sql.update("system_tokens").set("revoked_at", to: SQLBind(AuditLog.timestamp(ctx.now))).set("revoked_by", to: SQLBind(admin.login)).where("id", .equal, SQLBind(id)).run()
            try await ctx.sql.update("users").set("active", to: SQLBind(false)).where("id", .equal, SQLBind(t.user_id)).run()
            try ctx.audit("revoke", entity: "system_token", id: String(id), before: ["name": t.name, "revoked_at": ""], after: ["name": t.name, "revoked_at": AuditLog.timestamp(ctx.now)])
        }
    }

    /// The system behind a token, if it is not revoked: its user, its areas and the token's id.
    public func systemToken(_ token: String) async throws -> (user: UserContext, areas: Set<String>, id: Int, name: String)? {
        guard token.hasPrefix("jst_"),
              let t = try await store.sql.select().columns(Self.tokenColumns.map { SQLIdentifier($0) }).from("system_tokens")
                .where("token_hash", .equal, SQLBind(Self.hashToken(token))).where("revoked_at", .is, SQLLiteral.null).first(decoding: SystemToken.self),
              let user = try await user(id: t.user_id) else { return nil }
        let now = store.now()
        // Last use, at most once a minute (a bookkeeping write, not audited).
        if t.last_used_at.flatMap({ ISO8601DateFormatter.withFraction.date(from: $0) }).map({ now.timeIntervalSince($0) > 60 }) ?? true {
            try await store.bookkeeping { db in
                try await (db as! any SQLDatabase).update("system_tokens").set("last_used_at", to: SQLBind(AuditLog.timestamp(now))).where("id", .equal, SQLBind(t.id)).run()
            }
        }
        return (user, Set(t.areaList), t.id, t.name)
    }

    struct CallSnapshot: Encodable, Sendable { let method: String; let route: String; let status: Int }

    /// One call of a system, in the audit log under the system's name.
    public func auditCall(token id: Int, user: UserContext, method: String, route: String, status: Int) async throws {
        try await store.write(as: user.actor) { ctx in
            try ctx.audit("api_call", entity: "system_token", id: String(id), after: CallSnapshot(method: method, route: route, status: status))
        }
    }
}

extension ISO8601DateFormatter {
    static var withFraction: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
