import Foundation
import SQLKit

/// The claim a runner holds on a background job (an import or a payroll/report job): the job's table has `state`,
/// `lease_owner` and `lease_until`. One runner at a time works on a job; a claim is renewed at every step, and a
/// claim that lapsed, or whose runner was a process on this host that is gone, may be taken over.
enum Lease {
    /// Jobs waiting for a runner: queued, or running under a claim that has lapsed.
    static func waiting(_ store: Store, table: String) async throws -> [Int] {
        struct R: Decodable { let id: Int }
        let now = store.now().timeIntervalSince1970
        return try await store.sql.select().column("id").from(table)
            .where(group: { $0.where("state", .equal, SQLBind("queued")).orWhere(group: { $0.where("state", .equal, SQLBind("running")).where("lease_until", .lessThan, SQLBind(now)) }) })
            .orderBy("id").all(decoding: R.self).map(\.id)
    }

    /// Claims the job for `owner` for `duration` seconds, setting also what `also` adds to the update; false when
    /// another live runner holds it or it is finished.
    static func claim(_ store: Store, table: String, id: Int, owner: String, duration: TimeInterval,
                      also: @escaping @Sendable (SQLUpdateBuilder) -> SQLUpdateBuilder = { $0 }) async throws -> Bool {
        struct L: Decodable { let state: String; let lease_owner: String?; let lease_until: Double? }
        let now = store.now().timeIntervalSince1970
        guard let l = try await store.sql.select().columns("state", "lease_owner", "lease_until").from(table).where("id", .equal, SQLBind(id)).first(decoding: L.self),
              l.state == "queued" || l.state == "running" else { return false }
        guard l.lease_owner == owner || ImportStore.abandoned(owner: l.lease_owner, until: l.lease_until, now: now) else { return false }
        // Conditional on the claim read: of two runners racing for it, one wins.
        let previous = l.lease_owner, lease = now + duration
        let won = try await store.bookkeeping { db in
            let q = also((db as! any SQLDatabase).update(table).set("lease_owner", to: SQLBind(owner)).set("lease_until", to: SQLBind(lease)).set("state", to: SQLBind("running")))
                .where("id", .equal, SQLBind(id))
            return try await (previous.map { q.where("lease_owner", .equal, SQLBind($0)) } ?? q.where("lease_owner", .is, SQLLiteral.null)).returning("id").all().count
        }
        return won == 1
    }
}
