import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// A line of a generated report that adds up: districts into their region, regions into the nation.
public protocol RollUpLine: Sendable {
    var place: String { get }
    init(place: String)
    mutating func add(_ other: Self)
}

/// Monitoring (RULES.md G1, C7, H2): the Roadmap's monthly report generated from the data — never retyped — with its
/// roll-up district → region → nation, and the reporting calendar: each region's report of a month with its due date
/// by `report_deadline`, saved as drafts and submitted as frozen, versioned snapshots, late when submitted after the
/// due date, accepted or returned by the authorised body.
public struct MonitoringStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    // MARK: G1, the Roadmap's monthly report

    /// One line of the G1 report: a region (or a district) in a month.
    public struct G1Line: Codable, Sendable, Equatable, RollUpLine {
        public var place: String
        public var contractors = 0
        public var inWorks = 0
        public var started = 0
        public var finished = 0
        public var startedByWork: [String: Int] = [:]
        public var finishedByWork: [String: Int] = [:]
        public var startedByObject: [String: Int] = [:]
        /// Work done in the month (money, tiyn), from the reports the akimat accepted.
        public var workDone: Int64 = 0
        /// Jobs filled in the month, from the same reports.
        public var jobs = 0
        /// People placed by the centre's referral who started work in the month, and the sum of their wages.
        public var placed = 0
        public var wageSum: Int64 = 0
        public init(place: String) { self.place = place }
        public var averageWage: Int64 { placed == 0 ? 0 : Money(tiyn: wageSum).multiplied(by: 1, dividedBy: Int64(placed), rounding: .halfUp).tiyn }

        /// Adds another line's figures (the roll-up: districts into a region, regions into the nation).
        public mutating func add(_ o: G1Line) {
            contractors += o.contractors; inWorks += o.inWorks; started += o.started; finished += o.finished
            for (k, v) in o.startedByWork { startedByWork[k, default: 0] += v }
            for (k, v) in o.finishedByWork { finishedByWork[k, default: 0] += v }
            for (k, v) in o.startedByObject { startedByObject[k, default: 0] += v }
            workDone += o.workDone; jobs += o.jobs; placed += o.placed; wageSum += o.wageSum
        }
    }

    public struct G1Report: Codable, Sendable, Equatable {
        public let month: String
        /// "region" (lines are regions) or "district" (lines are a region's districts).
        public let level: String
        public let region: String?
        public let lines: [G1Line]
        public let total: G1Line
    }

    /// The Roadmap's report for a month: the regions and the nation, or one region's districts and the region.
    /// Every line is counted from the same rows, and the total is the sum of the lines, so the nation equals the sum
    /// of its regions and a region the sum of its districts.
    public func roadmapMonthly(month: Payroll.Month, region: String? = nil) async throws -> G1Report {
        let first = month.first.iso, last = month.last.iso
        var lines: [String: G1Line] = [:]
        func line(_ p: String) -> G1Line { lines[p] ?? G1Line(place: p) }
        struct P: Decodable { let id: Int; let region_iso: String; let district_id: Int; let work_type: String; let object_type: String; let started_on: String?; let completed_on: String? }
        var q = store.sql.select().columns("id", "region_iso", "district_id", "work_type", "object_type", "started_on", "completed_on").from("projects")
            .where("programme", .equal, SQLBind(ProjectProgramme.roadmap.rawValue))
            .where("started_on", .lessThanOrEqual, SQLBind(last))
            .where(group: { $0.where("completed_on", .is, SQLLiteral.null).orWhere("completed_on", .greaterThanOrEqual, SQLBind(first)) })
        if let region { q = q.where("region_iso", .equal, SQLBind(region)) }
        let projects = try await q.all(decoding: P.self)
        var placeOf: [Int: String] = [:]
        for p in projects {
            let k = region == nil ? p.region_iso : String(p.district_id)
            placeOf[p.id] = k
            var l = line(k)
            l.inWorks += 1
            if let s = p.started_on, s >= first { l.started += 1; l.startedByWork[p.work_type, default: 0] += 1; l.startedByObject[p.object_type, default: 0] += 1 }
            if let c = p.completed_on, c <= last { l.finished += 1; l.finishedByWork[p.work_type, default: 0] += 1 }
            lines[k] = l
        }
        let ids = Array(placeOf.keys)
        // Contractors and subcontractors working on the month's projects, each counted once per place.
        struct O: Decodable { let project_id: Int; let organisation_id: Int }
        var orgs: [String: Set<Int>] = [:]
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            for o in try await store.sql.select().columns("project_id", "organisation_id").from("project_parties").where("project_id", .in, SQLBind.group(chunk)).all(decoding: O.self) {
                orgs[placeOf[o.project_id]!, default: []].insert(o.organisation_id)
            }
        }
        for (k, s) in orgs { var l = line(k); l.contractors = s.count; lines[k] = l }
        // The month's accepted reports: work done and jobs filled.
        struct R: Decodable { let project_id: Int; let work_done_amount: Int64; let jobs_filled: Int }
        var rq = store.sql.select().column(SQLColumn("project_id", table: "r")).column(SQLColumn("work_done_amount", table: "r")).column(SQLColumn("jobs_filled", table: "r"))
            .from(SQLAlias(SQLIdentifier("project_reports"), as: SQLIdentifier("r")))
            .join(SQLAlias(SQLIdentifier("projects"), as: SQLIdentifier("p")), method: SQLJoinMethod.inner, on: SQLColumn("project_id", table: "r"), .equal, SQLColumn("id", table: "p"))
            .where(SQLColumn("month", table: "r"), .equal, SQLBind(month.description)).where(SQLColumn("state", table: "r"), .equal, SQLBind("accepted"))
            .where(SQLColumn("programme", table: "p"), .equal, SQLBind(ProjectProgramme.roadmap.rawValue))
        if let region { rq = rq.where(SQLColumn("region_iso", table: "p"), .equal, SQLBind(region)) }
        for r in try await rq.all(decoding: R.self) {
            guard let k = placeOf[r.project_id] else { continue }
            var l = line(k); l.workDone += r.work_done_amount; l.jobs += r.jobs_filled; lines[k] = l
        }
        // People placed by referral who started in the month.
        struct H: Decodable { let region_iso: String; let district_id: Int; let wage: Int64 }
        var hq = store.sql.select().column(SQLColumn("region_iso", table: "h")).column(SQLColumn("district_id", table: "h")).column(SQLColumn("wage", table: "h"))
            .from(SQLAlias(SQLIdentifier("project_hires"), as: SQLIdentifier("h")))
            .join(SQLAlias(SQLIdentifier("projects"), as: SQLIdentifier("p")), method: SQLJoinMethod.inner, on: SQLColumn("project_id", table: "h"), .equal, SQLColumn("id", table: "p"))
            .where(SQLColumn("starts_on", table: "h"), .greaterThanOrEqual, SQLBind(first)).where(SQLColumn("starts_on", table: "h"), .lessThanOrEqual, SQLBind(last))
            .where(SQLColumn("programme", table: "p"), .equal, SQLBind(ProjectProgramme.roadmap.rawValue))
        if let region { hq = hq.where(SQLColumn("region_iso", table: "h"), .equal, SQLBind(region)) }
        for h in try await hq.all(decoding: H.self) {
            let k = region == nil ? h.region_iso : String(h.district_id)
            var l = line(k); l.placed += 1; l.wageSum += h.wage; lines[k] = l
        }
        let (sorted, total) = try await rollUp(lines, region: region)
        return G1Report(month: month.description, level: region == nil ? "region" : "district", region: region, lines: sorted, total: total)
    }

    /// Every region (or every district of the region) with its line — zeros where nothing happened — in order, and
    /// the total as the sum of the lines.
    func rollUp<L: RollUpLine>(_ found: [String: L], region: String?) async throws -> (lines: [L], total: L) {
        var lines = found
        if let region {
            for d in try await DistrictRecord.query(on: store.db).filter(\.$regionISO == region).all() where lines[String(d.id!)] == nil { lines[String(d.id!)] = L(place: String(d.id!)) }
        } else {
            for r in try await RegionRecord.query(on: store.db).all() where lines[r.id!] == nil { lines[r.id!] = L(place: r.id!) }
        }
        let sorted = lines.values.sorted { $0.place < $1.place }
        var total = L(place: region ?? "KZ")
        for l in sorted { total.add(l) }
        return (sorted, total)
    }

    // MARK: the reporting calendar

    /// A reporting period: a month (`2026-05`), a quarter (`2026-Q2`, G2) or a half-year (`2026-H1`, the loans'
    /// monitoring, C7), as the report's `monthsInPeriod` says.
    public struct Period: Sendable, Hashable, CustomStringConvertible {
        public let year: Int, months: Int, index: Int
        public init?(year: Int, months: Int, index: Int) {
            guard [1, 3, 6].contains(months), (1...(12 / months)).contains(index), (2000...2100).contains(year) else { return nil }
            self.year = year; self.months = months; self.index = index
        }
        /// Parses the period of a report: `YYYY-MM`, `YYYY-Qn` or `YYYY-Hn`.
        public init?(_ s: String, for report: Rules.Report) {
            let p = s.split(separator: "-")
            guard p.count == 2, p[0].count == 4, p[1].count == 2, let y = Int(p[0]) else { return nil }
            let tail = p[1], months = report.monthsInPeriod
            let n: Int?
            switch months {
            case 3: n = tail.first == "Q" ? Int(tail.dropFirst()) : nil
            case 6: n = tail.first == "H" ? Int(tail.dropFirst()) : nil
            default: n = tail.allSatisfy(\.isNumber) ? Int(tail) : nil
            }
            guard let n else { return nil }
            self.init(year: y, months: months, index: n)
        }
        public var lastMonth: Int { index * months }
        public var first: CivilDate { CivilDate(year: year, month: lastMonth - months + 1, day: 1)! }
        public var last: CivilDate { CivilDate(year: year, month: lastMonth, day: CivilDate.daysIn(month: lastMonth, year: year))! }
        public var monthsCovered: [Payroll.Month] { (lastMonth - months + 1...lastMonth).compactMap { Payroll.Month(String(format: "%04d-%02d", year, $0)) } }
        public var description: String {
            switch months {
            case 3: "\(year)-Q\(index)"
            case 6: "\(year)-H\(index)"
            default: String(format: "%04d-%02d", year, index)
            }
        }
        /// The periods of a year, in order.
        public static func all(of year: Int, for report: Rules.Report) -> [Period] {
            (1...(12 / report.monthsInPeriod)).compactMap { Period(year: year, months: report.monthsInPeriod, index: $0) }
        }
    }

    /// Who files a report: the region's akimat, or a credit organisation lending in the region (C7: its own reports go
    /// to the local body).
    public struct Filer: Sendable, Hashable {
        public let region: String
        public let lender: Int?
        public init(region: String, lender: Int? = nil) { self.region = region; self.lender = lender }
        /// `akimat` or `lender-ID`, as stored and as the pages' paths carry it.
        public var key: String { lender.map { "lender-\($0)" } ?? "akimat" }
        public init?(region: String, key: String) {
            if key == "akimat" { self.init(region: region); return }
            guard key.hasPrefix("lender-"), let id = Int(key.dropFirst(7)), id > 0 else { return nil }
            self.init(region: region, lender: id)
        }
    }

    /// The regions whose reports the user sees: all for national roles, the user's region (or its district's
    /// region); none for an organisation (a lender sees its own filings through `lender`).
    public func regions(of user: UserContext) async throws -> [String] {
        switch user.scope {
        case .national: return try await RegionRecord.query(on: store.db).all().compactMap(\.id).sorted()
        case .region(let r): return [r.iso]
        case .district(let d): return try await DistrictRecord.find(Int(d), on: store.db).map { [$0.regionISO] } ?? []
        case .organisation: return []
        }
    }

    /// The reports a lender files (C7: issued loans by the 10th, their use by the 15th).
    public static func filedByLender(_ r: Rules.Report) -> Bool { r == .loansIssuedByLender || r == .loansUseByLender }

    /// Who accepts or returns a report: the local body a lender's; the interagency commission the akim's quarterly
    /// report (G2); the authorised body the others.
    public static func decider(_ r: Rules.Report) -> ProjectBody {
        if filedByLender(r) { return .akimat }
        return r == .roadmapQuarterly ? .interagencyCommission : .ministry
    }

    /// The reports whose figures are G1's (the monthly, the commission's and the quarterly ones).
    public static func carriesG1(_ r: Rules.Report) -> Bool { [.roadmapMonthly, .roadmapCommission, .roadmapQuarterly].contains(r) }

    public enum Status: String, Sendable, Codable, CaseIterable {
        case notStarted = "not_started", overdue, draft, submitted, late, accepted, returned
    }

    public struct SubmissionRow: Decodable, Sendable {
        public let id: Int, report: String, period: String, region_iso: String, filer: String, version: Int, state: String, due_on: String, late: Bool, snapshot: String
        public let by_login: String, saved_at: String, submitted_on: String?, decided_by: String?, decided_on: String?, reason: String?
        /// What the calendar shows for the latest version.
        public var status: Status {
            switch state {
            case "draft": .draft
            case "accepted": .accepted
            case "returned": .returned
            default: late ? .late : .submitted
            }
        }
    }

    public struct CalendarLine: Sendable {
        public let report: Rules.Report, period: String, filer: Filer, due: CivilDate, status: Status, latest: SubmissionRow?
        public var region: String { filer.region }
    }

    public func submissions(report: Rules.Report, period: String, filer: Filer, on sql: (any SQLDatabase)? = nil) async throws -> [SubmissionRow] {
        try await (sql ?? store.sql).select().column("*").from("report_filings").where("report", .equal, SQLBind(report.rawValue)).where("period", .equal, SQLBind(period))
            .where("region_iso", .equal, SQLBind(filer.region)).where("filer", .equal, SQLBind(filer.key)).orderBy("version", .descending).all(decoding: SubmissionRow.self)
    }

    /// The credit organisations lending in the regions (or the one lender), each with the first day it held a budget
    /// credit there: its C7 reports are due from then on.
    public func lenders(regions: [String], lender: Int?) async throws -> [(filer: Filer, since: CivilDate)] {
        struct Row: Decodable { let region_iso: String; let borrower_id: Int; let since: String }
        var q = store.sql.select().column("region_iso").column("borrower_id").column(SQLFunction("MIN", args: SQLColumn("transferred_on")), as: "since")
            .from("budget_credits").where("level", .equal, SQLBind(CreditLevel.creditOrganisation.rawValue))
        if let lender { q = q.where("borrower_id", .equal, SQLBind(lender)) } else {
            guard !regions.isEmpty else { return [] }
            q = q.where("region_iso", .in, SQLBind.group(regions))
        }
        return try await q.groupBy("region_iso").groupBy("borrower_id").orderBy("region_iso").orderBy("borrower_id").all(decoding: Row.self).compactMap { r in
            CivilDate(iso: r.since).map { (Filer(region: r.region_iso, lender: r.borrower_id), $0) }
        }
    }

    /// The calendar of a year for the filers in scope — the akimats of `regions`, the lenders in them (or only the
    /// one `lender`) — every report of every period that has ended, with its due date and the state of its latest
    /// version. A report not yet in force for a period (the loan reports before the second direction) is left out.
    public func calendar(year: Int, regions: [String], lender: Int? = nil, env: RulesEnvironment, today: CivilDate) async throws -> [CalendarLine] {
        let lenders = regions.isEmpty && lender == nil ? [] : try await self.lenders(regions: regions, lender: lender)
        // The year's filings of the filers in scope only (periods `YYYY-…` sort between `YYYY-` and `YYYY.`).
        let places = Set(regions + lenders.map(\.filer.region))
        var latest: [String: SubmissionRow] = [:]
        if !places.isEmpty {
            var q = store.sql.select().column("*").from("report_filings").where("period", .greaterThan, SQLBind("\(year)-")).where("period", .lessThan, SQLBind("\(year)."))
                .where("region_iso", .in, SQLBind.group(Array(places)))
            if let lender { q = q.where("filer", .equal, SQLBind(Filer(region: "", lender: lender).key)) }
            for s in try await q.all(decoding: SubmissionRow.self) {
                let k = "\(s.report)|\(s.period)|\(s.region_iso)|\(s.filer)"
                if (latest[k]?.version ?? 0) < s.version { latest[k] = s }
            }
        }
        var out: [CalendarLine] = []
        for r in Rules.Report.allCases {
            let filers: [(filer: Filer, since: CivilDate?)] = Self.filedByLender(r) ? lenders.map { ($0.filer, $0.since) } : lender != nil ? [] : regions.map { (Filer(region: $0), nil) }
            guard !filers.isEmpty else { continue }
            for period in Period.all(of: year, for: r) where period.last < today {
                guard let due = try? Rules.reportDeadline(report: r, periodYear: year, periodMonth: period.lastMonth, env.context(on: period.last)).value else { continue }
                for f in filers where f.since.map({ $0 <= period.last }) ?? true {
                    let s = latest["\(r.rawValue)|\(period)|\(f.filer.region)|\(f.filer.key)"]
                    let status = s?.status ?? (today > due ? .overdue : .notStarted)
                    out.append(CalendarLine(report: r, period: period.description, filer: f.filer, due: due, status: status, latest: s))
                }
            }
        }
        return out
    }

    /// Whether the user files this filer's reports: the region's own akimat, or the lender itself (holding a credit
    /// there).
    public func files(_ report: Rules.Report, for filer: Filer, user: UserContext) async throws -> Bool {
        if Self.filedByLender(report) {
            guard let lender = filer.lender, user.role == .lender, user.organisationID == lender else { return false }
            return try await lenders(regions: [filer.region], lender: lender).contains { $0.filer == filer }
        }
        guard filer.lender == nil else { return false }
        return try await ProjectStore(store: store).body(of: user) == .akimat && user.districtID == nil && user.regionISO == filer.region
    }

    /// Whether the user accepts or returns this report (`decider`): the region's akimat for its lenders, the
    /// interagency commission, or the authorised body.
    public func decides(_ report: Rules.Report, for filer: Filer, user: UserContext) async throws -> Bool {
        let body = try await ProjectStore(store: store).body(of: user)
        let wanted = Self.decider(report)
        guard body == wanted else { return false }
        return wanted != .akimat || (user.districtID == nil && user.regionISO == filer.region)
    }

    public func due(_ report: Rules.Report, _ period: Period, env: RulesEnvironment) throws -> CivilDate {
        try Rules.reportDeadline(report: report, periodYear: period.year, periodMonth: period.lastMonth, env.context(on: period.last)).value
    }

    struct SubmissionSnapshot: Encodable, Sendable { let report: String; let period: String; let region: String; let filer: String; let version: Int; let state: String; let due_on: String; let late: Bool }

    /// The filer (a region's akimat, or a lender) saves the report of a period as a draft or submits it: a frozen
    /// snapshot of the figures as they are now, with the next version number. A submission after the due date is
    /// late. A correction of a submitted report is a new version; an accepted report is closed.
    @discardableResult
    public func save(report: Rules.Report, period: Period, filer: Filer, submit: Bool, env: RulesEnvironment, by user: UserContext) async throws -> SubmissionRow {
        guard period.months == report.monthsInPeriod else { throw FieldErrors(errors: [FieldError("period", "choose_from_list")]) }
        guard try await files(report, for: filer, user: user) else { throw FieldErrors(errors: [FieldError("report", "limit_not_your_body")]) }
        let today = store.today()
        guard period.last < today else { throw FieldErrors(errors: [FieldError("period", "report_period_not_ended")]) }
        let due = try self.due(report, period, env: env)
        let previous = try await submissions(report: report, period: period.description, filer: filer)
        if previous.first?.state == "accepted" { throw FieldErrors(errors: [FieldError("report", "report_accepted")]) }
        let snapshot = try await snapshotJSON(report: report, period: period, filer: filer, user: user)
        let late = submit && today > due
        return try await store.write(as: user.actor) { ctx in
            // One save of a filer's report at a time: the version follows what is stored now.
            try await ctx.serialize("filing:\(report.rawValue):\(period.description):\(filer.region):\(filer.key)")
            let previous = try await self.submissions(report: report, period: period.description, filer: filer, on: ctx.sql)
            if previous.first?.state == "accepted" { throw FieldErrors(errors: [FieldError("report", "report_accepted")]) }
            // A draft is replaced by the next save; submitted versions stay as they were.
            var version = (previous.first?.version ?? 0) + 1
            if let d = previous.first, d.state == "draft" {
                try await ctx.sql.delete(from: "report_filings").where("id", .equal, SQLBind(d.id)).where("state", .equal, SQLBind("draft")).run()
                version = d.version
            }
            try await ctx.sql.insert(into: "report_filings").columns("report", "period", "region_iso", "filer", "version", "state", "due_on", "late", "snapshot", "by_login", "saved_at", "submitted_on")
                .values(SQLBind(report.rawValue), SQLBind(period.description), SQLBind(filer.region), SQLBind(filer.key), SQLBind(version), SQLBind(submit ? "submitted" : "draft"), SQLBind(due.iso), SQLBind(late),
                        SQLBind(snapshot), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now)), SQLBind(submit ? today.iso : nil)).run()
            try ctx.audit(submit ? "submit" : "draft", entity: "report", id: "\(report.rawValue)/\(period)/\(filer.region)/\(filer.key)",
                          after: SubmissionSnapshot(report: report.rawValue, period: period.description, region: filer.region, filer: filer.key, version: version, state: submit ? "submitted" : "draft", due_on: due.iso, late: late))
            guard let row = try await ctx.sql.select().column("*").from("report_filings").where("report", .equal, SQLBind(report.rawValue)).where("period", .equal, SQLBind(period.description))
                .where("region_iso", .equal, SQLBind(filer.region)).where("filer", .equal, SQLBind(filer.key)).where("version", .equal, SQLBind(version)).first(decoding: SubmissionRow.self) else { throw StoreError.conflict("submission not stored") }
            return row
        }
    }

    /// The report's decider (`decider`) accepts the latest submitted version or returns it with the reason.
    public func decide(report: Rules.Report, period: Period, filer: Filer, accept: Bool, reason: String, by user: UserContext) async throws {
        guard try await decides(report, for: filer, user: user) else { throw FieldErrors(errors: [FieldError("report", "limit_not_your_body")]) }
        guard let s = try await submissions(report: report, period: period.description, filer: filer).first, s.state == "submitted" else {
            throw FieldErrors(errors: [FieldError("report", "report_not_submitted")])
        }
        let why = reason.trimmingCharacters(in: .whitespaces)
        if !accept && (why.isEmpty || why.count > 1000) { throw FieldErrors(errors: [FieldError("reason", "note_required")]) }
        let today = store.today()
        try await store.write(as: user.actor) { ctx in
            let n = try await ctx.sql.update("report_filings").set("state", to: SQLBind(accept ? "accepted" : "returned")).set("decided_by", to: SQLBind(user.login))
                .set("decided_on", to: SQLBind(today.iso)).set("reason", to: SQLBind(accept ? nil : why)).where("id", .equal, SQLBind(s.id)).where("state", .equal, SQLBind("submitted")).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("report", "report_not_submitted")]) }
            try ctx.audit(accept ? "accept" : "return", entity: "report", id: "\(report.rawValue)/\(period)/\(filer.region)/\(filer.key)", after: ["version": String(s.version), "reason": why])
        }
    }

    /// The C7 figures a loan report freezes: a line per lender in the region (one lender's own), a month at a time.
    struct C7Line: Encodable { let month: String; let lender_id: Int; let issued: Int; let issued_amount: Int64; let jobs_promised: Int; let disbursed_amount: Int64; let use_confirmed: Int; let use_overdue: Int; let jobs_confirmed: Int; let demanded: Int }

    /// The figures of a report as they are now, as JSON (what a submission freezes): G1 for the Roadmap's monthly
    /// reports and each month of a quarter's; G4; the C7 lines of the month (or each month of the half-year).
    func snapshotJSON(report: Rules.Report, period: Period, filer: Filer, user: UserContext) async throws -> String {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        func json(_ v: some Encodable) throws -> String { String(decoding: try enc.encode(v), as: UTF8.self) }
        switch report {
        case .roadmapMonthly, .roadmapCommission:
            return try json(try await roadmapMonthly(month: period.monthsCovered[0], region: filer.region))
        case .roadmapQuarterly:
            var months: [G1Report] = []
            for m in period.monthsCovered { months.append(try await roadmapMonthly(month: m, region: filer.region)) }
            return try json(months)
        case .programmeMonthly:
            return try json(try await programmeMonthly(month: period.monthsCovered[0], region: filer.region))
        default:
            var lines: [C7Line] = []
            for m in period.monthsCovered {
                for r in try await CreditStore(store: store).report(month: m, for: user) where r.region_iso == filer.region && (filer.lender == nil || r.lender_id == filer.lender) {
                    lines.append(C7Line(month: m.description, lender_id: r.lender_id, issued: r.issued, issued_amount: r.issued_amount, jobs_promised: r.jobs_promised, disbursed_amount: r.disbursed_amount,
                                        use_confirmed: r.use_confirmed, use_overdue: r.use_overdue, jobs_confirmed: r.jobs_confirmed, demanded: r.demanded))
                }
            }
            return try json(lines)
        }
    }
}
