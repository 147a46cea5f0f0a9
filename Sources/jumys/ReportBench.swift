import ArgumentParser
import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Logging
import SQLKit

/// `jumys bench report --projects N --months M`: the Roadmap's national monthly report (G1) over a synthetic
/// national set of projects, next to one bare SQL statement that computes the same figures on the same database.
struct ReportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report",
        abstract: "G1 for one month over N synthetic projects with M months of progress reports, next to the bare SQL aggregate (a fresh store: DATABASE_URL or a temporary SQLite file)")

    @ArgumentParser.Option(help: "Projects (about 7,000 a year nationally)") var projects = 7_000
    @ArgumentParser.Option(help: "Months of history") var months = 24
    @ArgumentParser.Option(help: "Seed") var seed: UInt64 = 7
    @ArgumentParser.Option(help: "Runs of each, the best kept") var runs = 5

    func run() async throws {
        var logger = Logger(label: "jumys.bench")
        logger.logLevel = .warning
        let store = try await Store.isolated(logger: logger)
        do {
            try await store.migrate()
            try await ReferenceData.load(into: store)
            let clock = ContinuousClock()
            let t0 = clock.now
            let month = try await Self.seed(store, projects: projects, months: months, seed: seed)
            let seeded = clock.now - t0
            let monitoring = MonitoringStore(store: store)
            func sec(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
            var best = (Double.infinity, Double.infinity)
            var report: MonitoringStore.G1Report? = nil
            var bare: [String: (Int, Int, Int, Int, Int64, Int)] = [:]
            for _ in 0..<runs {
                let a = clock.now
                report = try await monitoring.roadmapMonthly(month: month)
                let b = clock.now
                bare = try await Self.bare(store, month: month)
                let c = clock.now
                best = (min(best.0, sec(b - a)), min(best.1, sec(c - b)))
            }
            // The two must agree, region by region.
            var same = 0
            for l in report?.lines ?? [] {
                let x = bare[l.place] ?? (0, 0, 0, 0, 0, 0)
                if x == (l.contractors, l.inWorks, l.started, l.finished, l.workDone, l.jobs) { same += 1 }
            }
            let t = report?.total
            print("database: \(store.location.redacted); \(projects) projects, \(months) months of reports, seeded in \(String(format: "%.1f", sec(seeded))) s")
            print("G1 \(month): \(t?.inWorks ?? 0) projects in works, \(t?.started ?? 0) started, \(t?.finished ?? 0) finished, work done \(Money(tiyn: t?.workDone ?? 0).decimalString), jobs \(t?.jobs ?? 0)")
            print("regions identical to the bare SQL: \(same) of \(report?.lines.count ?? 0)")
            print(String(format: "G1 (report code, best of %d): %.3f s; bare SQL aggregate: %.3f s; ratio %.1f", runs, best.0, best.1, best.0 / max(best.1, 1e-9)))
        } catch {
            await store.destroy()
            throw error
        }
        await store.destroy()
    }

    /// The same figures as G1 (without the referred hires) in one statement, grouped by region.
    static func bare(_ store: Store, month: Payroll.Month) async throws -> [String: (Int, Int, Int, Int, Int64, Int)] {
        let f = month.first.iso, l = month.last.iso
        struct R: Decodable { let region_iso: String; let contractors: Int64; let in_works: Int64; let started: Int64; let finished: Int64; let work_done: Int64; let jobs: Int64 }
        let rows = try await store.sql.raw("""
            SELECT p.region_iso,
              CAST(COUNT(DISTINCT pp.organisation_id) AS BIGINT) AS contractors,
              CAST(COUNT(DISTINCT p.id) AS BIGINT) AS in_works,
              CAST(COUNT(DISTINCT CASE WHEN p.started_on >= \(bind: f) THEN p.id END) AS BIGINT) AS started,
              CAST(COUNT(DISTINCT CASE WHEN p.completed_on <= \(bind: l) THEN p.id END) AS BIGINT) AS finished,
              CAST(COALESCE((SELECT SUM(r.work_done_amount) FROM project_reports r JOIN projects q ON q.id = r.project_id
                 WHERE q.region_iso = p.region_iso AND q.programme = 'roadmap' AND r.month = \(bind: month.description) AND r.state = 'accepted'), 0) AS BIGINT) AS work_done,
              CAST(COALESCE((SELECT SUM(r.jobs_filled) FROM project_reports r JOIN projects q ON q.id = r.project_id
                 WHERE q.region_iso = p.region_iso AND q.programme = 'roadmap' AND r.month = \(bind: month.description) AND r.state = 'accepted'), 0) AS BIGINT) AS jobs
            FROM projects p LEFT JOIN project_parties pp ON pp.project_id = p.id
            WHERE p.programme = 'roadmap' AND p.started_on <= \(bind: l) AND (p.completed_on IS NULL OR p.completed_on >= \(bind: f))
            GROUP BY p.region_iso
            """).all(decoding: R.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.region_iso, (Int($0.contractors), Int($0.in_works), Int($0.started), Int($0.finished), $0.work_done, Int($0.jobs))) })
    }

    /// The seed's projects (`NationalSeed.seedProjects`) over the last `months` months of 2021. Returns December 2021.
    static func seed(_ store: Store, projects: Int, months: Int, seed: UInt64) async throws -> Payroll.Month {
        let end = CivilDate(year: 2021, month: 12, day: 31)!
        _ = try await NationalSeed.seedProjects(store, projects: projects, first: CivilDate(year: 2021, month: 12, day: 1)!.adding(months: -(months - 1)), end: end, seed: seed)
        return Payroll.Month("2021-12")!
    }
}

