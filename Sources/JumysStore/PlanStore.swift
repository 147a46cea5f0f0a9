import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// The Roadmap's plan of measures (RULES.md G3): the 28 measures with their responsible bodies, form of completion
/// and deadline (reference data), and their state kept by the authorised body — status, evidence, date of
/// completion — with the overdue ones flagged.
public struct PlanStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    public enum Status: String, Sendable, Codable, CaseIterable { case notStarted = "not_started", inProgress = "in_progress", done }

    /// A measure as the plan states it.
    public struct Measure: Sendable {
        public let n: Int
        /// A date (the end of the month the plan names), nil for measures carried on throughout the year.
        public let deadline: CivilDate?
        /// For the monthly reports: the report whose due day applies (G1 by the 10th, G3 by the 25th).
        public let monthly: Rules.Report?
        public let name: [String: String], form: [String: String], responsible: [String: String]
    }

    public struct Line: Sendable {
        public let measure: Measure
        public let status: Status, evidence: String, completedOn: String?, updatedBy: String?
        /// The next due date of a monthly measure (for last month).
        public let nextDue: CivilDate?
        public let overdue: Bool
    }

    /// The measures from `roadmap-plan.csv`, read and checked once.
    public static func measures() throws -> [Measure] { try loaded.get() }

    static let loaded = Result<[Measure], any Error> { try read() }

    static func read() throws -> [Measure] {
        let text = try String(contentsOf: ReferenceData.url("roadmap-plan", "csv"), encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { return [] }
        let header = lines.removeFirst().split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return try lines.map { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count == header.count, let n = Int(f[0]) else { throw StoreError.invalid(field: "roadmap-plan.csv", reason: "a line does not have \(header.count) fields: \(line.prefix(40))") }
            var d: [String: String] = [:]
            for (i, k) in header.enumerated() { d[k] = f[i] }
            let deadline = d["deadline"] ?? ""
            let monthly = deadline.hasPrefix("monthly:") ? Rules.Report(rawValue: String(deadline.dropFirst(8))) : nil
            if deadline.hasPrefix("monthly:") && monthly == nil { throw StoreError.invalid(field: "roadmap-plan.csv", reason: "unknown report in \(deadline)") }
            let date = CivilDate(iso: deadline)
            if date == nil && monthly == nil && deadline != "continuous" { throw StoreError.invalid(field: "roadmap-plan.csv", reason: "bad deadline \(deadline)") }
            func three(_ k: String) -> [String: String] { ["kk": d["\(k)_kk"] ?? "", "ru": d["\(k)_ru"] ?? "", "en": d["\(k)_en"] ?? ""] }
            return Measure(n: n, deadline: date, monthly: monthly, name: three("name"), form: three("form"), responsible: three("responsible"))
        }
    }

    struct Row: Decodable { let n: Int; let status: String; let evidence: String; let completed_on: String?; let updated_by: String }

    /// The plan with each measure's state on `today`: overdue when its deadline has passed and it is not done; a
    /// monthly measure shows when last month's is due.
    public func lines(today: CivilDate, env: RulesEnvironment) async throws -> [Line] {
        let rows = Dictionary(uniqueKeysWithValues: try await store.sql.select().column("*").from("plan_measures").all(decoding: Row.self).map { ($0.n, $0) })
        let last = today.adding(months: -1)
        return try Self.measures().map { m in
            let r = rows[m.n]
            let status = r.flatMap { Status(rawValue: $0.status) } ?? .notStarted
            let next = try m.monthly.map { try Rules.reportDeadline(report: $0, periodYear: last.year, periodMonth: last.month, env.context(on: last)).value }
            let overdue = status != .done && (m.deadline.map { today > $0 } ?? false)
            return Line(measure: m, status: status, evidence: r?.evidence ?? "", completedOn: r?.completed_on, updatedBy: r?.updated_by, nextDue: next, overdue: overdue)
        }
    }

    /// The authorised body records a measure's status with its evidence (the document, protocol or publication).
    public func update(_ n: Int, status: Status, evidence: String, on: CivilDate? = nil, by user: UserContext) async throws {
        guard try await ProjectStore(store: store).body(of: user) == .ministry else { throw FieldErrors(errors: [FieldError("status", "limit_not_your_body")]) }
        guard try Self.measures().contains(where: { $0.n == n }) else { throw StoreError.notFound }
        let text = evidence.trimmingCharacters(in: .whitespaces)
        if text.count > 500 { throw FieldErrors(errors: [FieldError("evidence_\(n)", "note_required")]) }
        if status == .done && text.isEmpty { throw FieldErrors(errors: [FieldError("evidence_\(n)", "plan_evidence_required")]) }
        let date = on ?? store.today()
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.delete(from: "plan_measures").where("n", .equal, SQLBind(n)).run()
            try await ctx.sql.insert(into: "plan_measures").columns("n", "status", "evidence", "completed_on", "updated_by", "updated_at")
                .values(SQLBind(n), SQLBind(status.rawValue), SQLBind(text), SQLBind(status == .done ? date.iso : nil), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now))).run()
            try ctx.audit("plan_measure", entity: "plan_measure", id: String(n), after: ["status": status.rawValue, "evidence": text, "on": date.iso])
        }
    }
}
