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

    /// The reports a region submits each month, with the rule that gives their due date.
    /// (The monthly report to the interagency commission, by the 25th, carries the G1 figures; G3.)
    public static let regionalReports: [Rules.Report] = [.roadmapMonthly, .roadmapCommission, .programmeMonthly, .loansIssuedByAkimat, .loansUseByAkimat]

    public enum Status: String, Sendable, Codable, CaseIterable {
        case notStarted = "not_started", overdue, draft, submitted, late, accepted, returned
    }

    public struct SubmissionRow: Decodable, Sendable {
        public let id: Int, report: String, period: String, region_iso: String?, version: Int, state: String, due_on: String, late: Bool, snapshot: String
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
        public let report: Rules.Report, period: String, region: String, due: CivilDate, status: Status, latest: SubmissionRow?
    }

    public func submissions(report: Rules.Report, period: String, region: String) async throws -> [SubmissionRow] {
        try await store.sql.select().column("*").from("report_submissions").where("report", .equal, SQLBind(report.rawValue)).where("period", .equal, SQLBind(period))
            .where("region_iso", .equal, SQLBind(region)).orderBy("version", .descending).all(decoding: SubmissionRow.self)
    }

    /// The calendar of a year for the regions in scope: every regional report of every month that has ended, with its
    /// due date and the state of its latest version.
    public func calendar(year: Int, regions: [String], env: RulesEnvironment, today: CivilDate) async throws -> [CalendarLine] {
        let subs = try await store.sql.select().column("*").from("report_submissions").where("period", .like, SQLBind("\(year)-%")).all(decoding: SubmissionRow.self)
        var latest: [String: SubmissionRow] = [:]
        for s in subs { let k = "\(s.report)|\(s.period)|\(s.region_iso ?? "")"; if (latest[k]?.version ?? 0) < s.version { latest[k] = s } }
        var out: [CalendarLine] = []
        for m in 1...12 {
            guard let end = CivilDate(year: year, month: m, day: CivilDate.daysIn(month: m, year: year)), end < today else { continue }
            let period = String(format: "%04d-%02d", year, m)
            for r in Self.regionalReports {
                guard let due = try? Rules.reportDeadline(report: r, periodYear: year, periodMonth: m, env.context(on: end)).value else { continue }
                for region in regions {
                    let s = latest["\(r.rawValue)|\(period)|\(region)"]
                    let status = s?.status ?? (today > due ? .overdue : .notStarted)
                    out.append(CalendarLine(report: r, period: period, region: region, due: due, status: status, latest: s))
                }
            }
        }
        return out
    }

    struct SubmissionSnapshot: Encodable, Sendable { let report: String; let period: String; let region: String; let version: Int; let state: String; let due_on: String; let late: Bool }

    /// The region's akimat saves the report of a month as a draft or submits it: a frozen snapshot of the figures as
    /// they are now, with the next version number. A submission after the due date is late. A correction of a
    /// submitted report is a new version; an accepted report is closed.
    @discardableResult
    public func save(report: Rules.Report, month: Payroll.Month, region: String, submit: Bool, env: RulesEnvironment, by user: UserContext) async throws -> SubmissionRow {
        guard try await ProjectStore(store: store).body(of: user) == .akimat, user.districtID == nil, user.regionISO == region else {
            throw FieldErrors(errors: [FieldError("report", "limit_not_your_body")])
        }
        guard Self.regionalReports.contains(report) else { throw FieldErrors(errors: [FieldError("report", "choose_from_list")]) }
        let today = store.today()
        guard month.last < today else { throw FieldErrors(errors: [FieldError("period", "report_period_not_ended")]) }
        let due = try Rules.reportDeadline(report: report, periodYear: month.year, periodMonth: month.month, env.context(on: month.last)).value
        let previous = try await submissions(report: report, period: month.description, region: region)
        if previous.first?.state == "accepted" { throw FieldErrors(errors: [FieldError("report", "report_accepted")]) }
        let snapshot = try await snapshotJSON(report: report, month: month, region: region, user: user)
        let late = submit && today > due
        return try await store.write(as: user.actor) { ctx in
            // A draft is replaced by the next save; submitted versions stay as they were.
            var version = (previous.first?.version ?? 0) + 1
            if let d = previous.first, d.state == "draft" {
                try await ctx.sql.delete(from: "report_submissions").where("id", .equal, SQLBind(d.id)).where("state", .equal, SQLBind("draft")).run()
                version = d.version
            }
            try await ctx.sql.insert(into: "report_submissions").columns("report", "period", "region_iso", "version", "state", "due_on", "late", "snapshot", "by_login", "saved_at", "submitted_on")
                .values(SQLBind(report.rawValue), SQLBind(month.description), SQLBind(region), SQLBind(version), SQLBind(submit ? "submitted" : "draft"), SQLBind(due.iso), SQLBind(late),
                        SQLBind(snapshot), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now)), SQLBind(submit ? today.iso : nil)).run()
            try ctx.audit(submit ? "submit" : "draft", entity: "report", id: "\(report.rawValue)/\(month)/\(region)",
                          after: SubmissionSnapshot(report: report.rawValue, period: month.description, region: region, version: version, state: submit ? "submitted" : "draft", due_on: due.iso, late: late))
            guard let row = try await ctx.sql.select().column("*").from("report_submissions").where("report", .equal, SQLBind(report.rawValue)).where("period", .equal, SQLBind(month.description))
                .where("region_iso", .equal, SQLBind(region)).where("version", .equal, SQLBind(version)).first(decoding: SubmissionRow.self) else { throw StoreError.conflict("submission not stored") }
            return row
        }
    }

    /// The authorised body accepts the latest submitted version or returns it with the reason.
    public func decide(report: Rules.Report, month: Payroll.Month, region: String, accept: Bool, reason: String, by user: UserContext) async throws {
        guard try await ProjectStore(store: store).body(of: user) == .ministry else { throw FieldErrors(errors: [FieldError("report", "limit_not_your_body")]) }
        guard let s = try await submissions(report: report, period: month.description, region: region).first, s.state == "submitted" else {
            throw FieldErrors(errors: [FieldError("report", "report_not_submitted")])
        }
        let why = reason.trimmingCharacters(in: .whitespaces)
        if !accept && (why.isEmpty || why.count > 1000) { throw FieldErrors(errors: [FieldError("reason", "note_required")]) }
        let today = store.today()
        try await store.write(as: user.actor) { ctx in
            let n = try await ctx.sql.update("report_submissions").set("state", to: SQLBind(accept ? "accepted" : "returned")).set("decided_by", to: SQLBind(user.login))
                .set("decided_on", to: SQLBind(today.iso)).set("reason", to: SQLBind(accept ? nil : why)).where("id", .equal, SQLBind(s.id)).where("state", .equal, SQLBind("submitted")).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("report", "report_not_submitted")]) }
            try ctx.audit(accept ? "accept" : "return", entity: "report", id: "\(report.rawValue)/\(month)/\(region)", after: ["version": String(s.version), "reason": why])
        }
    }

    /// The figures of a report as they are now, as JSON (what a submission freezes).
    func snapshotJSON(report: Rules.Report, month: Payroll.Month, region: String, user: UserContext) async throws -> String {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        switch report {
        case .roadmapMonthly, .roadmapCommission:
            return String(decoding: try enc.encode(try await roadmapMonthly(month: month, region: region)), as: UTF8.self)
        case .programmeMonthly:
            return String(decoding: try enc.encode(try await programmeMonthly(month: month, region: region)), as: UTF8.self)
        default:
            struct Line: Encodable { let lender_id: Int; let issued: Int; let issued_amount: Int64; let jobs_promised: Int; let disbursed_amount: Int64; let use_confirmed: Int; let use_overdue: Int; let jobs_confirmed: Int; let demanded: Int }
            let rows = try await CreditStore(store: store).report(month: month, for: user).filter { $0.region_iso == region }
            return String(decoding: try enc.encode(rows.map { Line(lender_id: $0.lender_id, issued: $0.issued, issued_amount: $0.issued_amount, jobs_promised: $0.jobs_promised, disbursed_amount: $0.disbursed_amount,
                                                                    use_confirmed: $0.use_confirmed, use_overdue: $0.use_overdue, jobs_confirmed: $0.jobs_confirmed, demanded: $0.demanded) }), as: UTF8.self)
        }
    }
}
