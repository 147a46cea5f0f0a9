import JumysDomain

/// What the relocation rules need to know of a move besides the person (D1, D2).
public struct MoveFacts: Sendable {
    public let move: Rules.Move
    /// Vocational education matching vacancies, regional projects or employers' demand at the destination.
    public let skillsMatch: Bool
    /// The origin settlement is on the low-potential list on the date.
    public let originLowPotential: Bool
    /// Since when the person has lived permanently in the origin settlement.
    public let livedSince: CivilDate?
    /// The destination is on the high-potential list (or a centre of economic growth) on the date.
    public let destinationHighPotential: Bool
    /// The move and the job are organised by an employer.
    public let employerRelocated: Bool
    /// One member of the family has productive work waiting at the destination.
    public let employmentAtDestination: Bool
    public init(move: Rules.Move, skillsMatch: Bool, originLowPotential: Bool, livedSince: CivilDate?, destinationHighPotential: Bool,
                employerRelocated: Bool, employmentAtDestination: Bool) {
        self.move = move; self.skillsMatch = skillsMatch; self.originLowPotential = originLowPotential; self.livedSince = livedSince
        self.destinationHighPotential = destinationHighPotential; self.employerRelocated = employerRelocated; self.employmentAtDestination = employmentAtDestination
    }
}

extension Rules {
    /// C1: the Programme 2020 direction 2 categories (A1's list; job seekers are not among them).
    static let entrepreneurshipCategories: Set<PersonCategory> = directionOneCategories.subtracting([.jobSeeker])

    /// C1: whether a person may apply to start or expand a business where they want to, and the priorities.
    public static func entrepreneurshipEligibility(facts f: PersonFacts, place: BusinessPlace, supportSettlement: Bool, _ c: RuleContext) throws -> Explained<(eligible: Bool, reasons: [String], priorities: [String])> {
        let person = try consentAndWorkingAge(f, c)
        var steps = person.steps, reasons = person.reasons
        var priorities: [String] = []
        if !person.workingAge { reasons.append("not_working_age") }
        let cats = f.categories.map(\.rawValue).sorted().joined(separator: ", ")
        if f.categories.isDisjoint(with: entrepreneurshipCategories) { reasons.append("not_in_category") }
        steps.append(ExplanationStep(rule: "C1", text: "direction 2 needs one of the A1 categories or repatriate; has: \(cats.isEmpty ? "none" : cats)"))
        if place == .city { reasons.append("business_place_not_eligible") }
        steps.append(ExplanationStep(rule: "C1", text: "business in a \(place.rawValue.replacingOccurrences(of: "_", with: " ")): "
            + (place == .city ? "not a rural settlement, small town or settlement, so not eligible" : "rural settlements, small towns and settlements may take part")))
        if supportSettlement { priorities.append("support_settlement") }
        if f.rural { priorities.append("rural_resident") }
        if f.sex == .female { priorities.append("woman") }
        if f.categories.contains(.disabledAbleToWork) { priorities.append("disabled") }
        let eligible = reasons.isEmpty
        steps.append(ExplanationStep(rule: "C1", text: eligible ? "eligible" + (priorities.isEmpty ? "" : "; priority: \(priorities.joined(separator: ", "))") : "not eligible: \(reasons.joined(separator: ", "))"))
        return Explained((eligible, reasons, priorities), steps: steps)
    }

    /// D1: the categories that may relocate (youth is by age, not a category).
    static let relocationCategories: Set<PersonCategory> = [.selfEmployed, .unemployed, .lowIncome, .orphanUnder23, .repatriate]

