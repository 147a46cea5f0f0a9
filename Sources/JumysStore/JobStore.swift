import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// Background work other than imports: a month's payroll and a report pack. A job is asked for by a user, runs in
/// the background under a claim (a lease renewed at every step, as imports do), shows its progress, and ends with
/// a result and, for a report pack, a file. The same work asked for twice while it is waiting or running — by two
/// people, or on two app instances at once — is one job: `active_key` is unique while a job is not finished.
struct CreateBackgroundJobs: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("background_jobs")
            .field("id", .int, .identifier(auto: true))
            .field("kind", .string, .required)
            .field("subject", .string, .required)
            .field("active_key", .string)
            .field("params", .string, .required)
            .field("user_id", .int, .required)
            .field("login", .string, .required)
            .field("state", .string, .required)
            .field("done", .int, .required)
            .field("total", .int, .required)
            .field("result", .string)
            .field("problem", .string)
            .field("created_at", .string, .required)
            .field("updated_at", .string, .required)
            .field("finished_at", .string)
            .field("lease_owner", .string)
            .field("lease_until", .double)
            .field("runs", .int, .required)
            .field("ran_by", .string)
            .unique(on: "active_key")
            .create()
        try await db.schema("background_job_files")
            .field("job_id", .int, .identifier(auto: false))
            .field("name", .string, .required)
            .field("content", .data, .required)
            .create()
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.create(index: "background_jobs_kind_idx").on("background_jobs").column("kind").column("subject").run()
        // The person card lists a person's placements: without this, every card read the whole table (measured at
        // national scale, issue 11).
        try await sql.create(index: "placements_person_idx").on("placements").column("person_id").run()
    }
    func revert(on db: any Database) async throws {
        if let sql = db as? any SQLDatabase { try await sql.drop(index: "placements_person_idx").run() }
        try await db.schema("background_job_files").delete()
        try await db.schema("background_jobs").delete()
    }
}

public enum JobKind: String, CaseIterable, Sendable, Codable {
    /// A month's subsidy payroll (B2, B3) for every running placement; subject `2026-10`.
    case payroll
    /// A monthly report (G1 or G4) for the nation and every region by district as one workbook; subject
    /// `roadmap_monthly/2026-10`.
    case reportPack = "report_pack"
}

public struct BackgroundJob: Codable, Sendable, Equatable {
    public let id: Int
    public let kind: String
    public let subject: String
    public let params: String
    public let user_id: Int
    public let login: String
    public let state: String
    public let done: Int
    public let total: Int
    public let result: String?
    public let problem: String?
    public let created_at: String
    public let updated_at: String
    public let finished_at: String?
    /// How many times a runner took the job up (more than one: it was resumed after a runner stopped).
    public let runs: Int
    /// The runner (host:pid:…) that last took the job up: which app instance did the work.
    public let ran_by: String?
    public var isFinished: Bool { state == "done" || state == "failed" }
    public var percent: Int { total <= 0 ? (isFinished ? 100 : 0) : min(100, done * 100 / total) }
    /// The result's fields (all text).
    public var figures: [String: String] { result.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:] }
    public var parameters: [String: String] { (try? JSONDecoder().decode([String: String].self, from: Data(params.utf8))) ?? [:] }
}