/// `jumys bench programme --month YYYY-MM`: the Programme's national monthly report (G4) on the database
/// `DATABASE_URL` names (filled by `jumys seed`), next to one bare SQL statement per figure computing the same
/// totals; the two must agree.
struct ProgrammeReportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "programme",
        abstract: "G4 for one month on the seeded database (DATABASE_URL), next to the bare SQL aggregates")

    @ArgumentParser.Option(help: "The month, YYYY-MM (default: last month)") var month: String?
    @ArgumentParser.Option(help: "Runs of each, the best kept") var runs = 5

    func run() async throws {
        var logger = Logger(label: "jumys.bench")
        logger.logLevel = .warning
        let config = try Boot.config()
        let store = try await Boot.store(config, logger: logger)
        let last = store.today().adding(months: -1)
        guard let m = Payroll.Month(month ?? String(format: "%04d-%02d", last.year, last.month)) else { throw RulesBoot.fail("--month: expected YYYY-MM") }
        let clock = ContinuousClock()
        func sec(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        var best = (Double.infinity, Double.infinity)
        var report: MonitoringStore.G4Report? = nil
        var bare: [Int64] = []
        for _ in 0..<runs {
            let a = clock.now
            report = try await MonitoringStore(store: store).programmeMonthly(month: m)
            let b = clock.now
            bare = try await Self.bare(store, month: m)
            let c = clock.now
            best = (min(best.0, sec(b - a)), min(best.1, sec(c - b)))
        }
        let t = report!.total
        let mine: [Int64] = [Int64(t.participants), Int64(t.placed), Int64(t.trained), Int64(t.relocated), t.subsidies, t.relocation, t.microcredits]
        print("database: \(config.database.redacted)")
        print("G4 \(m): participants \(t.participants), placed \(t.placed), trained \(t.trained), relocated \(t.relocated), subsidies \(Money(tiyn: t.subsidies).decimalString), relocation \(Money(tiyn: t.relocation).decimalString), microcredits \(Money(tiyn: t.microcredits).decimalString)")
        print("national totals identical to the bare SQL: \(mine == bare ? "yes" : "NO: \(bare)")")
        print(String(format: "G4 (report code, best of %d): %.3f s; bare SQL aggregates: %.3f s; ratio %.1f", runs, best.0, best.1, best.0 / max(best.1, 1e-9)))
        await store.shutdown()
    }

    /// The national totals in one statement: each figure a scalar subquery.
    static func bare(_ store: Store, month: Payroll.Month) async throws -> [Int64] {
        let f = month.first.iso, l = month.last.iso, k = month.description
        struct R: Decodable { let a: Int64; let b: Int64; let c: Int64; let d: Int64; let e: Int64; let g: Int64; let h: Int64 }
        let r = try await store.sql.raw("""
            SELECT
              CAST((SELECT COUNT(*) FROM applications WHERE decided_on >= \(bind: f) AND decided_on <= \(bind: l) AND state IN ('included', 'contract_signed', 'active', 'completed')) AS BIGINT) AS a,
              CAST((SELECT COUNT(*) FROM referrals r JOIN labour_contracts c ON c.referral_id = r.id WHERE c.starts_on >= \(bind: f) AND c.starts_on <= \(bind: l)) AS BIGINT) AS b,
              CAST((SELECT COUNT(*) FROM training_referrals WHERE state = 'completed' AND outcome_on >= \(bind: f) AND outcome_on <= \(bind: l)) AS BIGINT) AS c,
              CAST((SELECT COUNT(*) FROM payments WHERE kind = 'relocation_subsidy' AND month = \(bind: k)) AS BIGINT) AS d,
              CAST((SELECT COALESCE(SUM(amount), 0) FROM payroll_lines WHERE month = \(bind: k)) AS BIGINT) AS e,
              CAST((SELECT COALESCE(SUM(amount), 0) FROM payments WHERE kind = 'relocation_subsidy' AND month = \(bind: k)) AS BIGINT) AS g,
              CAST((SELECT COALESCE(SUM(d.amount), 0) FROM loans l JOIN loan_disbursements d ON d.loan_id = l.id WHERE l.kind = 'microcredit' AND d.on_date >= \(bind: f) AND d.on_date <= \(bind: l)) AS BIGINT) AS h
            """).first(decoding: R.self)!
        return [r.a, r.b, r.c, r.d, r.e, r.g, r.h]
    }
}
