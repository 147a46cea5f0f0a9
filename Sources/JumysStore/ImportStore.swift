import Crypto
import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
#if canImport(Glibc)
import Glibc
#endif

/// Bulk imports: a job per uploaded file, its bytes kept with it, its rows checked and committed in batches, each
/// batch in one transaction with the job's checkpoint, so a killed import resumes at the first row not yet committed
/// and ends as one clean run would. The same file submitted again by the same user is the same job: nothing is
/// created twice. Every row is also checked against what is already stored (a person's IIN, a vacancy's reference,
/// a referral's state, a project's reference, a month's report), so another file with the same rows adds nothing.
struct CreateImports: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("import_jobs")
            .field("id", .int, .identifier(auto: true))
            .field("kind", .string, .required)
            .field("file_name", .string, .required)
            .field("file_sha256", .string, .required)
            .field("user_id", .int, .required)
            .field("login", .string, .required)
            .field("rows_total", .int, .required)
            .field("rows_done", .int, .required)
            .field("added", .int, .required)
            .field("present", .int, .required)
            .field("failed", .int, .required)
            .field("state", .string, .required)
            .field("problem", .string)
            .field("created_at", .string, .required)
            .field("updated_at", .string, .required)
            .field("finished_at", .string)
            .field("lease_owner", .string)
            .field("lease_until", .double)
            .unique(on: "kind", "file_sha256", "user_id")
            .create()
        try await db.schema("import_files")
            .field("job_id", .int, .identifier(auto: false))
            .field("content", .data, .required)
            .create()
        try await db.schema("import_errors")
            .field("id", .int, .identifier(auto: true))
            .field("job_id", .int, .required)
            .field("row", .int, .required)
            .field("column", .string, .required)
            .field("code", .string, .required)
            .field("args", .string, .required)
            .create()
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.create(index: "import_errors_job_idx").on("import_errors").column("job_id").column("row").run()
        // The references an outside system gives its vacancies and projects: a row imported twice is found again.
        try await sql.alter(table: "vacancies").column("external_ref", type: .text).run()
        try await sql.alter(table: "projects").column("external_ref", type: .text).run()
        try await sql.create(index: "vacancies_external_ref_idx").on("vacancies").column("employer_id").column("external_ref").unique().run()
        try await sql.create(index: "projects_external_ref_idx").on("projects").column("region_iso").column("external_ref").unique().run()
    }
    func revert(on db: any Database) async throws {
        if let sql = db as? any SQLDatabase {
            try await sql.drop(index: "vacancies_external_ref_idx").run()
            try await sql.drop(index: "projects_external_ref_idx").run()
            try await sql.alter(table: "vacancies").dropColumn("external_ref").run()
            try await sql.alter(table: "projects").dropColumn("external_ref").run()
        }
        try await db.schema("import_errors").delete()
        try await db.schema("import_files").delete()
        try await db.schema("import_jobs").delete()
    }
}

/// What a file may import.
public enum ImportKind: String, CaseIterable, Sendable, Codable {
    case persons, vacancies
    case labourContracts = "labour-contracts"
    case projects, progress

    /// The columns a file of this kind is read by (first the required ones).
    public var columns: [String] {
        switch self {
        case .persons: return PersonsImport.columns
        case .vacancies: return VacanciesImport.columns
        case .labourContracts: return LabourContractsImport.columns
        case .projects: return ProjectsImport.columns
        case .progress: return ProgressImport.columns
        }
    }
    public var required: [String] {
        switch self {
        case .persons: return PersonsImport.required
        case .vacancies: return VacanciesImport.required
        case .labourContracts: return LabourContractsImport.required
        case .projects: return ProjectsImport.required
        case .progress: return ProgressImport.required
        }
    }
    /// Whether the user's role does this kind of work at all (each row is still checked against their territory).
    public func allowed(for user: UserContext) -> Bool {
        guard user.canWrite else { return false }
        switch self {
        case .persons: return user.doesCasework
        case .vacancies: return [.caseworker, .contractor, .administrator].contains(user.role)
        case .labourContracts: return user.doesCasework || user.role == .contractor
        case .projects: return user.role == .akimatOfficer
        case .progress: return user.role == .contractor
        }
    }
}

