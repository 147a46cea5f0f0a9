import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

extension MonitoringStore {
    /// One line of the Programme's monthly consolidated report (G4): a region (or a district) in a month.
    public struct G4Line: Codable, Sendable, Equatable, RollUpLine {
        public var place: String
        /// Applications included in the month, by the Programme's direction (1: training and placement; 2: business;
        /// 3: relocation).
        public var included = [0, 0, 0]
        /// People who started work in the month under a labour contract from the centre's referral.
        public var placed = 0
        /// Training referrals completed in the month.
        public var trained = 0
        /// Relocations decided in the month (their subsidy).
        public var relocated = 0
        /// Money (tiyn): youth practice and social job subsidies of the month's payroll, relocation subsidies decided,
        /// microcredits disbursed.
        public var subsidies: Int64 = 0, relocation: Int64 = 0, microcredits: Int64 = 0
        public init(place: String) { self.place = place }
        public var participants: Int { included.reduce(0, +) }
        public var moneyUsed: Int64 { subsidies + relocation + microcredits }
        public mutating func add(_ o: G4Line) {
            for i in 0..<3 { included[i] += o.included[i] }
            placed += o.placed; trained += o.trained; relocated += o.relocated
            subsidies += o.subsidies; relocation += o.relocation; microcredits += o.microcredits
        }
    }

    public struct G4Report: Codable, Sendable, Equatable {
        public let month: String, level: String, region: String?
        public let lines: [G4Line]
        public let total: G4Line
    }

    /// The Programme's direction a measure belongs to (1, 2 or 3).
    /// The states of an application that has been included in the programme (G4's new participants, G5's coverage).
    static let includedStates = [ApplicationState.included, .contractSigned, .active, .completed].map(\.rawValue)

    static func direction(_ measure: String) -> Int {
        switch Measure(rawValue: measure) {
        case .entrepreneurship: 2
        case .relocation: 3
        default: 1
        }
    }

    /// The Programme's consolidated report for a month (G4): by region with the nation as their sum, or by district
    /// with the region as theirs. Every figure is one aggregate query grouped by place.
    public func programmeMonthly(month: Payroll.Month, region: String? = nil) async throws -> G4Report {
        let first = month.first.iso, last = month.last.iso
        var lines: [String: G4Line] = [:]
        struct Row: Decodable { let region_iso: String; let district_id: Int; let k: String?; let n: Int64 }
        /// Runs `SELECT region_iso, district_id, <key>, <aggregate> FROM table WHERE … GROUP BY …` in the scope.
        func grouped(_ table: String, alias: String = "t", key: String? = nil, aggregate: String, join: ((SQLSelectBuilder) -> SQLSelectBuilder)? = nil,
                     filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [Row] {
            var q = store.sql.select().column(SQLColumn("region_iso", table: alias)).column(SQLColumn("district_id", table: alias))
            q = key.map { q.column(SQLColumn($0, table: alias), as: "k") } ?? q.column(SQLRaw("NULL"), as: "k")
            q = q.column(SQLRaw("CAST(\(aggregate) AS BIGINT)"), as: "n").from(SQLAlias(SQLIdentifier(table), as: SQLIdentifier(alias)))
            if let join { q = join(q) }
            q = filter(q)
            if let region { q = q.where(SQLColumn("region_iso", table: alias), .equal, SQLBind(region)) }
            q = q.groupBy(SQLColumn("region_iso", table: alias)).groupBy(SQLColumn("district_id", table: alias))
            if let key { q = q.groupBy(SQLColumn(key, table: alias)) }
            return try await q.all(decoding: Row.self)
        }
        func apply(_ rows: [Row], _ f: (inout G4Line, Row) -> Void) {
            for r in rows {
                let k = region == nil ? r.region_iso : String(r.district_id)
                var l = lines[k] ?? G4Line(place: k); f(&l, r); lines[k] = l
            }
        }
        apply(try await grouped("applications", key: "measure", aggregate: "COUNT(*)") {
            $0.where("decided_on", .greaterThanOrEqual, SQLBind(first)).where("decided_on", .lessThanOrEqual, SQLBind(last)).where("state", .in, SQLBind.group(Self.includedStates))
        }) { l, r in l.included[Self.direction(r.k ?? "") - 1] += Int(r.n) }
        apply(try await grouped("referrals", alias: "r", aggregate: "COUNT(*)", join: {
            $0.join(SQLAlias(SQLIdentifier("labour_contracts"), as: SQLIdentifier("c")), method: SQLJoinMethod.inner, on: SQLColumn("referral_id", table: "c"), .equal, SQLColumn("id", table: "r"))
        }) { $0.where(SQLColumn("starts_on", table: "c"), .greaterThanOrEqual, SQLBind(first)).where(SQLColumn("starts_on", table: "c"), .lessThanOrEqual, SQLBind(last)) }) { l, r in l.placed += Int(r.n) }
        apply(try await grouped("training_referrals", aggregate: "COUNT(*)") {
            $0.where("state", .equal, SQLBind("completed")).where("outcome_on", .greaterThanOrEqual, SQLBind(first)).where("outcome_on", .lessThanOrEqual, SQLBind(last))
        }) { l, r in l.trained += Int(r.n) }
        apply(try await grouped("payments", aggregate: "COUNT(*)") { $0.where("kind", .equal, SQLBind("relocation_subsidy")).where("month", .equal, SQLBind(month.description)) }) { l, r in l.relocated += Int(r.n) }
        apply(try await grouped("payments", aggregate: "SUM(amount)") { $0.where("kind", .equal, SQLBind("relocation_subsidy")).where("month", .equal, SQLBind(month.description)) }) { l, r in l.relocation += r.n }
        apply(try await grouped("payroll_lines", aggregate: "SUM(amount)") { $0.where("month", .equal, SQLBind(month.description)) }) { l, r in l.subsidies += r.n }
        apply(try await grouped("loans", alias: "l", aggregate: "SUM(d.amount)", join: {
            $0.join(SQLAlias(SQLIdentifier("loan_disbursements"), as: SQLIdentifier("d")), method: SQLJoinMethod.inner, on: SQLColumn("loan_id", table: "d"), .equal, SQLColumn("id", table: "l"))
        }) { $0.where(SQLColumn("kind", table: "l"), .equal, SQLBind(LoanKind.microcredit.rawValue)).where(SQLColumn("on_date", table: "d"), .greaterThanOrEqual, SQLBind(first))
                .where(SQLColumn("on_date", table: "d"), .lessThanOrEqual, SQLBind(last)) }) { l, r in l.microcredits += r.n }
        let (sorted, total) = try await rollUp(lines, region: region)
        return G4Report(month: month.description, level: region == nil ? "region" : "district", region: region, lines: sorted, total: total)
    }
}
