import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// The monthly subsidy payroll for youth practice (B2) and social jobs (B3).
public struct Payroll: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    /// A payroll month, `YYYY-MM`.
    public struct Month: Sendable, Equatable, CustomStringConvertible {
        public let year: Int, month: Int
        public init?(_ s: String) {
            let p = s.split(separator: "-")
            guard p.count == 2, p[0].count == 4, p[1].count == 2, let y = Int(p[0]), let m = Int(p[1]), (1...12).contains(m), (2000...2100).contains(y) else { return nil }
            year = y; month = m
        }
        public var first: CivilDate { CivilDate(year: year, month: month, day: 1)! }
        public var last: CivilDate { CivilDate(year: year, month: month, day: CivilDate.daysIn(month: month, year: year))! }
        public var description: String { String(format: "%04d-%02d", year, month) }

        /// Which month of a placement this is: the month it starts in is month 1.
        public func index(from start: CivilDate) -> Int { (year - start.year) * 12 + (month - start.month) + 1 }
    }

    public struct Outcome: Sendable, Equatable {
        public let placements: Int; public let added: Int; public let total: Money
        /// Lines not paid because their region's limit for direction 1 lacks the money (or has none): a later run,
        /// once the limit allows, pays them.
        public var held: Int = 0
        public var heldTotal: Money = .zero
        public var heldRegions: Set<String> = []
    }

    struct BatchSnapshot: Encodable, Sendable { let month: String; let lines: Int; let total: String; let first_placement: Int; let last_placement: Int }

    /// Computes the month's line for every placement running in it, in batches by placement id (never the whole
    /// table in memory). A placement that already has its line for the month is left alone, so a second run adds
    /// nothing; corrections are separate lines. Each batch is one transaction with one audit record. The lines of a
    /// region draw on its limit of the Programme's direction 1 for the year (F2); a region whose limit cannot take
    /// them has them held, and a later run pays them once the limit allows.
    public func run(month: Month, env: RulesEnvironment, by actor: Actor, batchSize: Int = 1000, progress: (@Sendable (Int, Int) async throws -> Void)? = nil) async throws -> Outcome {
        let table = try SubsidyTable(env.context(on: month.first))
        var after = 0
        var seen = 0, added = 0
        var total = Money.zero
        var held = 0, heldTotal = Money.zero, heldRegions: Set<String> = []
        while true {
            let batch = try await store.sql.select().column("*").from("placements")
                .where("starts_on", .lessThanOrEqual, SQLBind(month.last.iso))
                .where(group: { $0.where("ends_on", .is, SQLLiteral.null).orWhere("ends_on", .greaterThanOrEqual, SQLBind(month.first.iso)) })
                .where("id", .greaterThan, SQLBind(after)).orderBy("id").limit(batchSize).all(decoding: LabourStore.PlacementRow.self)
            guard !batch.isEmpty else { break }
            after = batch.last!.id
            seen += batch.count
            let result: (Int, Money, Int, Money, Set<String>) = try await store.write(as: actor) { ctx in
                struct P: Decodable { let placement_id: Int }
                let done = Set(try await ctx.sql.select().column("placement_id").from("payroll_lines").where("month", .equal, SQLBind(month.description))
                    .where("kind", .equal, SQLBind("regular")).where("placement_id", .in, SQLBind.group(batch.map(\.id))).all(decoding: P.self).map(\.placement_id))
                var count = 0
                var sum = Money.zero
                let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
                var lines: [(p: LabourStore.PlacementRow, n: Int, amount: Money, explanation: String)] = []
                for p in batch where !done.contains(p.id) {
                    guard let start = CivilDate(iso: p.starts_on) else { continue }
                    let n = month.index(from: start)
                    guard n >= 1, let measure = Measure(rawValue: p.measure) else { continue }
                    let wage = Money(tiyn: p.wage)
                    let (amount, steps): (Money, [ExplanationStep]) = measure == .youthPractice
                        ? (table.youthPractice(month: n), table.explainYouthPractice(month: n))
                        : (table.socialJob(wage: wage, month: n), table.explainSocialJob(wage: wage, month: n))
                    guard amount.tiyn > 0 else { continue }
                    let header = ExplanationStep(rule: measure == .youthPractice ? "B2" : "B3", text: "\(month): month \(n) of the placement that started on \(p.starts_on)")
                    lines.append((p, n, amount, String(decoding: try enc.encode([header] + steps), as: UTF8.self)))
                }
                // Each region's lines draw on its limit; a region the limit cannot cover is held whole.
                var heldHere = 0, heldSum = Money.zero, heldIn: Set<String> = []
                var insert = ctx.sql.insert(into: "payroll_lines").columns("placement_id", "month", "line_no", "kind", "month_index", "amount", "explanation", "region_iso", "district_id", "created_at")
                for (region, group) in Dictionary(grouping: lines, by: \.p.region_iso).sorted(by: { $0.key < $1.key }) {
                    let regionSum = group.reduce(Money.zero) { $0 + $1.amount }
                    do {
                        try await LimitStore.commit(ctx, year: month.year, direction: .programmeTraining, region: region, district: nil, kind: .payroll, reference: "payroll:\(month):\(region)",
                                                    amount: regionSum.tiyn, spent: regionSum.tiyn, on: month.first, field: "month")
                    } catch let e as FieldErrors where e.errors.allSatisfy({ ["limit_exceeded", "limit_not_set"].contains($0.code) }) {
                        heldHere += group.count; heldSum += regionSum; heldIn.insert(region)
                        continue
                    }
                    for l in group {
                        insert = insert.values(SQLBind(l.p.id), SQLBind(month.description), SQLBind(1), SQLBind("regular"), SQLBind(l.n), SQLBind(l.amount.tiyn),
                                               SQLBind(l.explanation), SQLBind(l.p.region_iso), SQLBind(l.p.district_id), SQLBind(AuditLog.timestamp(ctx.now)))
                    }
                    count += group.count
                    sum += regionSum
                }
                if count > 0 {
                    try await insert.run()
                    try ctx.audit("payroll", entity: "payroll_batch", id: "\(month)#\(batch.first!.id)-\(batch.last!.id)",
                                  after: BatchSnapshot(month: month.description, lines: count, total: sum.decimalString, first_placement: batch.first!.id, last_placement: batch.last!.id))
                }
                return (count, sum, heldHere, heldSum, heldIn)
            }
            added += result.0
            total += result.1
            held += result.2; heldTotal += result.3; heldRegions.formUnion(result.4)
            try await progress?(seen, added)
        }
        return Outcome(placements: seen, added: added, total: total, held: held, heldTotal: heldTotal, heldRegions: heldRegions)
    }

    /// How many placements run in the month (what a run goes through).
    public func running(month: Month) async throws -> Int {
        struct C: Decodable { let n: Int }
        return try await store.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("placements")
            .where("starts_on", .lessThanOrEqual, SQLBind(month.last.iso))
            .where(group: { $0.where("ends_on", .is, SQLLiteral.null).orWhere("ends_on", .greaterThanOrEqual, SQLBind(month.first.iso)) })
            .first(decoding: C.self)?.n ?? 0
    }

    public struct Correction: Sendable, Equatable { public let placement: Int; public let paid: Money; public let due: Money; public var difference: Money { due - paid } }

    struct CorrectionSnapshot: Encodable, Sendable { let month: String; let placement_id: Int; let line_no: Int; let paid: String; let due: String; let difference: String; let reason: String }

    private struct Count: Decodable { let n: Int }

    /// Re-computes a month already paid, from the placements as they are now (an amended wage or end date, a
    /// parameter corrected) and adds a correction line with the difference for each placement that changed —
    /// never an edit of a line. Placements whose amount is unchanged get nothing; a second run adds nothing.
    public func correct(month: Month, placement only: Int? = nil, reason: String, env: RulesEnvironment, by actor: Actor, batchSize: Int = 1000) async throws -> [Correction] {
        let why = reason.trimmingCharacters(in: .whitespaces)
        guard !why.isEmpty, why.count <= 500 else { throw FieldErrors(errors: [FieldError("reason", "note_required")]) }
        let table = try SubsidyTable(env.context(on: month.first))
        // One placement asked for: it must have been paid in that month's list (else there is nothing to correct,
        // and a mistyped number must not look like a correction that found nothing wrong).
        if let only {
            let lines = try await store.sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from("payroll_lines")
                .where("month", .equal, SQLBind(month.description)).where("placement_id", .equal, SQLBind(only)).first(decoding: Count.self)
            if (lines?.n ?? 0) == 0 { throw FieldErrors(errors: [FieldError("placement_id", "placement_not_in_payroll", ["month": month.description])]) }
        }
        var after = 0
        var out: [Correction] = []
        while true {
            // Placements with a line for the month, in batches.
            struct P: Decodable { let placement_id: Int }
            var q = store.sql.select().distinct().column("placement_id").from("payroll_lines").where("month", .equal, SQLBind(month.description))
                .where("placement_id", .greaterThan, SQLBind(after))
            if let only { q = q.where("placement_id", .equal, SQLBind(only)) }
            let ids = try await q.orderBy("placement_id").limit(batchSize).all(decoding: P.self).map(\.placement_id)
            guard !ids.isEmpty else { break }
            after = ids.last!
            let batch: [Correction] = try await store.write(as: actor) { ctx in
                var pq = ctx.sql.select().column("*").from("placements").where("id", .in, SQLBind.group(ids)).orderBy("id")
                if ctx.sql.dialect.name == "postgresql" { pq = pq.for(.update) }
                let placements = try await pq.all(decoding: LabourStore.PlacementRow.self)
                struct L: Decodable { let placement_id: Int; let amount: Int64; let line_no: Int }
                let lines = try await ctx.sql.select().columns("placement_id", "amount", "line_no").from("payroll_lines").where("month", .equal, SQLBind(month.description))
                    .where("placement_id", .in, SQLBind.group(ids)).all(decoding: L.self)
                let paid = Dictionary(grouping: lines, by: \.placement_id)
                let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
                var made: [Correction] = []
                for p in placements {
                    guard let start = CivilDate(iso: p.starts_on), let measure = Measure(rawValue: p.measure) else { continue }
                    let n = month.index(from: start)
                    let ended = p.ends_on.flatMap(CivilDate.init(iso:)).map { $0 < month.first } ?? false
                    let wage = Money(tiyn: p.wage)
                    var (due, steps): (Money, [ExplanationStep]) = measure == .youthPractice
                        ? (table.youthPractice(month: n), table.explainYouthPractice(month: n))
                        : (table.socialJob(wage: wage, month: n), table.explainSocialJob(wage: wage, month: n))
                    if ended || n < 1 { due = .zero; steps = [ExplanationStep(rule: measure == .youthPractice ? "B2" : "B3", text: "the placement ended on \(p.ends_on ?? "") before \(month): nothing is due")] }
                    let before = Money(tiyn: (paid[p.id] ?? []).reduce(Int64(0)) { $0 + $1.amount })
                    guard due != before else { continue }
                    let lineNo = ((paid[p.id] ?? []).map(\.line_no).max() ?? 0) + 1
                    let c = Correction(placement: p.id, paid: before, due: due)
                    let header = ExplanationStep(rule: measure == .youthPractice ? "B2" : "B3", text: "correction of \(month) (month \(n) of the placement): \(why)")
                    let tail = ExplanationStep(rule: measure == .youthPractice ? "B2" : "B3", text: "due \(due.decimalString), already paid \(before.decimalString): difference \(c.difference.decimalString)")
                    try await ctx.sql.insert(into: "payroll_lines").columns("placement_id", "month", "line_no", "kind", "month_index", "amount", "explanation", "region_iso", "district_id", "created_at")
                        .values(SQLBind(p.id), SQLBind(month.description), SQLBind(lineNo), SQLBind("correction"), SQLBind(n), SQLBind(c.difference.tiyn),
                                SQLBind(String(decoding: try enc.encode([header] + steps + [tail]), as: UTF8.self)), SQLBind(p.region_iso), SQLBind(p.district_id), SQLBind(AuditLog.timestamp(ctx.now))).run()
                    // The difference draws on the region's limit, or a smaller amount gives money back to it.
                    if c.difference.tiyn > 0 {
                        try await LimitStore.commit(ctx, year: month.year, direction: .programmeTraining, region: p.region_iso, district: nil, kind: .payroll, reference: "payroll:\(month):\(p.region_iso)",
                                                    amount: c.difference.tiyn, spent: c.difference.tiyn, on: month.first, field: "placement_id")
                    } else {
                        try await LimitStore.release(ctx, kind: .payroll, reference: "payroll:\(month):\(p.region_iso)", amount: -c.difference.tiyn, on: month.first, change: nil, reason: "payroll correction")
                    }
                    try ctx.audit("correct", entity: "payroll_line", id: "\(month)#\(p.id)#\(lineNo)", after: CorrectionSnapshot(month: month.description, placement_id: p.id, line_no: lineNo, paid: before.decimalString,
                                                                                                                       due: due.decimalString, difference: c.difference.decimalString, reason: why))
                    made.append(c)
                }
                return made
            }
            out += batch
            if only != nil { break }
        }
        return out
    }

    /// One line of the payment list.
    public struct PaymentLine: Decodable, Sendable {
        public let id: Int; public let region_iso: String; public let district_id: Int; public let district_name_ru: String; public let district_name_kk: String
        public let person_id: Int; public let iin: String; public let last_name: String; public let first_name: String
        public let employer_name_ru: String; public let employer_name_kk: String; public let measure: String; public let month_index: Int
        public let amount: Int64; public let kind: String; public let explanation: String
    }

    /// The month's lines in the scope, by region, district and person, read in pages (streamed to the callback).
    public func lines(month: Month, scope: Scope, pageSize: Int = 2000, _ each: ([PaymentLine]) async throws -> Void) async throws {
        var after = 0
        while true {
            let page = try await page(month: month, scope: scope, after: after, limit: pageSize)
            guard !page.isEmpty else { break }
            after = page.last!.id
            try await each(page)
            if page.count < pageSize { break }
        }
    }

    /// One page of the month's lines in the scope, after a line id.
    public func page(month: Month, scope: Scope, after: Int, limit: Int) async throws -> [PaymentLine] {
        var q = store.sql.select()
            .columns(SQLColumn("id", table: "l"), SQLColumn("region_iso", table: "l"), SQLColumn("district_id", table: "l"))
            .column(SQLColumn("name_ru", table: "d"), as: "district_name_ru").column(SQLColumn("name_kk", table: "d"), as: "district_name_kk")
            .column(SQLColumn("id", table: "p"), as: "person_id").columns(SQLColumn("iin", table: "p"), SQLColumn("last_name", table: "p"), SQLColumn("first_name", table: "p"))
            .column(SQLColumn("name_ru", table: "o"), as: "employer_name_ru").column(SQLColumn("name_kk", table: "o"), as: "employer_name_kk")
            .columns(SQLColumn("measure", table: "pl"), SQLColumn("month_index", table: "l"), SQLColumn("amount", table: "l"), SQLColumn("kind", table: "l"), SQLColumn("explanation", table: "l"))
            .from(SQLAlias(SQLIdentifier("payroll_lines"), as: SQLIdentifier("l")))
            .join(SQLAlias(SQLIdentifier("placements"), as: SQLIdentifier("pl")), on: SQLColumn("placement_id", table: "l"), .equal, SQLColumn("id", table: "pl"))
            .join(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")), on: SQLColumn("person_id", table: "pl"), .equal, SQLColumn("id", table: "p"))
            .join(SQLAlias(SQLIdentifier("organisations"), as: SQLIdentifier("o")), on: SQLColumn("employer_id", table: "pl"), .equal, SQLColumn("id", table: "o"))
            .join(SQLAlias(SQLIdentifier("districts"), as: SQLIdentifier("d")), on: SQLColumn("district_id", table: "l"), .equal, SQLColumn("id", table: "d"))
            .where(SQLColumn("month", table: "l"), .equal, SQLBind(month.description))
            .where(SQLColumn("id", table: "l"), .greaterThan, SQLBind(after))
        q = Registry.restrict(q, scope: scope, table: "l")
        return try await q.orderBy(SQLColumn("id", table: "l")).limit(limit).all(decoding: PaymentLine.self)
    }
}