/// An import job as stored.
public struct ImportJob: Codable, Sendable, Equatable {
    public let id: Int; public let kind: String; public let file_name: String; public let file_sha256: String
    public let user_id: Int; public let login: String
    public let rows_total: Int; public let rows_done: Int; public let added: Int; public let present: Int; public let failed: Int
    public let state: String; public let problem: String?
    public let created_at: String; public let updated_at: String; public let finished_at: String?
    public var isFinished: Bool { state == "done" || state == "failed" }
}

/// One bad row's problem: the file's row number, the column and a message code (with its arguments).
public struct ImportError: Sendable, Equatable {
    public let id: Int; public let row: Int; public let column: String; public let code: String; public let args: [String: String]
}

/// What checking a row found.
enum RowOutcome<Item: Sendable>: Sendable {
    case add(Item)
    case present
    case bad([FieldError])
}

/// A kind of import: how a batch of rows is checked (reads only) and how its good rows are written (inside the
/// batch's transaction). Returns the ids of what was created, for the audit record.
protocol Importer: Sendable {
    associatedtype Item: Sendable
    func check(_ rows: [(number: Int, cells: [String])], table: TableFile, user: UserContext) async throws -> [RowOutcome<Item>]
    func write(_ ctx: WriteContext, _ items: [Item], user: UserContext) async throws -> [Int]
}

