import ArgumentParser
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Logging
import SQLKit

/// `jumys bench payroll`: the month's subsidy payroll for every placement running in it, as the system runs it
/// (batches of placements, the rules' table per line with its explanation, the region's limit, the lines written,
/// an audit record per batch), next to one bare SQL statement that computes the same amounts from the same
/// parameters. The payroll writes the month: run it once per month on a throw-away seeded database.
struct PayrollBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "payroll",
        abstract: "The month's payroll on the seeded database (DATABASE_URL), next to one SQL statement computing the same amounts")

    @ArgumentParser.Option(help: "The month, YYYY-MM (default: this month, which the seed leaves unpaid)") var month: String?
    @ArgumentParser.Option(help: "Placements per batch") var batch = 1000

    func run() async throws {
        var logger = Logger(label: "jumys.bench")
        logger.logLevel = .warning
        let config = try Boot.config()
        let store = try await Boot.store(config, logger: logger)
        let today = store.today()
        guard let m = Payroll.Month(month ?? String(format: "%04d-%02d", today.year, today.month)) else { throw RulesBoot.fail("--month: expected YYYY-MM") }
        let files = try ParameterSet.bundled()
        let env = RulesEnvironment(parameters: files, calendar: try WorkCalendar.bundled())
        let table = try SubsidyTable(env.context(on: m.first))
        let clock = ContinuousClock()
        func sec(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let a = clock.now
        let bare = try await Self.bare(store, month: m, table.numbers)
        let b = clock.now
        let r = try await Payroll(store: store).run(month: m, env: env, by: Actor(userID: nil, login: "bench"), batchSize: batch)
        let c = clock.now
        print("database: \(config.database.redacted)")
        print("payroll \(m): \(r.placements) placements running, \(r.added) lines added (\(r.total.decimalString) KZT), \(r.held) held for want of limits (\(r.heldTotal.decimalString) KZT)")
        print("bare SQL: \(bare.lines) lines, \(Money(tiyn: bare.total).decimalString) KZT")
        let same = bare.lines == r.added + r.held && bare.total == (r.total + r.heldTotal).tiyn
        print("the same amounts as the bare SQL (paid and held): \(same ? "yes" : "NO")")
        print(String(format: "payroll: %.3f s (%.0f placements/s); bare SQL: %.3f s; ratio %.1f", sec(c - b), Double(r.placements) / max(sec(c - b), 1e-9), sec(b - a), sec(c - b) / max(sec(b - a), 1e-9)))
        await store.shutdown()
        if !same { throw ExitCode(1) }
    }

    /// Every running placement's amount for the month in one statement: the month of the placement from its start,
    /// then B2 (a fixed amount while it lasts) or B3 (the band's share of the wage, rounded down, capped).
    static func bare(_ store: Store, month: Payroll.Month, _ t: SubsidyTable.Numbers) async throws -> (lines: Int, total: Int64) {
        func share(_ b: Int) -> String {
            "CASE WHEN wage * \(t.bandPercentUnits[b]) / \(t.percentDivisor) < \(t.bandCap[b]) THEN wage * \(t.bandPercentUnits[b]) / \(t.percentDivisor) ELSE \(t.bandCap[b]) END"
        }
        let sql = """
            SELECT CAST(COUNT(*) AS BIGINT) AS lines, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM (
              SELECT CASE WHEN measure = 'youth_practice' THEN (CASE WHEN k <= \(t.youthLastMonth) THEN \(t.youthAmount) ELSE 0 END)
                          WHEN k > \(t.socialLastMonth) THEN 0
                          WHEN k <= \(t.bandLast[0]) THEN \(share(0))
                          WHEN k <= \(t.bandLast[1]) THEN \(share(1))
                          ELSE \(share(2)) END AS amount
              FROM (SELECT measure, wage,
                           \(month.year * 12 + month.month) - (CAST(substr(starts_on, 1, 4) AS INTEGER) * 12 + CAST(substr(starts_on, 6, 2) AS INTEGER)) + 1 AS k
                    FROM placements WHERE starts_on <= '\(month.last.iso)' AND (ends_on IS NULL OR ends_on >= '\(month.first.iso)')) p
              WHERE k >= 1 AND measure IN ('youth_practice', 'social_job')) x
            WHERE amount > 0
            """
        struct R: Decodable { let lines: Int; let total: Int64 }
        let r = try await store.sql.raw(SQLQueryString(sql)).first(decoding: R.self)!
        return (r.lines, r.total)
    }
}
