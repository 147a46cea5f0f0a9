import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

struct CreateNeedsAndTraining: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("need_reports")
            .field("id", .int, .identifier(auto: true))
            .field("organisation_id", .int, .required, .references("organisations", "id"))
            .field("level", .string, .required)
            .field("region_iso", .string)
            .field("year", .int, .required)
            .field("received_on", .string, .required)
            .field("due_on", .string)
            .field("entered_by", .string, .required)
            .create()
        try await db.schema("need_lines")
            .field("id", .int, .identifier(auto: true))
            .field("report_id", .int, .required, .references("need_reports", "id"))
            .field("kind", .string, .required)
            .field("region_iso", .string, .required)
            .field("occupation_isco", .string)
            .field("for_year", .int, .required)
            .field("count", .int, .required)
            .create()
        try await db.schema("training_referrals")
            .field("id", .int, .identifier(auto: true))
            .field("number", .string, .required)
            .field("person_id", .int, .required, .references("persons", "id"))
            .field("application_id", .int, .required, .references("applications", "id"))
            .field("course_id", .int, .required, .references("courses", "id"))
            .field("region_iso", .string, .required)
            .field("district_id", .int, .required)
            .field("referred_on", .string, .required)
            .field("demand", .string, .required)
            .field("state", .string, .required)
            .field("outcome_on", .string)
            .field("note", .string)
            .unique(on: "number")
            .create()
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.create(index: "need_reports_year_idx").on("need_reports").column("year").column("level").run()
        try await sql.create(index: "need_lines_isco_idx").on("need_lines").column("occupation_isco").column("region_iso").column("for_year").run()
        try await sql.create(index: "need_lines_report_idx").on("need_lines").column("report_id").run()
        try await sql.create(index: "training_referrals_person_idx").on("training_referrals").column("person_id").run()
        // One training at a time, whatever the concurrency (partial unique index: SQLite and PostgreSQL).
        try await sql.raw("CREATE UNIQUE INDEX training_referrals_one_open ON training_referrals (person_id) WHERE state = 'issued'").run()
        try await sql.create(index: "persons_isco_idx").on("persons").column("occupation_isco").run()
    }
    func revert(on db: any Database) async throws {
        for t in ["training_referrals", "need_lines", "need_reports"] { try await db.schema(t).delete() }
    }
}

