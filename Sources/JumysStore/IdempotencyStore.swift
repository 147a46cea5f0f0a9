import Crypto
import FluentKit
import Foundation
import SQLKit

/// Idempotency keys of the API's creating requests: a client that sends `Idempotency-Key` with a POST and retries it
/// (a timeout, a dropped connection) gets the first answer again instead of a second record. A key is the caller's
/// own (per user), bound to its request (method, path and body), and kept for a day.
struct CreateIdempotencyKeys: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("idempotency_keys")
            .field("id", .int, .identifier(auto: true))
            .field("user_id", .int, .required)
            .field("key", .string, .required)
            .field("request_hash", .string, .required)
            .field("status", .int)
            .field("content_type", .string)
            .field("location", .string)
            .field("body", .data)
            .field("created_at", .double, .required)
            .unique(on: "user_id", "key")
            .create()
        if let sql = db as? any SQLDatabase {
            try await sql.create(index: "idempotency_keys_created_idx").on("idempotency_keys").column("created_at").run()
        }
    }
    func revert(on db: any Database) async throws { try await db.schema("idempotency_keys").delete() }
}

public struct IdempotencyStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }
    public static let lifetime: TimeInterval = 24 * 3600

    /// A stored answer.
    public struct Answer: Decodable, Sendable { public let status: Int?; public let content_type: String?; public let location: String?; public let body: Data?; public let request_hash: String }

    public enum Claim: Sendable { case claimed(Int), replay(Answer), inProgress, mismatch }

    public static func hash(method: String, path: String, body: Data) -> String {
        var h = SHA256()
        h.update(data: Data("\(method) \(path)\n".utf8))
        h.update(data: body)
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Claims the key for this request, or says what an earlier request with it came to.
    public func claim(user: Int, key: String, requestHash: String) async throws -> Claim {
        let now = store.now().timeIntervalSince1970
        let isPostgres = store.isPostgres
        return try await store.bookkeeping { db in
            let sql = db as! any SQLDatabase
            try await sql.delete(from: "idempotency_keys").where("created_at", .lessThan, SQLBind(now - Self.lifetime)).run()
            struct R: Decodable { let id: Int }
            var insert = sql.insert(into: "idempotency_keys").columns("user_id", "key", "request_hash", "created_at")
                .values(SQLBind(user), SQLBind(key), SQLBind(requestHash), SQLBind(now))
            insert = insert.ignoringConflicts(with: ["user_id", "key"])
            if let row = try await insert.returning("id").first(decoding: R.self) { return .claimed(row.id) }
            var q = sql.select().columns("status", "content_type", "location", "body", "request_hash").from("idempotency_keys")
                .where("user_id", .equal, SQLBind(user)).where("key", .equal, SQLBind(key))
            if isPostgres { q = q.for(.update) }
            guard let a = try await q.first(decoding: Answer.self) else { return .inProgress }
            if a.request_hash != requestHash { return .mismatch }
            return a.status == nil ? .inProgress : .replay(a)
        }
    }

    /// Keeps the answer of a claimed key.
    public func keep(_ id: Int, status: Int, contentType: String?, location: String?, body: Data) async throws {
        try await store.bookkeeping { db in
            try await (db as! any SQLDatabase).update("idempotency_keys").set("status", to: SQLBind(status)).set("content_type", to: SQLBind(contentType))
                .set("location", to: SQLBind(location)).set("body", to: SQLBind(body)).where("id", .equal, SQLBind(id)).run()
        }
    }

    /// Frees a claimed key whose request failed, so that a retry runs it.
    public func release(_ id: Int) async throws {
        try await store.bookkeeping { db in try await (db as! any SQLDatabase).delete(from: "idempotency_keys").where("id", .equal, SQLBind(id)).run() }
    }
}
