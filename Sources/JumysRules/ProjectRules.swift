import Foundation
import JumysDomain

extension Rules {
    /// What E3 weighs for one project.
    public struct PriorityFacts: Sendable, Equatable {
        public let id: String, cost: Money, jobs: Int, permanentJobs: Int, durationMonths: Int, plannedReferrals: Int
        public init(id: String, cost: Money, jobs: Int, permanentJobs: Int, durationMonths: Int, plannedReferrals: Int) {
            self.id = id; self.cost = cost; self.jobs = jobs; self.permanentJobs = permanentJobs; self.durationMonths = durationMonths; self.plannedReferrals = plannedReferrals
        }
    }
    /// One criterion of a project's score: its own figure, the points it earns (0–100 against the best in the list) and the weight.
    public struct PriorityComponent: Sendable, Equatable { public let name: String, raw: FixedDecimal, points: FixedDecimal, weight: FixedDecimal }
    public struct PriorityScore: Sendable, Equatable { public let id: String, rank: Int, score: FixedDecimal, components: [PriorityComponent] }

    /// The E3 criteria in the order they are shown, with their weight parameters.
    public static let priorityCriteria = ["labour_intensity", "jobs", "permanent_jobs", "duration", "referrals"]

    /// Months a project's works run, counting the first and the last calendar month.
    public static func durationMonths(from start: CivilDate, to end: CivilDate) -> Int {
        max(1, (end.year * 12 + end.month) - (start.year * 12 + start.month) + 1)
    }

    /// E3: ranks projects by the most labour-intensive technology (jobs per million tenge), the most jobs, the most
    /// permanent jobs after construction, the longest works and the most people placed by referral. Each criterion
    /// earns 0–100 points against the best project of the list being ranked (so a commission compares its own list),
    /// the points are weighted by parameters, and the score is their weighted mean, rounded half up to 2 decimals.
    /// Equal scores rank by more jobs, then by the id, so the order never depends on how the list was read.
    public static func projectPriority(_ projects: [PriorityFacts], _ c: RuleContext) throws -> Explained<[PriorityScore]> {
        guard (1...20_000).contains(projects.count) else { throw RuleInputError("projects", "give from 1 to 20000 projects") }
        var seen = Set<String>()
        for p in projects {
            guard !p.id.isEmpty, seen.insert(p.id).inserted else { throw RuleInputError("projects", "each project needs its own id") }
            guard p.cost.tiyn > 0 else { throw RuleInputError("cost", "\(p.id): must be more than 0") }
            guard (1...1_000_000).contains(p.jobs) else { throw RuleInputError("jobs_created", "\(p.id): must be from 1 to 1000000 (E2: a project without jobs is not considered)") }
            guard (0...1_000_000).contains(p.permanentJobs) else { throw RuleInputError("permanent_jobs", "\(p.id): must be from 0 to 1000000") }
            guard (1...600).contains(p.durationMonths) else { throw RuleInputError("duration_months", "\(p.id): must be from 1 to 600") }
            guard (0...p.jobs).contains(p.plannedReferrals) else { throw RuleInputError("planned_referrals", "\(p.id): must be from 0 to the jobs created") }
        }
        let weights = try priorityCriteria.map { try c.p("project_priority_weight_\($0)") }
        let weightSum = weights.reduce(Int64(0)) { $0 + $1.value.units }
        guard weightSum > 0 else { throw RuleInputError("weights", "the priority weights add up to 0") }
        // Jobs per million tenge with 2 decimals: jobs × 10^6 tenge × 100 tiyn / cost in tiyn, in units of 1/10000.
        func intensity(_ p: PriorityFacts) -> FixedDecimal {
            let (hi, lo) = Int64(p.jobs).multipliedFullWidth(by: 1_000_000 * 100 * FixedDecimal.scale)
            let q = p.cost.tiyn.dividingFullWidth((hi, lo)).quotient
            return FixedDecimal(units: q / 100 * 100)
        }
        let raws: [[FixedDecimal]] = projects.map { p in
            [intensity(p), FixedDecimal(Int64(p.jobs)), FixedDecimal(Int64(p.permanentJobs)), FixedDecimal(Int64(p.durationMonths)), FixedDecimal(Int64(p.plannedReferrals))]
        }
        let best = (0..<priorityCriteria.count).map { i in raws.map { $0[i].units }.max() ?? 0 }
        func roundHalfUp(_ num: Int64, _ den: Int64) -> Int64 { (2 * num + den) / (2 * den) }
        var scored: [PriorityScore] = []
        for (n, p) in projects.enumerated() {
            var comps: [PriorityComponent] = []
            var weighted: Int64 = 0
            for (i, name) in priorityCriteria.enumerated() {
                // Points with 2 decimals: raw / best × 100.
                let hundredths = best[i] == 0 ? 0 : roundHalfUp(raws[n][i].units * 100 * 100, best[i])
                let points = FixedDecimal(units: hundredths * 100)
                weighted += hundredths * weights[i].value.units
                comps.append(PriorityComponent(name: name, raw: raws[n][i], points: points, weight: weights[i].value))
            }
            let score = FixedDecimal(units: roundHalfUp(weighted, weightSum) * 100)
            scored.append(PriorityScore(id: p.id, rank: 0, score: score, components: comps))
        }
        let jobsByID = Dictionary(uniqueKeysWithValues: projects.map { ($0.id, $0.jobs) })
        let ordered = scored.sorted { a, b in
            if a.score != b.score { return a.score > b.score }
            if jobsByID[a.id]! != jobsByID[b.id]! { return jobsByID[a.id]! > jobsByID[b.id]! }
            return a.id < b.id
        }.enumerated().map { PriorityScore(id: $1.id, rank: $0 + 1, score: $1.score, components: $1.components) }
        var steps = zip(priorityCriteria, weights).map { ExplanationStep.uses("E3", "project_priority_weight_\($0)", $1) }
        steps.append(ExplanationStep(rule: "E3", text: "points = figure / best figure of the list × 100; score = Σ points × weight / Σ weights; best: "
            + zip(priorityCriteria, best).map { "\($0) \(FixedDecimal(units: $1))" }.joined(separator: ", ")))
        for s in ordered {
            steps.append(ExplanationStep(rule: "E3", text: "\(s.rank). \(s.id): " + s.components.map { "\($0.name) \($0.raw) → \($0.points)" }.joined(separator: "; ") + "; score \(s.score)"))
        }
        return Explained(ordered, steps: steps)
    }
}