public struct JobStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    /// How long a runner's claim lasts without news (each step renews it).
    public static let lease: TimeInterval = 60

    static let columns = ["id", "kind", "subject", "params", "user_id", "login", "state", "done", "total", "result", "problem", "created_at", "updated_at", "finished_at", "runs", "ran_by"]

    public enum Failure: Error, Equatable { case busy, leaseLost }

    /// The work a job does, given its job and a way to report progress (which renews the claim and throws
    /// `Failure.leaseLost` when another runner has taken the job over). Returns the result's fields and a file.
    public typealias Work = @Sendable (BackgroundJob, _ progress: @escaping @Sendable (_ done: Int, _ total: Int) async throws -> Void) async throws -> (result: [String: String], file: (name: String, data: Data)?)

    /// Asks for a job. While a job of the same kind and subject (and `scope`, for work whose result depends on who
    /// asks) is waiting or running, that job is the answer, whoever asked for it.
    public func submit(_ kind: JobKind, subject: String, scope: String = "", params: [String: String] = [:], by user: UserContext) async throws -> (job: BackgroundJob, existing: Bool) {
        let key = "\(kind.rawValue):\(subject):\(scope)"
        if let j = try await active(key) { return (j, true) }
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let paramsText = String(decoding: try enc.encode(params), as: UTF8.self)
        do {
            let id = try await store.write(as: user.actor) { ctx in
                struct R: Decodable { let id: Int }
                let now = AuditLog.timestamp(ctx.now)
                guard let row = try await ctx.sql.insert(into: "background_jobs")
                    .columns("kind", "subject", "active_key", "params", "user_id", "login", "state", "done", "total", "created_at", "updated_at", "runs")
                    .values(SQLBind(kind.rawValue), SQLBind(subject), SQLBind(key), SQLBind(paramsText), SQLBind(user.id), SQLBind(user.login), SQLBind("queued"), SQLBind(0), SQLBind(0),
                            SQLBind(now), SQLBind(now), SQLBind(0))
                    .returning("id").first(decoding: R.self) else { throw StoreError.conflict("job not recorded") }
                try ctx.audit("submit", entity: "background_job", id: String(row.id), after: ["kind": kind.rawValue, "subject": subject])
                return row.id
            }
            return (try await job(id)!, false)
        } catch let e as any DatabaseError where e.isConstraintFailure {
            // Asked for twice at once (two instances, two people): one job.
            guard let j = try await active(key) else { throw StoreError.conflict("job not recorded") }
            return (j, true)
        }
    }

    func active(_ key: String) async throws -> BackgroundJob? {
        try await store.sql.select().columns(Self.columns.map { SQLIdentifier($0) }).from("background_jobs").where("active_key", .equal, SQLBind(key)).first(decoding: BackgroundJob.self)
    }

    public func job(_ id: Int) async throws -> BackgroundJob? {
        try await store.sql.select().columns(Self.columns.map { SQLIdentifier($0) }).from("background_jobs").where("id", .equal, SQLBind(id)).first(decoding: BackgroundJob.self)
    }

    /// A job the user may see: their own, or any for an administrator.
    public func job(_ id: Int, for user: UserContext) async throws -> BackgroundJob? {
        guard let j = try await job(id), j.user_id == user.id || user.role == .administrator else { return nil }
        return j
    }

    /// The user's jobs (everyone's for an administrator), newest first.
    public func jobs(for user: UserContext, kind: JobKind? = nil, limit: Int = 50) async throws -> [BackgroundJob] {
        var q = store.sql.select().columns(Self.columns.map { SQLIdentifier($0) }).from("background_jobs")
        if user.role != .administrator { q = q.where("user_id", .equal, SQLBind(user.id)) }
        if let kind { q = q.where("kind", .equal, SQLBind(kind.rawValue)) }
        return try await q.orderBy("id", .descending).limit(limit).all(decoding: BackgroundJob.self)
    }

    /// The latest job of a kind and subject, finished or not.
    public func latest(_ kind: JobKind, subject: String) async throws -> BackgroundJob? {
        try await store.sql.select().columns(Self.columns.map { SQLIdentifier($0) }).from("background_jobs")
            .where("kind", .equal, SQLBind(kind.rawValue)).where("subject", .equal, SQLBind(subject)).orderBy("id", .descending).first(decoding: BackgroundJob.self)
    }

    public func file(of id: Int) async throws -> (name: String, data: Data)? {
        struct F: Decodable { let name: String; let content: Data }
        return try await store.sql.select().columns("name", "content").from("background_job_files").where("job_id", .equal, SQLBind(id)).first(decoding: F.self).map { ($0.name, $0.content) }
    }

    /// Jobs waiting for a runner: queued, or running under a claim that has lapsed.
    public func waiting() async throws -> [Int] { try await Lease.waiting(store, table: "background_jobs") }

    /// Claims the job for `owner` (counting the run and naming its runner); false when another live runner holds it or it is finished.
    func claim(_ id: Int, owner: String) async throws -> Bool {
        try await Lease.claim(store, table: "background_jobs", id: id, owner: owner, duration: Self.lease) {
            $0.set("runs", to: SQLRaw("runs + 1")).set("ran_by", to: SQLBind(owner))
        }
    }

    /// Records progress and renews the claim; `Failure.leaseLost` when another runner holds the job now.
    func progress(_ id: Int, owner: String, done: Int, total: Int) async throws {
        let now = store.now()
        let moved = try await store.bookkeeping { db in
            try await (db as! any SQLDatabase).update("background_jobs").set("done", to: SQLBind(done)).set("total", to: SQLBind(total))
                .set("updated_at", to: SQLBind(AuditLog.timestamp(now))).set("lease_until", to: SQLBind(now.timeIntervalSince1970 + Self.lease))
                .where("id", .equal, SQLBind(id)).where("lease_owner", .equal, SQLBind(owner)).returning("id").all().count
        }
        guard moved == 1 else { throw Failure.leaseLost }
    }

    /// Runs a job to its end, or resumes it: the work must be safe to start again (payroll leaves the lines already
    /// written; a report pack is computed again). Throws `Failure.busy` when another live runner holds it.
    @discardableResult
    public func run(_ id: Int, owner: String = ImportStore.runnerName(), work: Work) async throws -> BackgroundJob {
        guard let j = try await job(id) else { throw StoreError.notFound }
        if j.isFinished { return j }
        guard try await claim(id, owner: owner) else { throw Failure.busy }
        let running = try await job(id)!
        let outcome: (result: [String: String], file: (name: String, data: Data)?)
        do {
            outcome = try await work(running) { done, total in try await self.progress(id, owner: owner, done: done, total: total) }
        } catch let e as FieldErrors {
            try await finish(id, owner: owner, result: nil, file: nil, problem: e.errors.first?.code ?? "job_failed")
            return try await job(id)!
        } catch where error is RuleInputError || error is ParameterMissing {
            try await finish(id, owner: owner, result: nil, file: nil, problem: "rules_not_in_force")
            return try await job(id)!
        }
        try await finish(id, owner: owner, result: outcome.result, file: outcome.file, problem: nil)
        return try await job(id)!
    }

    func finish(_ id: Int, owner: String, result: [String: String]?, file: (name: String, data: Data)?, problem: String?) async throws {
        let now = store.now()
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let resultText = try result.map { String(decoding: try enc.encode($0), as: UTF8.self) }
        let moved = try await store.bookkeeping { db in
            let sql = db as! any SQLDatabase
            let n = try await sql.update("background_jobs").set("state", to: SQLBind(problem == nil ? "done" : "failed")).set("problem", to: SQLBind(problem))
                .set("result", to: SQLBind(resultText)).set("active_key", to: SQLBind(String?.none))
                .set("finished_at", to: SQLBind(AuditLog.timestamp(now))).set("updated_at", to: SQLBind(AuditLog.timestamp(now)))
                .set("lease_owner", to: SQLBind(String?.none)).set("lease_until", to: SQLBind(Double?.none))
                .where("id", .equal, SQLBind(id)).where("lease_owner", .equal, SQLBind(owner)).returning("id").all().count
            if n == 1, let file {
                try await sql.delete(from: "background_job_files").where("job_id", .equal, SQLBind(id)).run()
                try await sql.insert(into: "background_job_files").columns("job_id", "name", "content").values(SQLBind(id), SQLBind(file.name), SQLBind(file.data)).run()
            }
            return n
        }
        guard moved == 1 else { throw Failure.leaseLost }
    }

    // MARK: the payroll's work

    /// A month's payroll as a job: its progress is the placements gone through of those running in the month.
    public static func payrollWork(store: Store, env: @escaping @Sendable () async throws -> RulesEnvironment) -> Work {
        { job, progress in
            guard let month = Payroll.Month(job.subject) else { throw FieldErrors(errors: [FieldError("month", "job_failed")]) }
            let payroll = Payroll(store: store)
            let total = try await payroll.running(month: month)
            try await progress(0, total)
            let actor = Actor(userID: job.user_id, login: job.login)
            // Batches of 250 placements: a progress step (and a transaction) every few hundred lines.
            let r = try await payroll.run(month: month, env: try await env(), by: actor, batchSize: 250) { seen, _ in try await progress(seen, max(total, seen)) }
            return (["month": month.description, "placements": String(r.placements), "added": String(r.added), "total": r.total.decimalString,
                     "held": String(r.held), "held_total": r.heldTotal.decimalString, "held_regions": r.heldRegions.sorted().joined(separator: ",")], nil)
        }
    }
}
