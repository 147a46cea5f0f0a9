import Crypto
import Foundation
import SQLKit

/// One change waiting to be written to the audit log.
public struct AuditEntry: Sendable {
    public let action: String
    public let entity: String
    public let entityID: String
    public let before: String?
    public let after: String?
    public let actor: Actor
    public let at: Date
}

/// The append-only audit log: each record carries the SHA-256 of its content and of the record before it.
public enum AuditLog {
    public static let genesisHash = String(repeating: "0", count: 64)

    /// Sorted-key JSON, so that the same snapshot always hashes the same.
    static func canonicalJSON(_ value: any Encodable) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        enc.dateEncodingStrategy = .iso8601
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }

    /// UTC timestamp with milliseconds, stored as text so that the hash does not depend on a driver's date format.
    public static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    /// The hash of a record: every field length-prefixed, so no two records can share an encoding.
    public static func hash(seq: Int64, at: String, actor: String, actorUserID: Int?, action: String, entity: String,
                            entityID: String, before: String?, after: String?, prevHash: String) -> String {
        var h = SHA256()
        for field in [String(seq), at, actor, actorUserID.map(String.init) ?? "", action, entity, entityID,
                      before ?? "\u{0}", after ?? "\u{0}", prevHash] {
            let bytes = Array(field.utf8)
            h.update(data: Array("\(bytes.count):".utf8))
            h.update(data: bytes)
        }
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }

    struct Head: Decodable { let seq: Int64; let hash: String }

    /// Appends entries to the chain inside the caller's transaction; the head row is locked first
    /// (FOR UPDATE on PostgreSQL; SQLite writers are already serialised) so concurrent writers cannot fork the chain.
    static func append(_ entries: [AuditEntry], on sql: any SQLDatabase, isPostgres: Bool) async throws {
        guard !entries.isEmpty else { return }
        var select = sql.select().columns("seq", "hash").from("audit_head").where("id", .equal, SQLBind(1))
        if isPostgres { select = select.for(.update) }
        guard let head = try await select.first(decoding: Head.self) else {
            throw StoreError.configuration("audit_head row is missing: the database was not migrated by Jumys")
        }
        var seq = head.seq
        var prev = head.hash
        for e in entries {
            seq += 1
            let at = timestamp(e.at)
            let hash = hash(seq: seq, at: at, actor: e.actor.login, actorUserID: e.actor.userID, action: e.action,
                            entity: e.entity, entityID: e.entityID, before: e.before, after: e.after, prevHash: prev)
            try await sql.insert(into: "audit_log")
                .columns("seq", "at", "actor", "actor_user_id", "action", "entity", "entity_id", "before", "after", "prev_hash", "hash")
                .values(SQLBind(seq), SQLBind(at), SQLBind(e.actor.login), SQLBind(e.actor.userID), SQLBind(e.action),
                        SQLBind(e.entity), SQLBind(e.entityID), SQLBind(e.before), SQLBind(e.after), SQLBind(prev), SQLBind(hash))
                .run()
            prev = hash
        }
        try await sql.update("audit_head").set("seq", to: SQLBind(seq)).set("hash", to: SQLBind(prev))
            .where("id", .equal, SQLBind(1)).run()
    }

    /// The outcome of checking the chain.
    public enum Verification: Equatable, Sendable {
        case intact(count: Int64)
        case broken(seq: Int64, reason: String)
    }

    struct Row: Decodable {
        let seq: Int64; let at: String; let actor: String; let actor_user_id: Int?; let action: String
        let entity: String; let entity_id: String; let before: String?; let after: String?
        let prev_hash: String; let hash: String
    }

    /// Walks the whole chain in pages (never the whole table in memory) and names the first bad record.
    public static func verify(_ sql: any SQLDatabase, pageSize: Int = 2000) async throws -> Verification {
        var expectedSeq: Int64 = 1
        var prev = genesisHash
        while true {
            let rows = try await sql.select().column("*").from("audit_log")
                .where("seq", .greaterThanOrEqual, SQLBind(expectedSeq))
                .orderBy("seq").limit(pageSize).all(decoding: Row.self)
            for r in rows {
                if r.seq != expectedSeq { return .broken(seq: expectedSeq, reason: "record missing") }
                if r.prev_hash != prev { return .broken(seq: r.seq, reason: "does not link to the record before it") }
                let h = hash(seq: r.seq, at: r.at, actor: r.actor, actorUserID: r.actor_user_id, action: r.action,
                             entity: r.entity, entityID: r.entity_id, before: r.before, after: r.after, prevHash: r.prev_hash)
                if h != r.hash { return .broken(seq: r.seq, reason: "content does not match its hash") }
                prev = r.hash
                expectedSeq += 1
            }
            if rows.count < pageSize { break }
        }
        let count = expectedSeq - 1
        if let head = try await sql.select().columns("seq", "hash").from("audit_head").where("id", .equal, SQLBind(1)).first(decoding: Head.self) {
            if head.seq != count { return .broken(seq: count + 1, reason: "head counts \(head.seq) records but the log has \(count)") }
            if head.hash != prev { return .broken(seq: count, reason: "last record does not match the head") }
        }
        return .intact(count: count)
    }
}
