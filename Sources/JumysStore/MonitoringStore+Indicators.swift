import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

extension MonitoringStore {
    /// One of the Programme's target indicators (G5) for a year: the target in force (if the Programme sets one for
    /// that year), the figure from the data (if Jumys holds what it needs), and the gap.
    public struct Indicator: Sendable {
        public let key: String
        /// The parameter that holds the target, and its unit ("count" or "percent").
        public let parameter: String?, unit: String
        public let target: FixedDecimal?
        public let actual: FixedDecimal?
        /// True when the target is a ceiling (unemployment, poverty): below it is good.
        public let atMost: Bool
        /// Where the actual figure comes from (or why there is none).
        public let source: String
        public var gap: FixedDecimal? {
            guard let t = target, let a = actual else { return nil }
            return FixedDecimal(units: a.units - t.units)
        }
        /// Met when the figure reaches the target (or stays under a ceiling).
        public var met: Bool? { gap.map { atMost ? $0.units <= 0 : $0.units >= 0 } }
    }

    /// The target indicators of a year (G5) next to the figures from the data up to the end of that year: the
    /// nation's, or one region's (its figures against the shares the Programme sets; the counts' targets are the
    /// nation's and are not split).
    public func indicators(year: Int, region: String? = nil, env: RulesEnvironment) async throws -> [Indicator] {
        let end = CivilDate(year: year, month: 12, day: 31)!, start = CivilDate(year: year, month: 1, day: 1)!
        func target(_ name: String) -> FixedDecimal? {
            if region != nil && ["target_coverage_total", "target_coverage_rural"].contains(name) { return nil }
            return (try? env.parameters.value(name, at: end))?.value
        }
        struct N: Decodable { let n: Int64 }
        /// Distinct people whose application was included by the end of the year (since `from`, when given).
        func covered(from: CivilDate? = nil, rural: Bool = false, category: String? = nil) async throws -> Int64 {
            var q = store.sql.select().column(SQLRaw("COUNT(DISTINCT a.person_id)"), as: "n").from(SQLAlias(SQLIdentifier("applications"), as: SQLIdentifier("a")))
                .where(SQLColumn("state", table: "a"), .in, SQLBind.group(Self.includedStates)).where(SQLColumn("decided_on", table: "a"), .lessThanOrEqual, SQLBind(end.iso))
            if let from { q = q.where(SQLColumn("decided_on", table: "a"), .greaterThanOrEqual, SQLBind(from.iso)) }
            if let region { q = q.where(SQLColumn("region_iso", table: "a"), .equal, SQLBind(region)) }
            if rural {
                q = q.join(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")), method: SQLJoinMethod.inner, on: SQLColumn("person_id", table: "a"), .equal, SQLColumn("id", table: "p"))
                    .where(SQLColumn("is_rural", table: "p"), .equal, SQLLiteral.boolean(true))
            }
            if let category {
                q = q.where(SQLColumn("person_id", table: "a"), .in, SQLGroupExpression(store.sql.select().column("person_id").from("person_categories").where("category", .equal, SQLBind(category)).query))
            }
            return try await q.first(decoding: N.self)?.n ?? 0
        }
        func placements(_ measure: Measure) async throws -> Int64 {
            var q = store.sql.select().column(SQLRaw("COUNT(*)"), as: "n").from("placements").where("measure", .equal, SQLBind(measure.rawValue))
                .where("starts_on", .greaterThanOrEqual, SQLBind(start.iso)).where("starts_on", .lessThanOrEqual, SQLBind(end.iso))
            if let region { q = q.where("region_iso", .equal, SQLBind(region)) }
            return try await q.first(decoding: N.self)?.n ?? 0
        }
        // Placed on permanent jobs: labour contracts from referrals, without an end date, starting in the year.
        var pq = store.sql.select().column(SQLRaw("COUNT(*)"), as: "n").from(SQLAlias(SQLIdentifier("labour_contracts"), as: SQLIdentifier("c")))
            .join(SQLAlias(SQLIdentifier("referrals"), as: SQLIdentifier("r")), method: SQLJoinMethod.inner, on: SQLColumn("referral_id", table: "c"), .equal, SQLColumn("id", table: "r"))
            .where(SQLColumn("ends_on", table: "c"), .is, SQLLiteral.null)
            .where(SQLColumn("starts_on", table: "c"), .greaterThanOrEqual, SQLBind(start.iso)).where(SQLColumn("starts_on", table: "c"), .lessThanOrEqual, SQLBind(end.iso))
        if let region { pq = pq.where(SQLColumn("region_iso", table: "r"), .equal, SQLBind(region)) }
        let permanent = try await pq.first(decoding: N.self)?.n ?? 0
        var uq = store.sql.select().column(SQLRaw("CAST(SUM(unemployed) AS BIGINT)"), as: "n").from("regions")
        if let region { uq = uq.where("iso", .equal, SQLBind(region)) }
        let unemployedPopulation = try await uq.first(decoding: N.self)?.n ?? 0
        let coveredUnemployed = try await covered(from: start, category: PersonCategory.unemployed.rawValue)
        func count(_ n: Int64) -> FixedDecimal { FixedDecimal(n) }
        /// A share in per cent with one decimal.
        func share(_ part: Int64, _ whole: Int64) -> FixedDecimal? { whole == 0 ? nil : FixedDecimal(units: (part * 1000 / whole) * FixedDecimal.scale / 10) }
        let noData = "statistics"
        return [
            Indicator(key: "coverage_total", parameter: "target_coverage_total", unit: "count", target: target("target_coverage_total"), actual: count(try await covered()), atMost: false, source: "applications"),
            Indicator(key: "coverage_rural", parameter: "target_coverage_rural", unit: "count", target: target("target_coverage_rural"), actual: count(try await covered(rural: true)), atMost: false, source: "applications"),
            Indicator(key: "coverage_unemployed_share", parameter: "target_coverage_unemployed_share", unit: "percent", target: target("target_coverage_unemployed_share"),
                      actual: share(coveredUnemployed, unemployedPopulation), atMost: false, source: "regions"),
            Indicator(key: "coverage_self_employed_share", parameter: "target_coverage_self_employed_share", unit: "percent", target: target("target_coverage_self_employed_share"), actual: nil, atMost: false, source: noData),
            Indicator(key: "coverage_low_income_share", parameter: "target_coverage_low_income_share", unit: "percent", target: target("target_coverage_low_income_share"), actual: nil, atMost: false, source: noData),
            Indicator(key: "placed_permanent", parameter: nil, unit: "count", target: nil, actual: count(permanent), atMost: false, source: "labour_contracts"),
            Indicator(key: "social_jobs", parameter: nil, unit: "count", target: nil, actual: count(try await placements(.socialJob)), atMost: false, source: "placements"),
            Indicator(key: "youth_practice", parameter: nil, unit: "count", target: nil, actual: count(try await placements(.youthPractice)), atMost: false, source: "placements"),
            Indicator(key: "unemployment_rate", parameter: "target_unemployment_rate", unit: "percent", target: target("target_unemployment_rate"), actual: nil, atMost: true, source: noData),
            Indicator(key: "poverty_rate", parameter: "target_poverty_rate", unit: "percent", target: target("target_poverty_rate"), actual: nil, atMost: true, source: noData),
            Indicator(key: "productive_self_employed_share", parameter: "target_productive_self_employed_share", unit: "percent", target: target("target_productive_self_employed_share"), actual: nil, atMost: false, source: noData),
        ]
    }
}
