import ArgumentParser
import Foundation
import JumysDomain
import JumysRules
import JumysStore

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks (see BENCHMARKS.md).", subcommands: [RulesBench.self])

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
}
