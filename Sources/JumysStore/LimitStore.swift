import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// Funding limits (RULES.md F1, F2, E11): the national limit of a year and direction split between the regions by
/// the labour force of a statistics period, proposed by the authorised body and approved by the interagency
/// commission; the regions' split by district; corrections and reallocations that are proposed, approved and never
/// recomputed from the labour force; and the commitments that draw on the limits, which never exceed them, however
/// many requests race for the last money.
public struct LimitStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    /// The period of the labour force figures that ship with Jumys (regions.csv).
    public static let shippedPeriod = "2023"

    // MARK: labour force

    public struct PeriodRow: Decodable, Sendable { public let period: String; public let regions: Int; public let persons: Int64 }

    public func periods() async throws -> [PeriodRow] {
        try await store.sql.select().column("period").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "regions")
            .column(SQLRaw("CAST(SUM(persons) AS BIGINT)"), as: "persons").from("labour_force").groupBy("period").orderBy("period", .descending).all(decoding: PeriodRow.self)
    }

    public func labourForce(period: String, on sql: (any SQLDatabase)? = nil) async throws -> [String: Int64] {
        struct R: Decodable { let region_iso: String; let persons: Int64 }
        let rows = try await (sql ?? store.sql).select().columns("region_iso", "persons").from("labour_force").where("period", .equal, SQLBind(period)).all(decoding: R.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.region_iso, $0.persons) })
    }

    /// An administrator loads the labour force of another statistics period (`YYYY` or `YYYY-Qn`), for every region,
    /// in thousands of persons as the statistics authority publishes them.
    public func loadLabourForce(period: String, thousands: [String: String], by user: UserContext) async throws {
        guard user.role == .administrator else { throw FieldErrors(errors: [FieldError("period", "read_only")]) }
        let p = period.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if !Self.validPeriod(p) { errors.append(FieldError("period", "labour_period_invalid")) }
        let regions = try await RegionRecord.query(on: store.db).all().compactMap(\.id)
        var persons: [String: Int64] = [:]
        for r in regions {
            let raw = (thousands[r] ?? "").trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")
            guard let v = FixedDecimal(raw), v.units > 0, v.units <= 100_000 * FixedDecimal.scale else { errors.append(FieldError("lf_\(r)", "labour_force_invalid")); continue }
            persons[r] = v.units * 1000 / FixedDecimal.scale
        }
        if try await !labourForce(period: p).isEmpty { errors.append(FieldError("period", "labour_period_exists")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let values = persons
        try await store.write(as: user.actor) { ctx in
            for (r, n) in values.sorted(by: { $0.key < $1.key }) {
                try await ctx.sql.insert(into: "labour_force").columns("period", "region_iso", "persons", "loaded_by", "loaded_at")
                    .values(SQLBind(p), SQLBind(r), SQLBind(n), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now))).run()
            }
            try ctx.audit("load", entity: "labour_force", id: p, after: values.mapValues(String.init))
        }
    }

    static func validPeriod(_ p: String) -> Bool {
        let parts = p.split(separator: "-", omittingEmptySubsequences: false)
        guard let y = Int(parts[0]), parts[0].count == 4, (2000...2100).contains(y) else { return false }
        return parts.count == 1 || (parts.count == 2 && ["Q1", "Q2", "Q3", "Q4"].contains(String(parts[1])))
    }

    // MARK: the national allocation (F1)

    public struct AllocationRow: Decodable, Sendable {
        public let id: Int, year: Int, direction: String, total: Int64, period: String, state: String, explanation: String?
        public let proposed_by: String, proposed_on: String, decision: String?, decided_by: String?, decided_on: String?
    }
    public struct AllocationLine: Decodable, Sendable { public let region_iso: String; public let persons: Int64; public let amount: Int64 }

    public func allocations(year: Int) async throws -> [AllocationRow] {
        try await store.sql.select().column("*").from("limit_allocations").where("year", .equal, SQLBind(year)).orderBy("direction").orderBy("id").all(decoding: AllocationRow.self)
    }
    public func allocation(_ id: Int) async throws -> AllocationRow? {
        try await store.sql.select().column("*").from("limit_allocations").where("id", .equal, SQLBind(id)).first(decoding: AllocationRow.self)
    }
    public func lines(of allocationID: Int) async throws -> [AllocationLine] {
        try await store.sql.select().columns("region_iso", "persons", "amount").from("limit_allocation_lines").where("allocation_id", .equal, SQLBind(allocationID)).orderBy("region_iso").all(decoding: AllocationLine.self)
    }

    func body(_ user: UserContext) async throws -> ProjectBody? { try await ProjectStore(store: store).body(of: user) }

    /// The authorised body proposes the split of a year's national limit for a direction by `regional_limit_allocation`
    /// from the labour force of a period. A direction already allocated for the year cannot be allocated again: later
    /// changes are corrections and reallocations (F1). A new proposal replaces an earlier one not yet approved.
    @discardableResult
    public func propose(year: Int, direction: FundingDirection, total: Money, period: String, on: CivilDate? = nil, by user: UserContext) async throws -> Int {
        guard try await body(user) == .ministry else { throw FieldErrors(errors: [FieldError("total", "limit_not_your_body")]) }
        var errors: [FieldError] = []
        if !ProgrammeYears.range.contains(year) { errors.append(FieldError("year", "year_invalid")) }
        if total.tiyn <= 0 || total.tiyn % 100 != 0 || total.tiyn > 100_000_000_000_000 { errors.append(FieldError("total", "limit_total_invalid")) }
        let lf = try await labourForce(period: period)
        if lf.isEmpty { errors.append(FieldError("period", "labour_period_unknown")) }
        let existing = try await allocations(year: year).filter { $0.direction == direction.rawValue }
        if existing.contains(where: { $0.state == "approved" }) { errors.append(FieldError("direction", "limit_already_allocated", ["year": String(year)])) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let split = try Rules.regionalLimitAllocation(total: total, labourForce: lf.mapValues { FixedDecimal($0) })
        let explanation = try CaseStore.explanationJSON(split.steps)
        let date = on ?? store.today()
        return try await store.write(as: user.actor) { ctx in
            // One proposal or approval of a year's direction at a time; the approved one is checked again under it.
            try await ctx.serialize("allocation:\(year):\(direction.rawValue)")
            struct A: Decodable { let id: Int }
            if try await ctx.sql.select().column("id").from("limit_allocations").where("year", .equal, SQLBind(year)).where("direction", .equal, SQLBind(direction.rawValue))
                .where("state", .equal, SQLBind("approved")).first(decoding: A.self) != nil {
                throw FieldErrors(errors: [FieldError("direction", "limit_already_allocated", ["year": String(year)])])
            }
            try await ctx.sql.update("limit_allocations").set("state", to: SQLBind("superseded")).where("year", .equal, SQLBind(year))
                .where("direction", .equal, SQLBind(direction.rawValue)).where("state", .equal, SQLBind("proposed")).run()
            struct R: Decodable { let id: Int }
            guard let id = try await ctx.sql.insert(into: "limit_allocations").columns("year", "direction", "total", "period", "state", "explanation", "proposed_by", "proposed_on")
                .values(SQLBind(year), SQLBind(direction.rawValue), SQLBind(total.tiyn), SQLBind(period), SQLBind("proposed"), SQLBind(explanation), SQLBind(user.login), SQLBind(date.iso))
                .returning("id").first(decoding: R.self)?.id else { throw StoreError.conflict("allocation not stored") }
            var insert = ctx.sql.insert(into: "limit_allocation_lines").columns("allocation_id", "region_iso", "persons", "amount")
            for line in split.value { insert = insert.values(SQLBind(id), SQLBind(line.region), SQLBind(lf[line.region] ?? 0), SQLBind(line.amount.tiyn)) }
            try await insert.run()
            try ctx.audit("propose", entity: "limit_allocation", id: String(id), after: ["year": String(year), "direction": direction.rawValue, "total": total.decimalString, "period": period])
            return id
        }
    }

    /// The interagency commission approves a proposed split (its protocol recorded): each region's limit is set.
    public func approve(allocation id: Int, decision: String, on: CivilDate? = nil, by user: UserContext) async throws {
        guard try await body(user) == .interagencyCommission else { throw FieldErrors(errors: [FieldError("decision", "limit_not_your_body")]) }
        guard let a = try await allocation(id) else { throw StoreError.notFound }
        let d = decision.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if a.state != "proposed" { errors.append(FieldError("decision", "limit_allocation_state")) }
        if d.isEmpty || d.count > 200 { errors.append(FieldError("decision", "project_decision_required")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let lines = try await lines(of: id)
        let date = on ?? store.today()
        try await store.write(as: user.actor) { ctx in
            try await ctx.serialize("allocation:\(a.year):\(a.direction)")
            let n = try await ctx.sql.update("limit_allocations").set("state", to: SQLBind("approved")).set("decision", to: SQLBind(d)).set("decided_by", to: SQLBind(user.login))
                .set("decided_on", to: SQLBind(date.iso)).where("id", .equal, SQLBind(id)).where("state", .equal, SQLBind("proposed")).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("decision", "limit_allocation_state")]) }
            let approved = try await ctx.sql.select().column("id").from("limit_allocations").where("year", .equal, SQLBind(a.year)).where("direction", .equal, SQLBind(a.direction))
                .where("state", .equal, SQLBind("approved")).all()
            guard approved.count == 1 else { throw FieldErrors(errors: [FieldError("direction", "limit_already_allocated", ["year": String(a.year)])]) }
            for l in lines {
                try await Self.addToLimit(ctx, year: a.year, direction: a.direction, region: l.region_iso, district: 0, amount: l.amount)
                try await Self.change(ctx, year: a.year, kind: .allocation, state: .approved, to: (a.direction, l.region_iso, nil), amount: l.amount,
                                      reason: "F1: \(a.period)", reference: "allocation:\(id)", proposedBy: a.proposed_by, proposedOn: a.proposed_on, decision: d, on: date)
            }
            try ctx.audit("approve", entity: "limit_allocation", id: String(id), after: ["decision": d, "decided_on": date.iso, "regions": String(lines.count)])
        }
    }

    static func addToLimit(_ ctx: WriteContext, year: Int, direction: String, region: String, district: Int, amount: Int64) async throws {
        let done = try await ctx.sql.update("funding_limits").set("amount", to: SQLRaw("amount + \(amount)")).where("year", .equal, SQLBind(year)).where("direction", .equal, SQLBind(direction))
            .where("region_iso", .equal, SQLBind(region)).where("district_id", .equal, SQLBind(district)).returning("id").all()
        if done.isEmpty {
            try await ctx.sql.insert(into: "funding_limits").columns("year", "direction", "region_iso", "district_id", "amount", "committed")
                .values(SQLBind(year), SQLBind(direction), SQLBind(region), SQLBind(district), SQLBind(amount), SQLBind(Int64(0))).run()
        }
    }

    @discardableResult
    static func change(_ ctx: WriteContext, year: Int, kind: LimitChangeKind, state: LimitChangeState, from: (String, String, Int?)? = nil, to: (String, String, Int?)?, amount: Int64,
                       reason: String, reference: String?, proposedBy: String, proposedOn: String, decision: String?, on: CivilDate?) async throws -> Int {
        struct R: Decodable { let id: Int }
        guard let id = try await ctx.sql.insert(into: "limit_changes")
            .columns("year", "kind", "state", "from_direction", "from_region", "from_district", "to_direction", "to_region", "to_district", "amount", "reason", "reference",
                     "proposed_by", "proposed_on", "decision", "decided_by", "decided_on")
            .values(SQLBind(year), SQLBind(kind.rawValue), SQLBind(state.rawValue), SQLBind(from?.0), SQLBind(from?.1), SQLBind(from?.2), SQLBind(to?.0), SQLBind(to?.1), SQLBind(to?.2),
                    SQLBind(amount), SQLBind(reason), SQLBind(reference), SQLBind(proposedBy), SQLBind(proposedOn), SQLBind(decision),
                    SQLBind(state == .proposed ? nil : ctx.actor.login), SQLBind(on?.iso))
            .returning("id").first(decoding: R.self)?.id else { throw StoreError.conflict("change not stored") }
        return id
    }

    // MARK: the limits

    public struct LimitRow: Decodable, Sendable {
        public let id: Int, year: Int, direction: String, region_iso: String, district_id: Int, amount: Int64, committed: Int64
        public var remaining: Int64 { amount - committed }
    }

    public func limits(year: Int, region: String? = nil) async throws -> [LimitRow] {
        var q = store.sql.select().column("*").from("funding_limits").where("year", .equal, SQLBind(year))
        if let region { q = q.where("region_iso", .equal, SQLBind(region)) }
        return try await q.orderBy("direction").orderBy("region_iso").orderBy("district_id").all(decoding: LimitRow.self)
    }

    /// Money spent from each limit: what the commitments have paid out so far.
    public func spent(year: Int) async throws -> [Int: Int64] {
        struct R: Decodable { let limit_id: Int; let s: Int64 }
        let region = try await store.sql.select().column(SQLColumn("limit_id", table: "c")).column(SQLRaw("CAST(SUM(c.spent) AS BIGINT)"), as: "s")
            .from(SQLAlias(SQLIdentifier("limit_commitments"), as: SQLIdentifier("c")))
            .join(SQLAlias(SQLIdentifier("funding_limits"), as: SQLIdentifier("l")), method: SQLJoinMethod.inner, on: SQLColumn("limit_id", table: "c"), .equal, SQLColumn("id", table: "l"))
            .where(SQLColumn("year", table: "l"), .equal, SQLBind(year)).groupBy(SQLColumn("limit_id", table: "c")).all(decoding: R.self)
        struct D: Decodable { let district_limit_id: Int; let s: Int64 }
        let district = try await store.sql.select().column(SQLColumn("district_limit_id", table: "c")).column(SQLRaw("CAST(SUM(c.spent) AS BIGINT)"), as: "s")
            .from(SQLAlias(SQLIdentifier("limit_commitments"), as: SQLIdentifier("c")))
            .join(SQLAlias(SQLIdentifier("funding_limits"), as: SQLIdentifier("l")), method: SQLJoinMethod.inner, on: SQLColumn("district_limit_id", table: "c"), .equal, SQLColumn("id", table: "l"))
            .where(SQLColumn("year", table: "l"), .equal, SQLBind(year)).groupBy(SQLColumn("district_limit_id", table: "c")).all(decoding: D.self)
        var out: [Int: Int64] = [:]
        for r in region { out[r.limit_id] = r.s }
        for d in district { out[d.district_limit_id] = d.s }
        return out
    }

    /// What was committed in each district from a region's own limit (before the district had a share of its own).
    public func regionCommitmentsByDistrict(limitID: Int) async throws -> [Int: Int64] {
        struct R: Decodable { let district_id: Int; let s: Int64 }
        let rows = try await store.sql.select().column("district_id").column(SQLRaw("CAST(SUM(amount) AS BIGINT)"), as: "s").from("limit_commitments")
            .where("limit_id", .equal, SQLBind(limitID)).where("district_limit_id", .is, SQLLiteral.null).where("district_id", .isNot, SQLLiteral.null)
            .groupBy("district_id").all(decoding: R.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.district_id, $0.s) })
    }

    public struct ChangeRow: Decodable, Sendable {
        public let id: Int, year: Int, kind: String, state: String
        public let from_direction: String?, from_region: String?, from_district: Int?, to_direction: String?, to_region: String?, to_district: Int?
        public let amount: Int64, reason: String, reference: String?, proposed_by: String, proposed_on: String, decision: String?, decided_by: String?, decided_on: String?
    }

    /// The changes of a year, newest first; `state` narrows them (the proposals waiting for the commission).
    public func history(year: Int, region: String? = nil, state: LimitChangeState? = nil, limit: Int = 500) async throws -> [ChangeRow] {
        var q = store.sql.select().column("*").from("limit_changes").where("year", .equal, SQLBind(year))
        if let state { q = q.where("state", .equal, SQLBind(state.rawValue)) }
        if let region { q = q.where(group: { $0.where("from_region", .equal, SQLBind(region)).orWhere("to_region", .equal, SQLBind(region)) }) }
        return try await q.orderBy("id", .descending).limit(limit).all(decoding: ChangeRow.self)
    }

    public func change(_ id: Int) async throws -> ChangeRow? {
        try await store.sql.select().column("*").from("limit_changes").where("id", .equal, SQLBind(id)).first(decoding: ChangeRow.self)
    }

    /// A place a limit belongs to: a direction of a region (district nil) or of a district.
    public struct Place: Sendable, Equatable {
        public let direction: FundingDirection, region: String, district: Int?
        public init(_ direction: FundingDirection, _ region: String, _ district: Int? = nil) { self.direction = direction; self.region = region; self.district = district }
        var tuple: (String, String, Int?) { (direction.rawValue, region, district) }
    }

    func limitRow(year: Int, _ p: Place, on sql: any SQLDatabase) async throws -> LimitRow? {
        try await sql.select().column("*").from("funding_limits").where("year", .equal, SQLBind(year)).where("direction", .equal, SQLBind(p.direction.rawValue))
            .where("region_iso", .equal, SQLBind(p.region)).where("district_id", .equal, SQLBind(p.district ?? 0)).first(decoding: LimitRow.self)
    }

    /// The authorised body proposes a correction of a region's limit (a signed amount: more or less money) or a
    /// reallocation of an amount from one region or direction to another. Nothing is recomputed from the labour force.
    @discardableResult
    public func proposeChange(year: Int, kind: LimitChangeKind, from: Place?, to: Place, amount: Money, reason: String, on: CivilDate? = nil, by user: UserContext) async throws -> Int {
        guard try await body(user) == .ministry else { throw FieldErrors(errors: [FieldError("amount", "limit_not_your_body")]) }
        var errors: [FieldError] = []
        if !ProgrammeYears.range.contains(year) { errors.append(FieldError("year", "year_invalid")) }
        let why = reason.trimmingCharacters(in: .whitespaces)
        if why.isEmpty || why.count > 500 { errors.append(FieldError("reason", "note_required")) }
        if amount.tiyn == 0 || amount.tiyn % 100 != 0 || abs(amount.tiyn) > 100_000_000_000_000 { errors.append(FieldError("amount", "limit_total_invalid")) }
        if to.district != nil || from?.district != nil { errors.append(FieldError("to_region", "choose_from_list")) }
        // Regions the reference does not know are refused here, not by the foreign key at approval.
        let known = Set(try await RegionRecord.query(on: store.db).all().compactMap(\.id))
        if !known.contains(to.region) { errors.append(FieldError("to_region", "choose_from_list")) }
        if let from, !known.contains(from.region) { errors.append(FieldError("from_region", "choose_from_list")) }
        switch kind {
        case .correction:
            if from != nil { errors.append(FieldError("from_region", "choose_from_list")) }
            if try await limitRow(year: year, to, on: store.sql) == nil && amount.tiyn < 0 { errors.append(FieldError("to_region", "limit_not_set", ["year": String(year)])) }
        case .reallocation:
            guard let from else { errors.append(FieldError("from_region", "choose_from_list")); break }
            if from == to { errors.append(FieldError("to_region", "limit_same_place")) }
            if amount.tiyn < 0 { errors.append(FieldError("amount", "limit_total_invalid")) }
            if try await limitRow(year: year, from, on: store.sql) == nil { errors.append(FieldError("from_region", "limit_not_set", ["year": String(year)])) }
        default: errors.append(FieldError("kind", "choose_from_list"))
        }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let date = on ?? store.today()
        return try await store.write(as: user.actor) { ctx in
            let id = try await Self.change(ctx, year: year, kind: kind, state: .proposed, from: from?.tuple, to: to.tuple, amount: amount.tiyn, reason: why, reference: nil,
                                           proposedBy: user.login, proposedOn: date.iso, decision: nil, on: nil)
            try ctx.audit("propose", entity: "limit_change", id: String(id), after: ["kind": kind.rawValue, "amount": amount.decimalString, "reason": why])
            return id
        }
    }

    /// The interagency commission approves or refuses a proposed change. An approved change moves the money at once;
    /// a limit never goes below what is committed from it or what its districts hold.
    public func decideChange(_ id: Int, approve: Bool, decision: String, on: CivilDate? = nil, by user: UserContext) async throws {
        guard try await body(user) == .interagencyCommission else { throw FieldErrors(errors: [FieldError("decision", "limit_not_your_body")]) }
        guard let c = try await change(id) else { throw StoreError.notFound }
        let d = decision.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if c.state != LimitChangeState.proposed.rawValue { errors.append(FieldError("decision", "limit_allocation_state")) }
        if d.isEmpty || d.count > 200 { errors.append(FieldError("decision", "project_decision_required")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let date = on ?? store.today()
        try await store.write(as: user.actor) { ctx in
            let n = try await ctx.sql.update("limit_changes").set("state", to: SQLBind(approve ? "approved" : "refused")).set("decision", to: SQLBind(d))
                .set("decided_by", to: SQLBind(user.login)).set("decided_on", to: SQLBind(date.iso)).where("id", .equal, SQLBind(id)).where("state", .equal, SQLBind("proposed")).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("decision", "limit_allocation_state")]) }
            if approve, let toDirection = c.to_direction, let toRegion = c.to_region {
                if let fd = c.from_direction, let fr = c.from_region {
                    // Both rows locked in id order first, so that two reallocations in opposite directions wait for
                    // each other instead of deadlocking (PostgreSQL; SQLite has one writer).
                    if ctx.sql.dialect.name == "postgresql" {
                        _ = try await ctx.sql.select().column("id").from("funding_limits").where("year", .equal, SQLBind(c.year)).where("district_id", .equal, SQLBind(0))
                            .where(group: { $0.where(group: { $0.where("direction", .equal, SQLBind(fd)).where("region_iso", .equal, SQLBind(fr)) })
                                .orWhere(group: { $0.where("direction", .equal, SQLBind(toDirection)).where("region_iso", .equal, SQLBind(toRegion)) }) })
                            .orderBy("id").for(.update).all()
                    }
                    try await Self.takeFromLimit(ctx, year: c.year, direction: fd, region: fr, amount: c.amount)
                    try await Self.addToLimit(ctx, year: c.year, direction: toDirection, region: toRegion, district: 0, amount: c.amount)
                } else if c.amount >= 0 {
                    try await Self.addToLimit(ctx, year: c.year, direction: toDirection, region: toRegion, district: 0, amount: c.amount)
                } else {
                    try await Self.takeFromLimit(ctx, year: c.year, direction: toDirection, region: toRegion, amount: -c.amount)
                }
            }
            try ctx.audit(approve ? "approve" : "refuse", entity: "limit_change", id: String(id), after: ["decision": d, "decided_on": date.iso])
        }
    }

    /// Takes money off a region's limit, but never below what is committed from it or what its districts hold.
    static func takeFromLimit(_ ctx: WriteContext, year: Int, direction: String, region: String, amount: Int64) async throws {
        // Against a district split at the same moment: the districts' sum read here still holds at the update.
        try await ctx.serialize("limit:\(year):\(direction):\(region)")
        struct S: Decodable { let s: Int64 }
        let districts = try await ctx.sql.select().column(SQLRaw("COALESCE(CAST(SUM(amount) AS BIGINT), 0)"), as: "s").from("funding_limits").where("year", .equal, SQLBind(year))
            .where("direction", .equal, SQLBind(direction)).where("region_iso", .equal, SQLBind(region)).where("district_id", .notEqual, SQLBind(0)).first(decoding: S.self)?.s ?? 0
        let done = try await ctx.sql.update("funding_limits").set("amount", to: SQLRaw("amount - \(amount)"))
            .where("year", .equal, SQLBind(year)).where("direction", .equal, SQLBind(direction)).where("region_iso", .equal, SQLBind(region)).where("district_id", .equal, SQLBind(0))
            .where(SQLRaw("amount - \(amount) >= committed")).where(SQLRaw("amount - \(amount) >= \(districts)")).returning("id").all()
        guard done.count == 1 else { throw FieldErrors(errors: [FieldError("amount", "limit_below_committed")]) }
    }

    /// A region's akimat splits the region's limit of a direction between its districts (its own decision, recorded
    /// in the history). The districts together never hold more than the region; no district gets less than it has
    /// committed. A region that has split its limit commits money of a district only from that district's share.
    public func splitByDistrict(year: Int, direction: FundingDirection, region: String, amounts: [Int: Money], decision: String, on: CivilDate? = nil, by user: UserContext) async throws {
        guard try await body(user) == .akimat, user.districtID == nil, user.regionISO == region else { throw FieldErrors(errors: [FieldError("decision", "limit_not_your_body")]) }
        let d = decision.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if d.isEmpty || d.count > 200 { errors.append(FieldError("decision", "project_decision_required")) }
        guard let regionLimit = try await limitRow(year: year, Place(direction, region), on: store.sql) else { throw FieldErrors(errors: [FieldError("decision", "limit_not_set", ["year": String(year)])]) }
        let districts = Set(try await DistrictRecord.query(on: store.db).filter(\.$regionISO == region).all().compactMap(\.id))
        let current = Dictionary(uniqueKeysWithValues: try await limits(year: year, region: region).filter { $0.direction == direction.rawValue && $0.district_id != 0 }.map { ($0.district_id, $0) })
        var total: Int64 = 0
        for (district, amount) in amounts {
            if !districts.contains(district) { errors.append(FieldError("d_\(district)", "choose_from_list")); continue }
            if amount.tiyn < 0 || amount.tiyn % 100 != 0 { errors.append(FieldError("d_\(district)", "limit_total_invalid")) }
            if let c = current[district], amount.tiyn < c.committed { errors.append(FieldError("d_\(district)", "limit_below_committed")) }
        }
        for (district, c) in current { total += amounts[district]?.tiyn ?? c.amount }
        for (district, a) in amounts where current[district] == nil { total += a.tiyn }
        if total > regionLimit.amount { errors.append(FieldError("decision", "limit_districts_exceed", ["limit": Money(tiyn: regionLimit.amount).formatted(), "total": Money(tiyn: total).formatted()])) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let date = on ?? store.today()
        let cur = current
        let regionLimitID = regionLimit.id
        try await store.write(as: user.actor) { ctx in
            // One split or reallocation of the region's limit at a time, so that the sum checked at the end holds.
            try await ctx.serialize("limit:\(year):\(direction.rawValue):\(region)")
            for (district, amount) in amounts.sorted(by: { $0.key < $1.key }) {
                let before = cur[district]?.amount ?? 0
                guard amount.tiyn != before || (cur[district] == nil && amount.tiyn > 0) else { continue }
                // The district's new amount, never below what it has committed by the time of the write. A district
                // getting its first share takes over what was already committed there from the region's limit.
                if cur[district] == nil {
                    struct S: Decodable { let s: Int64 }
                    let already = try await ctx.sql.select().column(SQLRaw("COALESCE(CAST(SUM(amount) AS BIGINT), 0)"), as: "s").from("limit_commitments")
                        .where("limit_id", .equal, SQLBind(regionLimitID)).where("district_id", .equal, SQLBind(district)).where("district_limit_id", .is, SQLLiteral.null).first(decoding: S.self)?.s ?? 0
                    if already > amount.tiyn { throw FieldErrors(errors: [FieldError("d_\(district)", "limit_below_committed")]) }
                    try await ctx.sql.insert(into: "funding_limits").columns("year", "direction", "region_iso", "district_id", "amount", "committed")
                        .values(SQLBind(year), SQLBind(direction.rawValue), SQLBind(region), SQLBind(district), SQLBind(amount.tiyn), SQLBind(already)).run()
                    if already > 0, let row = try await self.limitRow(year: year, Place(direction, region, district), on: ctx.sql) {
                        try await ctx.sql.update("limit_commitments").set("district_limit_id", to: SQLBind(row.id)).where("limit_id", .equal, SQLBind(regionLimitID))
                            .where("district_id", .equal, SQLBind(district)).where("district_limit_id", .is, SQLLiteral.null).run()
                    }
                } else {
                    let n = try await ctx.sql.update("funding_limits").set("amount", to: SQLBind(amount.tiyn)).where("id", .equal, SQLBind(cur[district]!.id))
                        .where("committed", .lessThanOrEqual, SQLBind(amount.tiyn)).returning("id").all()
                    guard n.count == 1 else { throw FieldErrors(errors: [FieldError("d_\(district)", "limit_below_committed")]) }
                }
                try await Self.change(ctx, year: year, kind: .districtSplit, state: .approved, from: (direction.rawValue, region, nil), to: (direction.rawValue, region, district),
                                      amount: amount.tiyn - before, reason: "\(Money(tiyn: before).decimalString) → \(amount.decimalString)", reference: nil,
                                      proposedBy: user.login, proposedOn: date.iso, decision: d, on: date)
            }
            struct S: Decodable { let s: Int64 }
            let sum = try await ctx.sql.select().column(SQLRaw("COALESCE(CAST(SUM(amount) AS BIGINT), 0)"), as: "s").from("funding_limits").where("year", .equal, SQLBind(year))
                .where("direction", .equal, SQLBind(direction.rawValue)).where("region_iso", .equal, SQLBind(region)).where("district_id", .notEqual, SQLBind(0)).first(decoding: S.self)?.s ?? 0
            guard let r = try await self.limitRow(year: year, Place(direction, region), on: ctx.sql), sum <= r.amount else {
                throw FieldErrors(errors: [FieldError("decision", "limit_districts_exceed", ["limit": Money(tiyn: regionLimit.amount).formatted(), "total": Money(tiyn: sum).formatted()])])
            }
            try ctx.audit("district_split", entity: "funding_limit", id: "\(year)-\(direction.rawValue)-\(region)",
                          after: Dictionary(uniqueKeysWithValues: amounts.map { (String($0.key), $0.value.decimalString) }).merging(["decision": d]) { a, _ in a })
        }
    }

    // MARK: commitments

    /// Draws `amount` on the limit of a year's direction in a region (and on its district's share when the region has
    /// split that limit). The limit row is changed by one conditional update — `committed + amount <= amount` — so on
    /// SQLite (one writer) and on PostgreSQL (the row is locked and the condition re-checked) two requests never both
    /// take the last money. Throws a field error when the limit is missing or would be exceeded.
    @discardableResult
    public static func commit(_ ctx: WriteContext, year: Int, direction: FundingDirection, region: String, district: Int?, kind: CommitmentKind, reference: String,
                              amount: Int64, spent: Int64 = 0, on: CivilDate, field: String = "step") async throws -> Int {
        guard amount > 0 else { throw FieldErrors(errors: [FieldError(field, "amount_invalid")]) }
        func take(_ district: Int) async throws -> Int? {
            let done = try await ctx.sql.update("funding_limits").set("committed", to: SQLRaw("committed + \(amount)"))
                .where("year", .equal, SQLBind(year)).where("direction", .equal, SQLBind(direction.rawValue)).where("region_iso", .equal, SQLBind(region)).where("district_id", .equal, SQLBind(district))
                .where(SQLRaw("committed + \(amount) <= amount")).returning("id").all()
            return try done.first?.decode(column: "id", as: Int.self)
        }
        func refusal(_ district: Int) async throws -> FieldErrors {
            let row = try await ctx.sql.select().column("*").from("funding_limits").where("year", .equal, SQLBind(year)).where("direction", .equal, SQLBind(direction.rawValue))
                .where("region_iso", .equal, SQLBind(region)).where("district_id", .equal, SQLBind(district)).first(decoding: LimitRow.self)
            guard let row else { return FieldErrors(errors: [FieldError(field, "limit_not_set", ["year": String(year)])]) }
            return FieldErrors(errors: [FieldError(field, "limit_exceeded", ["limit": Money(tiyn: row.amount).formatted(), "remaining": Money(tiyn: row.remaining).formatted(),
                                                                              "asked": Money(tiyn: amount).formatted()])])
        }
        guard let limitID = try await take(0) else { throw try await refusal(0) }
        var districtLimitID: Int? = nil
        if let district {
            let split = try await ctx.sql.select().column("id").from("funding_limits").where("year", .equal, SQLBind(year)).where("direction", .equal, SQLBind(direction.rawValue))
                .where("region_iso", .equal, SQLBind(region)).where("district_id", .notEqual, SQLBind(0)).limit(1).all()
            if !split.isEmpty {
                guard let id = try await take(district) else { throw try await refusal(district) }
                districtLimitID = id
            }
        }
        struct R: Decodable { let id: Int }
        guard let id = try await ctx.sql.insert(into: "limit_commitments").columns("limit_id", "district_limit_id", "district_id", "kind", "reference", "amount", "spent", "on_date", "by_login", "at")
            .values(SQLBind(limitID), SQLBind(districtLimitID), SQLBind(district), SQLBind(kind.rawValue), SQLBind(reference), SQLBind(amount), SQLBind(spent), SQLBind(on.iso), SQLBind(ctx.actor.login), SQLBind(AuditLog.timestamp(ctx.now)))
            .returning("id").first(decoding: R.self)?.id else { throw StoreError.conflict("commitment not stored") }
        try ctx.audit("commit", entity: "limit_commitment", id: String(id), after: ["kind": kind.rawValue, "reference": reference, "amount": Money(tiyn: amount).decimalString,
                                                                                  "year": String(year), "direction": direction.rawValue, "region": region])
        return id
    }

    public struct CommitmentRow: Decodable, Sendable {
        public let id: Int, limit_id: Int, district_limit_id: Int?, kind: String, reference: String, amount: Int64, spent: Int64, on_date: String
    }

    public static func commitments(_ sql: any SQLDatabase, kind: CommitmentKind, reference: String) async throws -> [CommitmentRow] {
        try await sql.select().column("*").from("limit_commitments").where("kind", .equal, SQLBind(kind.rawValue)).where("reference", .equal, SQLBind(reference)).orderBy("id").all(decoding: CommitmentRow.self)
    }

    /// Gives back `amount` of a commitment to the limits it drew on (a saving, an amendment, unused credit), and
    /// records it in the history when it is a return (E11, C4).
    public static func release(_ ctx: WriteContext, kind: CommitmentKind, reference: String, amount: Int64, on: CivilDate, change: LimitChangeKind?, reason: String, decision: String? = nil) async throws {
        guard amount > 0 else { return }
        var left = amount
        for c in try await commitments(ctx.sql, kind: kind, reference: reference).reversed() where left > 0 && c.amount > 0 {
            let r = min(left, c.amount)
            left -= r
            try await ctx.sql.update("limit_commitments").set("amount", to: SQLRaw("amount - \(r)")).set("spent", to: SQLRaw("CASE WHEN spent > amount - \(r) THEN amount - \(r) ELSE spent END"))
                .where("id", .equal, SQLBind(c.id)).run()
            for l in [c.limit_id, c.district_limit_id].compactMap({ $0 }) {
                try await ctx.sql.update("funding_limits").set("committed", to: SQLRaw("committed - \(r)")).where("id", .equal, SQLBind(l)).run()
            }
            if let change {
                struct L: Decodable { let year: Int; let direction: String; let region_iso: String; let district_id: Int }
                if let l = try await ctx.sql.select().columns("year", "direction", "region_iso", "district_id").from("funding_limits").where("id", .equal, SQLBind(c.district_limit_id ?? c.limit_id)).first(decoding: L.self) {
                    try await Self.change(ctx, year: l.year, kind: change, state: .approved, to: (l.direction, l.region_iso, l.district_id == 0 ? nil : l.district_id), amount: r,
                                          reason: reason, reference: reference, proposedBy: ctx.actor.login, proposedOn: on.iso, decision: decision, on: on)
                }
            }
            try ctx.audit("release", entity: "limit_commitment", id: String(c.id), after: ["amount": Money(tiyn: r).decimalString, "reason": reason])
        }
    }

    /// Records money paid out of a reference's commitments, in their order (never more than each commitment).
    public static func spend(_ ctx: WriteContext, kind: CommitmentKind, reference: String, total: Int64) async throws {
        var left = max(0, total)
        for c in try await commitments(ctx.sql, kind: kind, reference: reference) {
            let s = min(left, c.amount)
            left -= s
            try await ctx.sql.update("limit_commitments").set("spent", to: SQLBind(s)).where("id", .equal, SQLBind(c.id)).run()
        }
    }
}