public struct ImportStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    /// Rows committed per transaction.
    public static let batchSize = 500
    /// Files larger than this are refused.
    public static let maxBytes = 64 << 20
    /// How long a runner's claim on a job lasts without news (each batch renews it).
    public static let lease: TimeInterval = 60

    static let jobColumns = ["id", "kind", "file_name", "file_sha256", "user_id", "login", "rows_total", "rows_done", "added", "present", "failed", "state", "problem",
                             "created_at", "updated_at", "finished_at"]

    public enum Failure: Error, Equatable { case busy, leaseLost, unknownUser }

    /// Takes a file for import. The file's columns are checked now (a wrong file is refused before anything is
    /// stored); its rows are checked when it runs. The same file from the same user is the job already made.
    public func submit(_ kind: ImportKind, fileName: String, data: Data, by user: UserContext) async throws -> (job: ImportJob, existing: Bool) {
        guard kind.allowed(for: user) else { throw FieldErrors(errors: [FieldError("file", "read_only")]) }
        guard data.count <= Self.maxBytes else { throw FieldErrors(errors: [FieldError("file", "file_too_big")]) }
        let sha = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        if let j = try await find(kind: kind, sha: sha, user: user.id) { return (j, true) }
        let table = try TableFile.read(data)
        let missing = kind.required.filter { !table.header.contains($0) }
        guard missing.isEmpty else { throw FieldErrors(errors: [FieldError("file", "file_columns", ["columns": missing.joined(separator: ", ")])]) }
        guard !table.rows.isEmpty else { throw FieldErrors(errors: [FieldError("file", "file_empty")]) }
        let name = String(fileName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? "file").prefix(200)
        do {
            let id = try await store.write(as: user.actor) { ctx in
                struct R: Decodable { let id: Int }
                let now = AuditLog.timestamp(ctx.now)
                guard let row = try await ctx.sql.insert(into: "import_jobs")
                    .columns("kind", "file_name", "file_sha256", "user_id", "login", "rows_total", "rows_done", "added", "present", "failed", "state", "created_at", "updated_at")
                    .values(SQLBind(kind.rawValue), SQLBind(String(name)), SQLBind(sha), SQLBind(user.id), SQLBind(user.login), SQLBind(table.rows.count), SQLBind(0), SQLBind(0), SQLBind(0), SQLBind(0),
                            SQLBind("queued"), SQLBind(now), SQLBind(now))
                    .returning("id").first(decoding: R.self) else { throw StoreError.conflict("import not recorded") }
                try await ctx.sql.insert(into: "import_files").columns("job_id", "content").values(SQLBind(row.id), SQLBind(data)).run()
                try ctx.audit("submit", entity: "import_job", id: String(row.id), after: ["kind": kind.rawValue, "file_sha256": sha, "rows": String(table.rows.count)])
                return row.id
            }
            return (try await job(id)!, false)
        } catch let e as any DatabaseError where e.isConstraintFailure {
            // The same file sent twice at once: one job.
            guard let j = try await find(kind: kind, sha: sha, user: user.id) else { throw StoreError.conflict("import not recorded") }
            return (j, true)
        }
    }

    func find(kind: ImportKind, sha: String, user: Int) async throws -> ImportJob? {
        try await store.sql.select().columns(Self.jobColumns.map { SQLIdentifier($0) }).from("import_jobs")
            .where("kind", .equal, SQLBind(kind.rawValue)).where("file_sha256", .equal, SQLBind(sha)).where("user_id", .equal, SQLBind(user))
            .first(decoding: ImportJob.self)
    }

    public func job(_ id: Int) async throws -> ImportJob? {
        try await store.sql.select().columns(Self.jobColumns.map { SQLIdentifier($0) }).from("import_jobs").where("id", .equal, SQLBind(id)).first(decoding: ImportJob.self)
    }

    /// A job its submitter (or an administrator) may see.
    public func job(_ id: Int, for user: UserContext) async throws -> ImportJob? {
        guard let j = try await job(id), j.user_id == user.id || user.role == .administrator else { return nil }
        return j
    }

    /// The user's jobs, newest first (an administrator's list holds everyone's), by id with a cursor.
    public func jobs(for user: UserContext, limit: Int = 50, before: Int? = nil) async throws -> [ImportJob] {
        var q = store.sql.select().columns(Self.jobColumns.map { SQLIdentifier($0) }).from("import_jobs")
        if user.role != .administrator { q = q.where("user_id", .equal, SQLBind(user.id)) }
        if let before { q = q.where("id", .lessThan, SQLBind(before)) }
        return try await q.orderBy("id", .descending).limit(limit).all(decoding: ImportJob.self)
    }

    /// A job's row problems in the order they were found (row order), with a cursor: `after` the last one's id.
    public func errors(of id: Int, after: Int = 0, limit: Int = 1000) async throws -> [ImportError] {
        struct R: Decodable { let id: Int; let row: Int; let column: String; let code: String; let args: String }
        return try await store.sql.select().columns("id", "row", "column", "code", "args").from("import_errors").where("job_id", .equal, SQLBind(id))
            .where("id", .greaterThan, SQLBind(after)).orderBy("id").limit(limit).all(decoding: R.self)
            .map { ImportError(id: $0.id, row: $0.row, column: $0.column, code: $0.code, args: (try? JSONDecoder().decode([String: String].self, from: Data($0.args.utf8))) ?? [:]) }
    }

    /// Every problem of a job, page by page, to `each` (a long report is never held whole).
    public func eachError(of id: Int, _ each: (ImportError) async throws -> Void) async throws {
        var after = 0
        while true {
            let page = try await errors(of: id, after: after, limit: 2000)
            for e in page { try await each(e) }
            guard let last = page.last, page.count == 2000 else { return }
            after = last.id
        }
    }

    /// Jobs waiting for a runner: queued, or running under a claim that has lapsed.
    public func waiting() async throws -> [Int] { try await Lease.waiting(store, table: "import_jobs") }

    // MARK: running

    /// A name for this process as a job's runner: host, process id and a random part.
    public static func runnerName() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"
    }

    /// Whether a claim may be taken over: it has lapsed, or its runner was a process on this host that is gone.
    static func abandoned(owner: String?, until: Double?, now: Double) -> Bool {
        guard let owner, let until else { return true }
        if until < now { return true }
        let parts = owner.split(separator: ":")
        guard parts.count == 3, parts[0] == ProcessInfo.processInfo.hostName, let pid = Int32(parts[1]) else { return false }
        if pid == ProcessInfo.processInfo.processIdentifier { return false }
        #if canImport(Glibc)
        if kill(pid, 0) == -1 && errno == ESRCH { return true }
        // Killed but not yet reaped by its parent: a zombie runs nothing.
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        #else
        return false
        #endif
    }

    /// Claims the job for `owner`; false when another live runner holds it or it is finished.
    func claim(_ id: Int, owner: String) async throws -> Bool {
        try await Lease.claim(store, table: "import_jobs", id: id, owner: owner, duration: Self.lease)
    }

    /// Runs a job to its end (or resumes it): returns the finished job. Throws `Failure.busy` when another live
    /// runner holds it. `progress` hears after every batch. With `maxBatches`, stops after that many batches and
    /// returns the job still running under this runner's claim (work in slices).
    @discardableResult
    public func run(_ id: Int, owner: String = ImportStore.runnerName(), maxBatches: Int? = nil, progress: @escaping @Sendable (ImportJob) -> Void = { _ in }) async throws -> ImportJob {
        guard let j = try await job(id) else { throw StoreError.notFound }
        if j.isFinished { return j }
        guard try await claim(id, owner: owner) else { throw Failure.busy }
        guard let user = try await Directory(store: store).user(id: j.user_id) else {
            try await finish(id, owner: owner, problem: "import_user_gone")
            return try await job(id)!
        }
        struct C: Decodable { let content: Data }
        guard let content = try await store.sql.select().column("content").from("import_files").where("job_id", .equal, SQLBind(id)).first(decoding: C.self)?.content else {
            throw StoreError.notFound
        }
        let table: TableFile
        do { table = try TableFile.read(content) } catch let e as FieldErrors {
            try await finish(id, owner: owner, problem: e.errors.first?.code ?? "file_unreadable")
            return try await job(id)!
        }
        // Reference data every batch needs, read once for the run (not once a batch).
        let districts = try await DistrictRecord.query(on: store.db).all()
        let byKATO = Dictionary(districts.map { ($0.kato, $0) }, uniquingKeysWith: { a, _ in a })
        func rules() async throws -> RulesEnvironment {
            try await RulesStore(store: store).environment(files: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
        }
        let complete: Bool
        switch ImportKind(rawValue: j.kind) {
        case .persons:
            let importer = PersonsImport(store: store, byKATO: byKATO, byID: Dictionary(uniqueKeysWithValues: districts.map { ($0.id!, $0) }))
            complete = try await batches(j, table: table, importer: importer, user: user, owner: owner, maxBatches: maxBatches, progress: progress)
        case .vacancies:
            complete = try await batches(j, table: table, importer: VacanciesImport(store: store, byKATO: byKATO), user: user, owner: owner, maxBatches: maxBatches, progress: progress)
        case .labourContracts:
            complete = try await batches(j, table: table, importer: LabourContractsImport(store: store, env: try await rules()), user: user, owner: owner, maxBatches: maxBatches, progress: progress)
        case .projects:
            complete = try await batches(j, table: table, importer: ProjectsImport(store: store, byKATO: byKATO), user: user, owner: owner, maxBatches: maxBatches, progress: progress)
        case .progress:
            complete = try await batches(j, table: table, importer: ProgressImport(store: store, env: try await rules()), user: user, owner: owner, maxBatches: maxBatches, progress: progress)
        case nil:
            try await finish(id, owner: owner, problem: "import_kind_unknown")
            return try await job(id)!
        }
        guard complete else { return try await job(id)! }
        try await finish(id, owner: owner, problem: nil)
        let done = try await job(id)!
        progress(done)
        return done
    }

    struct BatchSnapshot: Encodable, Sendable { let rows: String; let added: Int; let present: Int; let failed: Int; let ids: [Int] }

    /// Commits the rows from the job's checkpoint on, batch by batch; false when stopped by `maxBatches` first.
    func batches<I: Importer>(_ j: ImportJob, table: TableFile, importer: I, user: UserContext, owner: String, maxBatches: Int?, progress: @escaping @Sendable (ImportJob) -> Void) async throws -> Bool {
        var start = j.rows_done, done = 0
        let all = Array(zip(table.rowNumbers, table.rows))
        while start < all.count {
            if let m = maxBatches, done >= m { return false }
            // A server shutting down stops between batches; the job resumes at its next start.
            try Task.checkCancellation()
            done += 1
            let end = min(start + Self.batchSize, all.count)
            let rows = all[start..<end].map { (number: $0.0, cells: $0.1) }
            var attempt = 0
            while true {
                do {
                    try await commit(j.id, rows: rows, end: end, table: table, importer: importer, user: user, owner: owner)
                    break
                } catch let e where ((e as? any DatabaseError)?.isConstraintFailure == true || Store.isTransientConflict(e)) && attempt < 10 {
                    // Another writer stored one of these rows between the check and the write (two files with the
                    // same people imported at once), or PostgreSQL broke a deadlock between two such writers by
                    // rolling this one back: check the batch again, after a short pause that differs between the
                    // writers so that they stop meeting.
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(Int.random(in: 20...200)))
                } catch is FieldErrors where attempt < 10 {
                    // A row's record changed between the check and the write (a referral closed meanwhile): again.
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(Int.random(in: 20...200)))
                }
            }
            start = end
            if let now = try await job(j.id) { progress(now) }
        }
        return true
    }

    func commit<I: Importer>(_ id: Int, rows: [(number: Int, cells: [String])], end: Int, table: TableFile, importer: I, user: UserContext, owner: String) async throws {
        // A cell longer than any field takes (a pasted document) fails its row, whatever the kind of file.
        let tooLong = rows.map { row in
            row.cells.indices.filter { row.cells[$0].count > TextLimit.characters }.map { FieldError($0 < table.header.count ? table.header[$0] : "row", "too_long") }
        }
        let outcomes = zip(try await importer.check(rows, table: table, user: user), tooLong).map { $1.isEmpty ? $0 : RowOutcome<I.Item>.bad($1) }
        var items: [I.Item] = [], present = 0, errors: [(Int, FieldError)] = []
        for (row, o) in zip(rows, outcomes) {
            switch o {
            case .add(let i): items.append(i)
            case .present: present += 1
            case .bad(let es): errors += es.map { (row.number, $0) }
            }
        }
        let failed = Set(errors.map(\.0)).count
        let lease = store.now().timeIntervalSince1970 + Self.lease
        let first = rows.first?.number ?? 0, last = rows.last?.number ?? 0
        let (added, errs, toWrite, presentCount) = (items.count, errors, items, present)
        try await store.write(as: user.actor) { ctx in
            let ids = try await importer.write(ctx, toWrite, user: user)
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            var values: [[any Encodable & Sendable]] = []
            for (row, e) in errs {
                values.append([id, row, e.field, e.code, String(decoding: try enc.encode(e.args), as: UTF8.self)])
            }
            try await NationalSeed.insert(ctx.sql, "import_errors", ["job_id", "row", "column", "code", "args"], values)
            let moved = try await ctx.sql.update("import_jobs").set("rows_done", to: SQLBind(end))
                .set(SQLIdentifier("added"), to: SQLRaw("added + \(added)")).set(SQLIdentifier("present"), to: SQLRaw("present + \(presentCount)"))
                .set(SQLIdentifier("failed"), to: SQLRaw("failed + \(failed)"))
                .set("updated_at", to: SQLBind(AuditLog.timestamp(ctx.now))).set("lease_until", to: SQLBind(lease))
                .where("id", .equal, SQLBind(id)).where("lease_owner", .equal, SQLBind(owner)).returning("id").all()
            // Lost the claim (taken over after a stall): this batch is the new runner's to write.
            guard moved.count == 1 else { throw Failure.leaseLost }
            try ctx.audit("import", entity: "import_job", id: String(id), after: BatchSnapshot(rows: "\(first)-\(last)", added: added, present: presentCount, failed: failed, ids: ids))
        }
    }

    func finish(_ id: Int, owner: String, problem: String?) async throws {
        let now = store.now()
        _ = try await store.bookkeeping { db in
            try await (db as! any SQLDatabase).update("import_jobs").set("state", to: SQLBind(problem == nil ? "done" : "failed")).set("problem", to: SQLBind(problem))
                .set("finished_at", to: SQLBind(AuditLog.timestamp(now))).set("updated_at", to: SQLBind(AuditLog.timestamp(now)))
                .set("lease_owner", to: SQLBind(String?.none)).set("lease_until", to: SQLBind(Double?.none))
                .where("id", .equal, SQLBind(id)).where("lease_owner", .equal, SQLBind(owner)).run()
        }
    }
}

