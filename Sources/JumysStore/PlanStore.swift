import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// The plans of measures (RULES.md G3): the Roadmap's 28 measures and the Employment Programme 2020's own plan (its
/// section 12), each measure with its responsible bodies, form of completion and deadline (reference data), and its
/// state kept by the authorised body — status, evidence, date of completion — with the overdue ones flagged.
public struct PlanStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    public enum Status: String, Sendable, Codable, CaseIterable { case notStarted = "not_started", inProgress = "in_progress", done }

    /// Which plan: the Roadmap's (`roadmap-plan.csv`) or the Programme 2020's (`programme-plan.csv`).
    public enum Plan: String, Sendable, CaseIterable { case roadmap, programme }

    /// A measure as the plan states it.
    public struct Measure: Sendable {
        public let plan: Plan
        /// The number as the plan writes it: `13`, `4.3`.
        public let n: String
        /// A date (the end of the month the plan names), nil for measures carried on throughout the year or due
        /// after an event.
        public let deadline: CivilDate?
        /// For the monthly reports: the report whose due day applies (G1 by the 10th, G3 by the 25th).
        public let monthly: Rules.Report?
        /// Due after the law on employment and social protection is adopted (the Programme's plan names no date).
        public let afterLaw: Bool
        public let name: [String: String], form: [String: String], responsible: [String: String]
        /// The money the plan sets against the measure, in the source's Russian wording (the Programme's plan).
        public let cost: String?
    }

    public struct Line: Sendable {
        public let measure: Measure
        public let status: Status, evidence: String, completedOn: String?, updatedBy: String?
        /// The next due date of a monthly measure (for last month).
        public let nextDue: CivilDate?
        public let overdue: Bool
    }

    /// The measures of a plan, read and checked once.
    public static func measures(_ plan: Plan = .roadmap) throws -> [Measure] { try (plan == .roadmap ? roadmap : programme).get() }

    static let roadmap = Result<[Measure], any Error> { try read(.roadmap) }
    static let programme = Result<[Measure], any Error> { try read(.programme) }

    static func read(_ plan: Plan) throws -> [Measure] {
        let file = "\(plan.rawValue)-plan.csv"
        let text = try String(contentsOf: ReferenceData.url("\(plan.rawValue)-plan", "csv"), encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { return [] }
        let header = lines.removeFirst().split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        var seen = Set<String>()
        return try lines.map { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count == header.count, !f[0].isEmpty, f[0].allSatisfy({ $0.isNumber || $0 == "." }), seen.insert(f[0]).inserted else {
                throw StoreError.invalid(field: file, reason: "a line does not have \(header.count) fields or a new number: \(line.prefix(40))")
            }
            var d: [String: String] = [:]
            for (i, k) in header.enumerated() { d[k] = f[i] }
            let deadline = d["deadline"] ?? ""
            let monthly = deadline.hasPrefix("monthly:") ? Rules.Report(rawValue: String(deadline.dropFirst(8))) : nil
            if deadline.hasPrefix("monthly:") && monthly == nil { throw StoreError.invalid(field: file, reason: "unknown report in \(deadline)") }
            let date = CivilDate(iso: deadline)
            if date == nil && monthly == nil && deadline != "continuous" && deadline != "after-law" { throw StoreError.invalid(field: file, reason: "bad deadline \(deadline)") }
            func three(_ k: String) -> [String: String] { ["kk": d["\(k)_kk"] ?? "", "ru": d["\(k)_ru"] ?? "", "en": d["\(k)_en"] ?? ""] }
            let cost = d["cost_ru"].flatMap { $0 == "-" || $0.isEmpty ? nil : $0 }
            return Measure(plan: plan, n: f[0], deadline: date, monthly: monthly, afterLaw: deadline == "after-law", name: three("name"), form: three("form"), responsible: three("responsible"), cost: cost)
        }
    }

    struct Row: Decodable { let n: String; let status: String; let evidence: String; let completed_on: String?; let updated_by: String }

    /// The plan with each measure's state on `today`: overdue when its deadline has passed and it is not done; a
    /// monthly measure shows when last month's is due.
    public func lines(_ plan: Plan = .roadmap, today: CivilDate, env: RulesEnvironment) async throws -> [Line] {
        let rows = Dictionary(uniqueKeysWithValues: try await store.sql.select().column("n").column("status").column("evidence").column("completed_on").column("updated_by")
            .from("plan_states").where("plan", .equal, SQLBind(plan.rawValue)).all(decoding: Row.self).map { ($0.n, $0) })
        let last = today.adding(months: -1)
        return try Self.measures(plan).map { m in
            let r = rows[m.n]
            let status = r.flatMap { Status(rawValue: $0.status) } ?? .notStarted
            let next = try m.monthly.map { try Rules.reportDeadline(report: $0, periodYear: last.year, periodMonth: last.month, env.context(on: last)).value }
            let overdue = status != .done && (m.deadline.map { today > $0 } ?? false)
            return Line(measure: m, status: status, evidence: r?.evidence ?? "", completedOn: r?.completed_on, updatedBy: r?.updated_by, nextDue: next, overdue: overdue)
        }
    }

    /// The authorised body records a measure's status with its evidence (the document, protocol or publication).
    public func update(_ plan: Plan = .roadmap, _ n: String, status: Status, evidence: String, on: CivilDate? = nil, by user: UserContext) async throws {
        guard try await ProjectStore(store: store).body(of: user) == .ministry else { throw FieldErrors(errors: [FieldError("status", "limit_not_your_body")]) }
        guard try Self.measures(plan).contains(where: { $0.n == n }) else { throw StoreError.notFound }
        let text = evidence.trimmingCharacters(in: .whitespaces)
        let field = "evidence_\(Self.fieldID(n))"
        if text.count > 500 { throw FieldErrors(errors: [FieldError(field, "too_long")]) }
        if status == .done && text.isEmpty { throw FieldErrors(errors: [FieldError(field, "plan_evidence_required")]) }
        try await store.write(as: user.actor) { ctx in
            // A measure already done keeps its date of completion when its evidence is corrected.
            struct Done: Decodable { let status: String; let completed_on: String? }
            let before = try await ctx.sql.select().column("status").column("completed_on").from("plan_states").where("plan", .equal, SQLBind(plan.rawValue)).where("n", .equal, SQLBind(n))
                .first(decoding: Done.self)
            let date = on ?? (before?.status == Status.done.rawValue ? before?.completed_on.flatMap(CivilDate.init(iso:)) : nil) ?? store.today()
            try await ctx.sql.delete(from: "plan_states").where("plan", .equal, SQLBind(plan.rawValue)).where("n", .equal, SQLBind(n)).run()
            try await ctx.sql.insert(into: "plan_states").columns("plan", "n", "status", "evidence", "completed_on", "updated_by", "updated_at")
                .values(SQLBind(plan.rawValue), SQLBind(n), SQLBind(status.rawValue), SQLBind(text), SQLBind(status == .done ? date.iso : nil), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now))).run()
            try ctx.audit("plan_measure", entity: "plan_measure", id: "\(plan.rawValue)/\(n)", after: ["status": status.rawValue, "evidence": text, "on": date.iso])
        }
    }

    /// A measure's number as a page's element id carries it (`4.3` → `4-3`).
    public static func fieldID(_ n: String) -> String { n.replacingOccurrences(of: ".", with: "-") }
}
