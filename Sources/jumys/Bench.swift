import ArgumentParser
import Foundation
import JumysDomain
import JumysRules
import JumysStore

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks (see BENCHMARKS.md).", subcommands: [RulesBench.self, MatchingBench.self, ReportBench.self, ProgrammeReportBench.self, PayrollBench.self])

    /// `jumys bench rules --count N`: the three subsidy rules for N synthetic people, through the rule functions the API calls.
    struct RulesBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rules",
            abstract: "social_job_subsidy, youth_practice_subsidy and relocation_subsidy for N synthetic people; last line: persons/s")

        @ArgumentParser.Option(help: "How many people") var count = 1_000_000
        @ArgumentParser.Option(help: "Seed of the synthetic people") var seed: UInt64 = 1
        @ArgumentParser.Option(help: "Date the rules are computed on") var date = "2021-05-01"
        @ArgumentParser.Flag(help: "Build the full explanation of every result too") var explain = false
        @ArgumentParser.Flag(help: "Go through the rule catalogue (text inputs parsed, JSON-ready outputs), as POST /api/v1/calculate does") var catalogue = false

        func run() async throws {
            guard let on = CivilDate(iso: date) else { throw RulesBoot.fail("--date: expected YYYY-MM-DD") }
            guard count > 0 else { throw RulesBoot.fail("--count must be positive") }
            let ctx = RuleContext(date: on, parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
            // The synthetic people: wage 50,000–500,000 tenge, placement month 1–13, a kind of move, 0–5 family members.
            var rng = SeededRandom(seed: seed)
            var wages = [Money](), months = [Int](), moves = [Rules.Move](), families = [Int]()
            wages.reserveCapacity(count); months.reserveCapacity(count); moves.reserveCapacity(count); families.reserveCapacity(count)
            for _ in 0..<count {
                wages.append(Money(tiyn: Int64.random(in: 5_000_000...50_000_000, using: &rng)))
                months.append(Int.random(in: 1...13, using: &rng))
                moves.append(Rules.Move.allCases[Int.random(in: 0..<3, using: &rng)])
                families.append(Int.random(in: 0...5, using: &rng))
            }
            var total = Money.zero
            var steps = 0
            let clock = ContinuousClock()
            let start = clock.now
            if catalogue {
                let sj = RuleCatalogue.byName["social_job_subsidy"]!, yp = RuleCatalogue.byName["youth_practice_subsidy"]!, rl = RuleCatalogue.byName["relocation_subsidy"]!
                for i in 0..<count {
                    let a = try sj(RuleInputs(["wage": wages[i].decimalString, "month": String(months[i])]), ctx)
                    let b = try yp(RuleInputs(["month": String(months[i])]), ctx)
                    let c = try rl(RuleInputs(["move": moves[i].rawValue, "family_members": String(families[i])]), ctx)
                    for r in [a, b, c] { if case .money(let m) = r.value { total += m }; steps += r.steps.count }
                }
            } else {
                // The rules' own table for the date, built once (as a payroll does), then the same arithmetic per person.
                let table = try SubsidyTable(ctx)
                if explain {
                    for i in 0..<count {
                        total += table.socialJob(wage: wages[i], month: months[i]) + table.youthPractice(month: months[i]) + table.relocation(move: moves[i], familyMembers: families[i])
                        steps += table.explainSocialJob(wage: wages[i], month: months[i]).count + table.explainYouthPractice(month: months[i]).count
                            + table.explainRelocation(move: moves[i], familyMembers: families[i]).count
                    }
                } else {
                    var sum: Int64 = 0
                    for i in 0..<count {
                        sum &+= table.socialJob(wage: wages[i], month: months[i]).tiyn &+ table.youthPractice(month: months[i]).tiyn
                            &+ table.relocation(move: moves[i], familyMembers: families[i]).tiyn
                    }
                    total = Money(tiyn: sum)
                }
            }
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("people: \(count), date: \(on.iso), path: \(catalogue ? "catalogue (text in, JSON-ready out, explanations)" : explain ? "rule table with every explanation built" : "rule table, explanations on demand")")
            print("total of the three subsidies: \(total.decimalString) KZT" + (steps > 0 ? "; explanation steps built: \(steps)" : ""))
            print(String(format: "seconds: %.3f", seconds))
            print(String(format: "persons/s: %.0f", Double(count) / seconds))
        }
    }

    /// `jumys bench matching`: every vacancy's top 20 among the job seekers, through the index, next to scanning.
    struct MatchingBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "matching",
            abstract: "Re-match every vacancy's top N among synthetic job seekers (national scale by default); last line: vacancies/s")

        @ArgumentParser.Option(help: "Job seekers") var seekers = 500_000
        @ArgumentParser.Option(help: "Vacancies") var vacancies = 100_000
        @ArgumentParser.Option(help: "Candidates kept per vacancy") var top = 20
        @ArgumentParser.Option(help: "Vacancies matched by scanning everything, for the baseline and a correctness check") var sample = 50
        @ArgumentParser.Option(help: "Seed") var seed: UInt64 = 5

        func run() async throws {
            var rng = SeededRandom(seed: seed)
            // ~1,000 occupation codes, 200 districts in 20 regions (10 each), priority groups 0–2, up to two years registered.
            func code() -> Int { Int.random(in: 1...9, using: &rng) * 1000 + Int.random(in: 1...6, using: &rng) * 100 + Int.random(in: 1...4, using: &rng) * 10 + Int.random(in: 1...5, using: &rng) }
            let clock = ContinuousClock()
            let people = (0..<seekers).map { i -> MatchItem in
                let d = Int.random(in: 0..<200, using: &rng)
                return MatchItem(id: i + 1, isco: Int.random(in: 0..<10, using: &rng) == 0 ? nil : code(), district: d, region: d / 10,
                                 rank: MatchIndex.seekerRank(priorities: Int.random(in: 0...2, using: &rng), daysRegistered: Int.random(in: 0...730, using: &rng)))
            }
            let openings = (0..<vacancies).map { i -> MatchItem in
                let d = Int.random(in: 0..<200, using: &rng)
                return MatchItem(id: i + 1, isco: code(), district: d, region: d / 10, rank: 0)
            }
            let t0 = clock.now
            let index = MatchIndex(people)
            let t1 = clock.now
            var kept = 0
            for v in openings { kept += index.top(for: v, limit: top).count }
            let t2 = clock.now
            var same = 0
            for v in openings.prefix(sample) where index.top(for: v, limit: top).map(\.item.id) == index.topByScanning(for: v, limit: top).map(\.item.id) { same += 1 }
            let t3 = clock.now
            func sec(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
            let perScan = sec(t3 - t2) / Double(max(1, min(sample, vacancies)))
            print("job seekers: \(seekers), vacancies: \(vacancies), top \(top); candidates kept: \(kept)")
            print(String(format: "index built in %.2f s; all vacancies matched in %.2f s", sec(t1 - t0), sec(t2 - t1)))
            print(String(format: "scanning everything: %.3f s a vacancy (%d sampled, %d identical to the index) — %.0f s for all", perScan, min(sample, vacancies), same, perScan * Double(vacancies)))
            print(String(format: "vacancies/s: %.0f", Double(vacancies) / sec(t2 - t1)))
        }
    }
}