extension TableFile {
    /// A yes/no cell: yes, true, 1, иә, да (any case); nil when it is neither.
    static func flag(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "", "no", "false", "0", "жоқ", "нет": return s.isEmpty ? nil : false
        case "yes", "true", "1", "иә", "ия", "да": return true
        default: return nil
        }
    }

    /// An amount of tenge as people write it in a table: spaces between thousands, a comma or a dot before tiyn.
    static func amount(_ s: String) -> Money? {
        Money(string: s.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\u{00A0}", with: "").replacingOccurrences(of: ",", with: "."))
    }

    /// A date cell: YYYY-MM-DD, DD.MM.YYYY, or a spreadsheet's day number.
    static func date(_ s: String) -> CivilDate? {
        if let d = CivilDate(iso: s) { return d }
        let p = s.split(separator: ".")
        if p.count == 3, let d = Int(p[0]), let m = Int(p[1]), let y = Int(p[2]), p[2].count == 4 { return CivilDate(year: y, month: m, day: d) }
        if let n = Int(s), (20_000...80_000).contains(n) { return CivilDate(daysSinceEpoch: n - 25_569) }
        return nil
    }
}

/// Persons from another system (the labour market's job seekers): `iin, last_name, first_name, district` and
/// `consent` required; `middle_name, settlement, rural, phone, email, education, occupation_isco, categories`
/// (separated by spaces, `|` or `,`) optional. The district is its KATO code (or Jumys's district number).
/// A person whose IIN is registered already is left as is.
struct PersonsImport: Importer {
    static let required = ["iin", "last_name", "first_name", "district", "consent"]
    static let columns = required + ["middle_name", "settlement", "rural", "phone", "email", "education", "occupation_isco", "categories"]
    let store: Store
    /// The districts by KATO code and by id, read once for the run.
    let byKATO: [String: DistrictRecord], byID: [Int: DistrictRecord]

