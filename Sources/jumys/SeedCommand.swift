import ArgumentParser
import Foundation
import JumysDomain
import JumysStore
import Logging
import SQLKit

/// `jumys seed --scale national` (or `--scale 0.01`): fills the database `DATABASE_URL` names (migrated first) with
/// the synthetic national dataset, streaming, with progress on the terminal; the same `--seed` gives the same data.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed",
        abstract: "Fill an empty registry with a synthetic dataset of the national size (1.5 million participants and what follows from them) or a fraction of it.")

    @ArgumentParser.Option(help: "national, or a fraction of it such as 0.01") var scale = "national"
    @ArgumentParser.Option(help: "Seed number: the same number gives the same data") var seed: UInt64 = 2020
    @ArgumentParser.Option(help: "Months of history before today") var months = 24

    func run() async throws {
        let factor: Double
        if scale == "national" { factor = 1 } else if let f = Double(scale), f > 0, f <= 1 { factor = f } else { throw RulesBoot.fail("--scale: expected national or a fraction from 0 to 1") }
        guard (1...120).contains(months) else { throw RulesBoot.fail("--months: expected 1 to 120") }
        let config = try Boot.config()
        var logger = Logger(label: "jumys.seed")
        logger.logLevel = .warning
        let store = try await Boot.store(config, logger: logger)
        let plan = NationalSeed.Plan(scale: factor, months: months)
        print("Seeding \(config.database.redacted): \(plan.participants) participants, \(plan.vacancies) vacancies, \(plan.projects) projects, \(months) months of history (seed \(seed)).")
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let counts = try await NationalSeed(store: store).run(plan, seed: seed) { phase, done, total in Terminal.progress(phase, done: done, total: total) }
            let seconds = Terminal.seconds(clock.now - start)
            print(counts.description)
            print(String(format: "%d rows in %.0f s (%.0f rows/s)", counts.total, seconds, Double(counts.total) / max(seconds, 0.001)))
            struct N: Decodable { let n: Int64 }
            let size = store.isPostgres
                ? try await store.sql.raw("SELECT CAST(pg_database_size(current_database()) AS BIGINT) AS n").first(decoding: N.self)?.n
                : try await store.sql.raw("SELECT CAST(page_count * page_size AS BIGINT) AS n FROM pragma_page_count(), pragma_page_size()").first(decoding: N.self)?.n
            if let size { print(String(format: "database size: %.1f MB", Double(size) / 1_048_576)) }
        } catch {
            await store.shutdown()
            throw error
        }
        await store.shutdown()
    }
}