/// The vacancy database's forecast side (RULES.md G6): local bodies send their current and forecast needs for
/// workers by specialty; central bodies send a 3-year forecast and last year's jobs created by 15 February.
public struct NeedsStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    /// One line of a local body's report: a specialty, the workers needed now and those forecast for next year.
    public struct LocalLine: Sendable, Equatable {
        public let isco: String, current: Int, forecast: Int
        public init(isco: String, current: Int, forecast: Int) { self.isco = isco; self.current = current; self.forecast = forecast }
    }
    /// One line of a central body's forecast: a specialty in a region, with a number for each forecast year.
    public struct CentralLine: Sendable, Equatable {
        public let isco: String, region: String, counts: [Int]
        public init(isco: String, region: String, counts: [Int]) { self.isco = isco; self.region = region; self.counts = counts }
    }

    public struct ReportRow: Decodable, Sendable {
        public let id: Int; public let organisation_id: Int; public let level: String; public let region_iso: String?; public let year: Int
        public let received_on: String; public let due_on: String?; public let entered_by: String
        /// Days after the due date it arrived (0 when on time or without a due date).
        public var daysLate: Int {
            guard let d = due_on.flatMap(CivilDate.init(iso:)), let r = CivilDate(iso: received_on) else { return 0 }
            return max(0, d.days(until: r))
        }
    }
    public struct LineRow: Decodable, Sendable {
        public let report_id: Int; public let kind: String; public let region_iso: String; public let occupation_isco: String?; public let for_year: Int; public let count: Int
    }

    struct ReportSnapshot: Encodable, Sendable { let organisation_id: Int; let level: String; let region_iso: String?; let year: Int; let received_on: String; let due_on: String?; let lines: Int; let total: Int }

    static func validISCO(_ s: String) -> Bool { s.count == 4 && s.allSatisfy { $0.isASCII && $0.isNumber } }
    static let maxLocalLines = 500, maxCentralLines = 1000

    /// A local body's current and forecast needs for its region (akimat officers and regional coordinators).
    public func submitLocal(year: Int, lines: [LocalLine], by user: UserContext) async throws -> Int {
        guard user.canWrite, [.akimatOfficer, .regionalCoordinator, .administrator].contains(user.role) else { throw FieldErrors(errors: [FieldError("lines", "read_only")]) }
        let today = store.today()
        var errors: [FieldError] = []
        // The region is the local body's own (its organisation's), never one the request names.
        guard let org = user.organisationID, let body = try await OrganisationRecord.find(org, on: store.db),
              let region = body.regionISO ?? user.regionISO else { throw FieldErrors(errors: [FieldError("lines", "district_out_of_scope")]) }
        if !(today.year - 1...today.year + 1).contains(year) { errors.append(FieldError("year", "year_invalid")) }
        if lines.isEmpty { errors.append(FieldError("lines", "lines_required")) }
        if lines.count > Self.maxLocalLines { throw FieldErrors(errors: [FieldError("lines", "file_too_long", ["max": String(Self.maxLocalLines)])]) }
        for (n, l) in lines.enumerated() {
            if !Self.validISCO(l.isco) { errors.append(FieldError("lines", "line_isco", ["line": String(n + 1)])) }
            let inRange = (0...1_000_000).contains(l.current) && (0...1_000_000).contains(l.forecast)
            if !inRange || l.current + l.forecast == 0 { errors.append(FieldError("lines", "line_count", ["line": String(n + 1)])) }
        }
        if Set(lines.map(\.isco)).count != lines.count { errors.append(FieldError("lines", "line_duplicate")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        return try await store.write(as: user.actor) { ctx in
            let id = try await insertReport(ctx, org: org, level: "local", region: region, year: year, received: today, due: nil)
            var insert = ctx.sql.insert(into: "need_lines").columns("report_id", "kind", "region_iso", "occupation_isco", "for_year", "count")
            for l in lines {
                if l.current > 0 { insert = insert.values(SQLBind(id), SQLBind("current"), SQLBind(region), SQLBind(l.isco), SQLBind(year), SQLBind(l.current)) }
                if l.forecast > 0 { insert = insert.values(SQLBind(id), SQLBind("forecast"), SQLBind(region), SQLBind(l.isco), SQLBind(year + 1), SQLBind(l.forecast)) }
            }
            try await insert.run()
            try ctx.audit("submit", entity: "need_report", id: String(id), after: ReportSnapshot(organisation_id: org, level: "local", region_iso: region, year: year, received_on: today.iso, due_on: nil,
                                                                                                  lines: lines.count, total: lines.reduce(0) { $0 + $1.current + $1.forecast }))
            return id
        }
    }

    /// A central body's forecast for the reporting year and the ones after it, with last year's jobs created by
    /// region, entered by the programme operator on the day it arrived; its lateness is against G6's due date.
    public func submitCentral(organisation orgID: Int, year: Int, receivedOn: CivilDate?, forecast: [CentralLine], created: [(region: String, count: Int)],
                              env: RulesEnvironment, by user: UserContext) async throws -> Int {
        guard user.canWrite, user.role == .administrator else { throw FieldErrors(errors: [FieldError("lines", "read_only")]) }
        let today = store.today()
        var errors: [FieldError] = []
        let org = try await OrganisationRecord.find(orgID, on: store.db)
        if org?.kind != OrganisationKind.ministry.rawValue { errors.append(FieldError("organisation_id", "choose_from_list")) }
        let received = receivedOn ?? today
        if received > today { errors.append(FieldError("received_on", "date_future")) }
        var deadline: Explained<(due: CivilDate, years: ClosedRange<Int>)>? = nil
        do { deadline = try Rules.forecastDeadline(year: year, env.context(on: CivilDate(year: max(1991, min(year, 2100)), month: 2, day: 1)!)) } catch {
            errors.append(FieldError("year", "year_invalid"))
        }
        if year > today.year + 1 { errors.append(FieldError("year", "year_invalid")) }
        let years = deadline?.value.years
        if forecast.isEmpty { errors.append(FieldError("forecast", "lines_required")) }
        if forecast.count > Self.maxCentralLines || created.count > 100 { throw FieldErrors(errors: [FieldError("forecast", "file_too_long", ["max": String(Self.maxCentralLines)])]) }
        if Set(forecast.map { $0.isco + "|" + $0.region.uppercased() }).count != forecast.count { errors.append(FieldError("forecast", "line_duplicate")) }
        if Set(created.map { $0.region.uppercased() }).count != created.count { errors.append(FieldError("created", "line_duplicate")) }
        if !forecast.isEmpty && forecast.allSatisfy({ $0.counts.allSatisfy { $0 == 0 } }) { errors.append(FieldError("forecast", "lines_required")) }
        for (n, l) in forecast.enumerated() {
            if !Self.validISCO(l.isco) { errors.append(FieldError("forecast", "line_isco", ["line": String(n + 1)])) }
            if RegionCode(l.region)?.isKnown != true { errors.append(FieldError("forecast", "line_region", ["line": String(n + 1)])) }
            if let y = years, l.counts.count != y.count || l.counts.contains(where: { $0 < 0 || $0 > 1_000_000 }) { errors.append(FieldError("forecast", "line_years", ["line": String(n + 1), "n": String(y.count)])) }
        }
        for (n, c) in created.enumerated() {
            if RegionCode(c.region)?.isKnown != true { errors.append(FieldError("created", "line_region", ["line": String(n + 1)])) }
            if c.count < 0 || c.count > 10_000_000 { errors.append(FieldError("created", "line_count", ["line": String(n + 1)])) }
        }
        guard errors.isEmpty, let years, let due = deadline?.value.due else { throw FieldErrors(errors: errors) }
        return try await store.write(as: user.actor) { ctx in
            let id = try await insertReport(ctx, org: orgID, level: "central", region: nil, year: year, received: received, due: due)
            var insert = ctx.sql.insert(into: "need_lines").columns("report_id", "kind", "region_iso", "occupation_isco", "for_year", "count")
            for l in forecast { for (i, y) in years.enumerated() where l.counts[i] > 0 {
                insert = insert.values(SQLBind(id), SQLBind("forecast"), SQLBind(RegionCode(l.region)!.iso), SQLBind(l.isco), SQLBind(y), SQLBind(l.counts[i]))
            } }
            for c in created where c.count > 0 {
                insert = insert.values(SQLBind(id), SQLBind("created"), SQLBind(RegionCode(c.region)!.iso), SQLBind(String?.none), SQLBind(year - 1), SQLBind(c.count))
            }
            try await insert.run()
            try ctx.audit("submit", entity: "need_report", id: String(id), after: ReportSnapshot(organisation_id: orgID, level: "central", region_iso: nil, year: year, received_on: received.iso, due_on: due.iso,
                                                                                                  lines: forecast.count + created.count, total: forecast.reduce(0) { $0 + $1.counts.reduce(0, +) }))
            return id
        }
    }

    private func insertReport(_ ctx: WriteContext, org: Int, level: String, region: String?, year: Int, received: CivilDate, due: CivilDate?) async throws -> Int {
        struct R: Decodable { let id: Int }
        guard let row = try await ctx.sql.insert(into: "need_reports").columns("organisation_id", "level", "region_iso", "year", "received_on", "due_on", "entered_by")
            .values(SQLBind(org), SQLBind(level), SQLBind(region), SQLBind(year), SQLBind(received.iso), SQLBind(due?.iso), SQLBind(ctx.actor.login))
            .returning("id").first(decoding: R.self) else { throw StoreError.conflict("report not stored") }
        return row.id
    }

    public func reports(year: Int, level: String? = nil) async throws -> [ReportRow] {
        var q = store.sql.select().column("*").from("need_reports").where("year", .equal, SQLBind(year))
        if let level { q = q.where("level", .equal, SQLBind(level)) }
        return try await q.orderBy("id").all(decoding: ReportRow.self)
    }

    public func lines(report: Int) async throws -> [LineRow] {
        try await store.sql.select().column("*").from("need_lines").where("report_id", .equal, SQLBind(report)).orderBy("id").all(decoding: LineRow.self)
    }

    /// Where each central body stands for a year: its first report (on time or late by how many days), or
    /// nothing yet — overdue once the due date has passed.
    public struct CentralStatus: Sendable {
        public let organisation: OrganisationRecord; public let report: ReportRow?; public let due: CivilDate
        public func overdue(today: CivilDate) -> Bool { report == nil && today > due }
    }

    public func centralStatus(year: Int, env: RulesEnvironment) async throws -> [CentralStatus] {
        let due = try Rules.forecastDeadline(year: year, env.context(on: CivilDate(year: year, month: 2, day: 1)!)).value.due
        let bodies = try await OrganisationRecord.query(on: store.db).filter(\.$kind == OrganisationKind.ministry.rawValue).sort(\.$code).all()
        // Lateness is judged by the first report a body sent for the year; a later amendment does not make it late.
        let first = Dictionary(try await reports(year: year, level: "central").map { ($0.organisation_id, $0) }, uniquingKeysWith: { a, _ in a })
        return bodies.map { CentralStatus(organisation: $0, report: first[$0.id!], due: due) }
    }

    /// Needs by specialty for a year: the latest local report of each region (current and next year's forecast)
    /// and the latest central forecasts for the year, summed.
    public struct SpecialtyNeed: Decodable, Sendable { public let occupation_isco: String; public let current: Int; public let forecast: Int; public let central: Int }

    /// The condition that keeps, of the reports joined as `r`, only each body's latest for its level, year and
    /// region: a later report replaces an earlier one.
    static let latestReport = SQLRaw("""
        AND r.id = (SELECT MAX(r2.id) FROM need_reports r2 WHERE r2.organisation_id = r.organisation_id AND r2.level = r.level AND r2.year = r.year
                    AND COALESCE(r2.region_iso, '') = COALESCE(r.region_iso, ''))
        """)

    public func bySpecialty(year: Int, region: String? = nil, limit: Int = 100) async throws -> [SpecialtyNeed] {
        let regionClause: SQLQueryString = region.map { "AND l.region_iso = \(bind: $0)" } ?? ""
        // Latest report per (organisation, level) for the year: a later report replaces an earlier one.
        let q: SQLQueryString = """
        SELECT l.occupation_isco AS occupation_isco,
               CAST(SUM(CASE WHEN r.level = 'local' AND l.kind = 'current' THEN l.count ELSE 0 END) AS BIGINT) AS current,
               CAST(SUM(CASE WHEN r.level = 'local' AND l.kind = 'forecast' THEN l.count ELSE 0 END) AS BIGINT) AS forecast,
               CAST(SUM(CASE WHEN r.level = 'central' AND l.kind = 'forecast' AND l.for_year = \(bind: year) THEN l.count ELSE 0 END) AS BIGINT) AS central
        FROM need_lines l JOIN need_reports r ON r.id = l.report_id
        WHERE r.year = \(bind: year) AND l.occupation_isco IS NOT NULL \(regionClause)
          \(Self.latestReport)
        GROUP BY l.occupation_isco
        ORDER BY SUM(CASE WHEN r.level = 'local' OR l.for_year = \(bind: year) THEN l.count ELSE 0 END) DESC, l.occupation_isco LIMIT \(literal: max(1, min(limit, 1000)))
        """
        return try await store.sql.raw(q).all(decoding: SpecialtyNeed.self)
    }

    /// Declared demand for a specialty in a region from the given year on (B4: training goes to professions in
    /// the vacancy database or declared by employers and bodies).
    public func declared(isco: String, region: String, fromYear: Int) async throws -> Int {
        struct C: Decodable { let n: Int? }
        // Only each body's latest report for its year counts (a later report replaces an earlier one).
        let q: SQLQueryString = """
        SELECT CAST(SUM(l.count) AS BIGINT) AS n FROM need_lines l JOIN need_reports r ON r.id = l.report_id
        WHERE l.occupation_isco = \(bind: isco) AND l.region_iso = \(bind: region) AND l.for_year >= \(bind: fromYear) AND l.kind IN ('current', 'forecast')
          \(Self.latestReport)
        """
        return try await store.sql.raw(q).first(decoding: C.self)?.n ?? 0
    }
}