    struct Item: Sendable {
        let iin: IIN; let last: String; let first: String; let middle: String?; let district: DistrictRecord
        let r: Registration
    }

    func check(_ rows: [(number: Int, cells: [String])], table: TableFile, user: UserContext) async throws -> [RowOutcome<Item>] {
        let today = store.today()
        // IINs already registered, in one query for the batch.
        let iins = rows.map { Self.iinCell(table.cell($0.cells, "iin")) }
        struct R: Decodable { let iin: String }
        var known = Set(try await store.sql.select().column("iin").from("persons").where("iin", .in, SQLBind.group(iins)).all(decoding: R.self).map(\.iin))
        var out: [RowOutcome<Item>] = []
        for row in rows {
            func v(_ c: String) -> String { table.cell(row.cells, c) }
            var errors: [FieldError] = []
            var categories: [PersonCategory] = []
            for c in v("categories").split(whereSeparator: { $0 == " " || $0 == "|" || $0 == "," }) {
                if let k = PersonCategory(rawValue: String(c)) { categories.append(k) } else { errors.append(FieldError("categories", "choose_from_list")) }
            }
            let rural = TableFile.flag(v("rural")), consent = TableFile.flag(v("consent"))
            if rural == nil && !v("rural").isEmpty { errors.append(FieldError("rural", "choose_from_list")) }
            let d = byKATO[v("district")] ?? Int(v("district")).flatMap { byID[$0] }
            if let d {
                if !Self.inScope(d, user.scope) { errors.append(FieldError("district", "district_out_of_scope")) }
            } else { errors.append(FieldError("district", v("district").isEmpty ? "district_required" : "choose_from_list")) }
            let r = Registration(iin: Self.iinCell(v("iin")), lastName: v("last_name"), firstName: v("first_name"), middleName: v("middle_name").nilIfEmpty, districtID: d?.id,
                                 settlement: v("settlement").nilIfEmpty, rural: rural ?? false, phone: v("phone").nilIfEmpty, email: v("email").nilIfEmpty,
                                 education: v("education").nilIfEmpty, occupationISCO: v("occupation_isco").nilIfEmpty, categories: categories, consent: consent ?? false)
            let c = CaseStore.check(r, today: today)
            errors = c.errors + errors
            if let iin = c.iin, known.contains(iin.value) { out.append(.present); continue }
            guard errors.isEmpty, let iin = c.iin, let d else { out.append(.bad(errors)); continue }
            known.insert(iin.value)
            out.append(.add(Item(iin: iin, last: c.last, first: c.first, middle: c.middle, district: d, r: r)))
        }
        return out
    }