    /// D1: whether a person may relocate, which criteria were waived and why, and the priority (rural youth).
    public static func relocationEligibility(facts f: PersonFacts, move m: MoveFacts, _ c: RuleContext) throws -> Explained<(eligible: Bool, reasons: [String], exemptions: [String], priorities: [String])> {
        let person = try consentAndWorkingAge(f, c)
        var steps = person.steps, reasons = person.reasons
        var exemptions: [String] = []
        if !person.workingAge { reasons.append("not_working_age") }
        let youthMax = try c.p("youth_max_age"), orphanMax = try c.p("relocation_orphan_max_age"), years = try c.p("relocation_residence_years")
        steps += [.uses("D1", "youth_max_age", youthMax), .uses("D1", "relocation_orphan_max_age", orphanMax), .uses("D1", "relocation_residence_years", years)]
        let age = f.birthDate.age(on: c.date)
        let youth = age <= Int(youthMax.value.wholeValue ?? 0)
        let orphan = f.categories.contains(.orphanUnder23) && age < Int(orphanMax.value.wholeValue ?? 0)
        let repatriate = f.categories.contains(.repatriate)
        let cats = f.categories.map(\.rawValue).sorted().joined(separator: ", ")
        if f.categories.isDisjoint(with: relocationCategories) && !youth { reasons.append("not_in_category") }
        steps.append(ExplanationStep(rule: "D1", text: "relocation is for the self-employed, unemployed, low-income, orphans under \(orphanMax.value), youth (age \(age)\(youth ? " ≤ " : " > ")\(youthMax.value)) and repatriates; has: \(cats.isEmpty ? "none" : cats)"))
        if repatriate { exemptions.append("repatriate") }
        if orphan { exemptions.append("orphan") }
        if youth { exemptions.append("youth") }
        if m.employerRelocated { exemptions.append("employer_relocated") }
        if m.move == .otherRegion { exemptions.append("other_region") }
        if exemptions.isEmpty {
            if !m.skillsMatch { reasons.append("no_matching_skills") }
            if !m.originLowPotential { reasons.append("origin_not_low_potential") }
            let need = Int(years.value.wholeValue ?? 3)
            let enough = m.livedSince.map { $0.adding(months: 12 * need) <= c.date } ?? false
            if !enough { reasons.append("residence_too_short") }
            steps.append(ExplanationStep(rule: "D1", text: "skills \(m.skillsMatch ? "match" : "do not match") the destination's demand; origin \(m.originLowPotential ? "is" : "is not") on the low-potential list; "
                + "lived there since \(m.livedSince?.iso ?? "unknown"): \(enough ? "at least" : "less than") \(need) years"))
        } else {
            steps.append(ExplanationStep(rule: "D1", text: "the skill and residence criteria do not apply: \(exemptions.joined(separator: ", "))"))
        }
        if !m.destinationHighPotential { reasons.append("destination_not_high_potential") }
        steps.append(ExplanationStep(rule: "D1", text: "the destination \(m.destinationHighPotential ? "is" : "is not") on the high-potential list"))
        if !m.employmentAtDestination { reasons.append("no_employment_at_destination") }
        steps.append(ExplanationStep(rule: "D1", text: m.employmentAtDestination ? "a member of the family will work productively after the move" : "nobody in the family has work at the destination: a condition of the move"))
        let priorities = youth && f.rural ? ["rural_youth"] : []
        let eligible = reasons.isEmpty
        steps.append(ExplanationStep(rule: "D1", text: eligible ? "eligible" + (priorities.isEmpty ? "" : "; priority: rural youth") : "not eligible: \(reasons.joined(separator: ", "))"))
        return Explained((eligible, reasons, exemptions, priorities), steps: steps)
    }

    /// D2: who recommends a move.
    public static func recommendingBody(move: Move) -> RecommendingBody {
        switch move {
        case .withinDistrict: return .districtCommission
        case .withinRegion: return .regionalCommission
        case .otherRegion: return .programmeOperator
        }
    }

    /// D2: the kind of move between two places (region, district).
    public static func move(from origin: (region: String, district: Int), to destination: (region: String, district: Int)) -> Move {
        if origin.region != destination.region { return .otherRegion }
        return origin.district == destination.district ? .withinDistrict : .withinRegion
    }

    /// D4: whether a dwelling may go to a family: area within the norm, the republican budget's cost per m² within
    /// the cap unless someone else pays the excess. Returns the reasons it may not and the republican share.
    public static func housingAllocationCheck(area: FixedDecimal, costPerM2: Money, familySize: Int, region: RegionCode, excessCovered: Bool, _ c: RuleContext) throws -> Explained<(ok: Bool, reasons: [String], republicanCost: Money, excess: Money, maxArea: FixedDecimal)> {
        guard area.units > 0 else { throw RuleInputError("area", "must be more than 0") }
        guard costPerM2.tiyn >= 0 else { throw RuleInputError("cost_per_m2", "must not be negative") }
        let maxArea = try serviceHousingMaxArea(familySize: familySize, c)
        let cap = try housingCostCapPerM2(region: region, c)
        var reasons: [String] = []
        if area > maxArea.value { reasons.append("area_over_norm") }
        let paid = min(costPerM2, cap.value)
        guard area.units <= 100_000 * FixedDecimal.scale else { throw RuleInputError("area", "must be at most 100000 m²") }
        guard costPerM2.tiyn <= 1_000_000_000 else { throw RuleInputError("cost_per_m2", "must be at most 10000000 tenge") }
        // Whole tiyn, half up: tiyn × area units / scale.
        func times(_ m: Money) -> Money { Money(tiyn: (m.tiyn * area.units + FixedDecimal.scale / 2) / FixedDecimal.scale) }
        let republican = times(paid)
        let excess = times(costPerM2) - republican
        if excess.tiyn > 0 && !excessCovered { reasons.append("cost_over_cap") }
        return Explained((reasons.isEmpty, reasons, republican, excess, maxArea.value), steps: maxArea.steps + cap.steps + [
            ExplanationStep(rule: "D4", text: "area \(area) m² \(area > maxArea.value ? ">" : "≤") \(maxArea.value) m² for a family of \(familySize)"),
            ExplanationStep(rule: "D4", text: "cost \(costPerM2.decimalString) per m²; the republican budget pays up to \(cap.value.decimalString): \(republican.decimalString)"
                + (excess.tiyn > 0 ? "; excess \(excess.decimalString) " + (excessCovered ? "paid by the local budget or the employer" : "has nobody to pay it") : "")),
        ])
    }
}