    /// An IIN as typed, or with the leading zero a spreadsheet drops from a number (people born in 2000–2009).
    static func iinCell(_ s: String) -> String { s.count == 11 && s.allSatisfy(\.isASCII) && s.allSatisfy(\.isNumber) ? "0" + s : s }

    static func inScope(_ d: DistrictRecord, _ scope: Scope) -> Bool {
        switch scope {
        case .national: return true
        case .region(let r): return d.regionISO == r.iso
        case .district(let x): return d.id == Int(x)
        case .organisation: return false
        }
    }

    func write(_ ctx: WriteContext, _ items: [Item], user: UserContext) async throws -> [Int] {
        guard !items.isEmpty else { return [] }
        // In IIN order: two files with the same people, written at once, then wait for each other on the unique
        // index in the same order (one waits, then fails on the duplicate and checks again) instead of deadlocking.
        let items = items.sorted { $0.iin.value < $1.iin.value }
        let now = ctx.now, today = CivilDate(kazakhstanAt: now)
        var q = ctx.sql.insert(into: "persons").columns("iin", "last_name", "first_name", "middle_name", "search_name", "birth_date", "sex", "region_iso", "district_id", "settlement",
                                                        "is_rural", "phone", "email", "created_at", "updated_at", "education", "occupation_isco", "consent_on", "consent_scope",
                                                        "consent_by", "tsa_recipient")
        for i in items {
            q = q.values([SQLBind(i.iin.value), SQLBind(i.last), SQLBind(i.first), SQLBind(i.middle), SQLBind(PersonRecord.searchName(last: i.last, first: i.first, middle: i.middle)),
                          SQLBind(i.iin.birthDate.iso), SQLBind(i.iin.sex.rawValue), SQLBind(i.district.regionISO), SQLBind(i.district.id!), SQLBind(i.r.settlement),
                          SQLBind(i.r.rural), SQLBind(i.r.phone), SQLBind(i.r.email), SQLBind(now), SQLBind(now), SQLBind(i.r.education), SQLBind(i.r.occupationISCO),
                          SQLBind(today.iso), SQLBind(CaseStore.defaultConsentScope), SQLBind(user.login), SQLBind(false)])
        }
        struct R: Decodable { let id: Int; let iin: String }
        let ids = Dictionary(uniqueKeysWithValues: try await q.returning("id", "iin").all(decoding: R.self).map { ($0.iin, $0.id) })
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let at = AuditLog.timestamp(now)
        var categories: [[any Encodable & Sendable]] = [], events: [[any Encodable & Sendable]] = []
        for i in items {
            guard let id = ids[i.iin.value] else { throw StoreError.conflict("person not created") }
            let cats = Set(i.r.categories).map(\.rawValue).sorted()
            for c in cats { categories.append([id, c, today.iso]) }
            events.append([id, at, today.iso, "registered", String(decoding: try enc.encode(["categories": cats.joined(separator: ", ")]), as: UTF8.self), String?.none, user.login])
            events.append([id, at, today.iso, "consent", String(decoding: try enc.encode(["scope": CaseStore.defaultConsentScope]), as: UTF8.self), String?.none, user.login])
        }
        try await NationalSeed.insert(ctx.sql, "person_categories", ["person_id", "category", "from_date"], categories)
        try await NationalSeed.insert(ctx.sql, "person_events", ["person_id", "at", "on_date", "kind", "args", "explanation", "actor"], events)
        return items.compactMap { ids[$0.iin.value] }.sorted()
    }
}
