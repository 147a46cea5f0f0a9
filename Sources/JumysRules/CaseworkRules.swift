import JumysDomain

/// What the casework rules need to know of a person on a date.
public struct PersonFacts: Sendable {
    public struct Member: Sendable {
        public let birthDate: CivilDate
        public let sex: Sex
        public let disabled: Bool
        public let sociallySignificantIllness: Bool
        public init(birthDate: CivilDate, sex: Sex, disabled: Bool, sociallySignificantIllness: Bool) {
            self.birthDate = birthDate; self.sex = sex; self.disabled = disabled; self.sociallySignificantIllness = sociallySignificantIllness
        }
    }
    public let birthDate: CivilDate
    public let sex: Sex
    public let rural: Bool
    /// Categories in force on the date.
    public let categories: Set<PersonCategory>
    public let hasConsent: Bool
    public let receivesTSA: Bool
    public let household: [Member]

    public init(birthDate: CivilDate, sex: Sex, rural: Bool, categories: Set<PersonCategory>, hasConsent: Bool, receivesTSA: Bool = false, household: [Member] = []) {
        self.birthDate = birthDate; self.sex = sex; self.rural = rural; self.categories = categories
        self.hasConsent = hasConsent; self.receivesTSA = receivesTSA; self.household = household
    }
}

extension Rules {
    /// Working age on a date: from the minimum age up to the retirement age for the sex (dated parameters).
    static func workingAge(_ birth: CivilDate, _ sex: Sex, _ c: RuleContext) throws -> (ok: Bool, steps: [ExplanationStep]) {
        let minAge = try c.p("working_age_min")
        let retireName = sex == .male ? "retirement_age_men" : "retirement_age_women"
        let retire = try c.p(retireName)
        // Age in months, so that half-year retirement ages (e.g. 60.5) compare exactly.
        let months = ageInMonths(birth, on: c.date)
        let ok = months >= Int(minAge.value.units * 12 / FixedDecimal.scale) && months < Int(retire.value.units * 12 / FixedDecimal.scale)
        return (ok, [.uses("A1", "working_age_min", minAge), .uses("A1", retireName, retire),
                     ExplanationStep(rule: "A1", text: "age \(months / 12) years \(months % 12) months on \(c.date.iso): \(ok ? "of working age" : "not of working age")")])
    }

    static func ageInMonths(_ birth: CivilDate, on date: CivilDate) -> Int {
        var m = (date.year - birth.year) * 12 + (date.month - birth.month)
        if date.day < birth.day { m -= 1 }
        return m
    }

    /// What the direction 2 and 3 eligibility rules check first: consent (A2) and working age (A1).
    static func consentAndWorkingAge(_ f: PersonFacts, _ c: RuleContext) throws -> (reasons: [String], steps: [ExplanationStep], workingAge: Bool) {
        var reasons: [String] = [], steps: [ExplanationStep] = []
        if !f.hasConsent {
            reasons.append("no_consent")
            steps.append(ExplanationStep(rule: "A2", text: "no consent to the processing of personal data: nobody may be referred without it"))
        }
        let wa = try workingAge(f.birthDate, f.sex, c)
        return (reasons, steps + wa.steps, wa.ok)
    }

    /// The A1 categories that make a person a participant of direction 1.
    static let directionOneCategories: Set<PersonCategory> = [
        .partiallyEmployed, .unemployed, .selfEmployed, .lowIncome, .schoolLeaver, .disabledAbleToWork,
        .orphanUnder23, .earlyRetiree, .hazardousWorkAllowance, .repatriate, .jobSeeker,
    ]

    /// A4: whom the centre may refer to an infrastructure project's contractor.
    static let roadmapReferralCategories: Set<PersonCategory> = [.jobSeeker, .unemployed, .releasedWorker, .unpaidLeave, .student]

    /// A1–A4, B2–B4: whether a person may apply for a measure, why not, and the priorities that apply.
    public static func measureEligibility(measure: Measure, facts f: PersonFacts, _ c: RuleContext) throws -> Explained<(eligible: Bool, reasons: [String], priorities: [String])> {
        var steps: [ExplanationStep] = []
        var reasons: [String] = []
        var priorities: [String] = []
        if !f.hasConsent {
            reasons.append("no_consent")
            steps.append(ExplanationStep(rule: "A2", text: "no consent to the processing of personal data: nobody may be referred without it"))
        }
        let youthMax = try c.p("youth_max_age")
        let age = f.birthDate.age(on: c.date)
        let youth = age <= Int(youthMax.value.wholeValue ?? 0)
        steps.append(.uses("A1", "youth_max_age", youthMax))
        let wa = try workingAge(f.birthDate, f.sex, c)
        steps += wa.steps
        let cats = f.categories.map(\.rawValue).sorted().joined(separator: ", ")
        switch measure {
        case .infrastructureReferral:
            let allowed = !f.categories.isDisjoint(with: roadmapReferralCategories)
            if !allowed { reasons.append("not_in_category") }
            steps.append(ExplanationStep(rule: "A4", text: "referral needs one of job_seeker, unemployed, released_worker, unpaid_leave, student; has: \(cats.isEmpty ? "none" : cats)"))
            if !wa.ok && !f.categories.contains(.student) { reasons.append("not_working_age") }
            if youth && f.categories.contains(.unemployed) { priorities.append("unemployed_youth") }
            if f.categories.contains(.neetYouth) { priorities.append("neet_youth") }
            if f.categories.contains(.student) { priorities.append("student") }
        case .entrepreneurship, .relocation:
            // The person's part of C1 / D1; the place and the move are checked by entrepreneurshipEligibility and
            // relocationEligibility when the application's details are known.
            let relocation = measure == .relocation
            let allowed = !f.categories.isDisjoint(with: relocation ? relocationCategories : entrepreneurshipCategories) || (relocation && youth)
            if !allowed { reasons.append("not_in_category") }
            steps.append(ExplanationStep(rule: relocation ? "D1" : "C1", text: "\(relocation ? "direction 3" : "direction 2") needs one of its categories; has: \(cats.isEmpty ? "none" : cats)"))
            if !wa.ok { reasons.append("not_working_age") }
            if relocation && f.rural && youth { priorities.append("rural_youth") }
        default:
            let allowed = !f.categories.isDisjoint(with: directionOneCategories)
            if !allowed { reasons.append("not_in_category") }
            steps.append(ExplanationStep(rule: "A1", text: "direction 1 needs one of the A1 categories; has: \(cats.isEmpty ? "none" : cats)"))
            if !wa.ok { reasons.append("not_working_age") }
            if measure == .youthPractice && !youth {
                reasons.append("not_youth")
                steps.append(ExplanationStep(rule: "B2", text: "youth practice is for young people: age \(age) > \(youthMax.value)"))
            }
            if f.rural && youth { priorities.append("rural_youth") }
            if f.rural && f.sex == .female { priorities.append("rural_woman") }
        }
        let eligible = reasons.isEmpty
        steps.append(ExplanationStep(rule: measure == .infrastructureReferral ? "A4" : measure == .entrepreneurship ? "C1" : measure == .relocation ? "D1" : "A1",
                                     text: eligible ? "eligible" + (priorities.isEmpty ? "" : "; priority: \(priorities.joined(separator: ", "))") : "not eligible: \(reasons.joined(separator: ", "))"))
        return Explained((eligible, reasons, priorities), steps: steps)
    }

    /// A5: a working-age member of a low-income family receiving TSA who refuses the programme or breaches the
    /// social contract has their TSA suspended (the family keeps its right) — unless the family has a disabled
    /// member or one with a socially significant illness, in which case TSA follows the general law.
    public static func tsaSuspension(facts f: PersonFacts, event: ParticipationEvent, _ c: RuleContext) throws -> Explained<(suspend: Bool, reasons: [String])> {
        var steps: [ExplanationStep] = []
        var exempt: [String] = []
        if !f.receivesTSA { exempt.append("not_a_tsa_recipient") }
        let wa = try workingAge(f.birthDate, f.sex, c)
        steps += wa.steps
        if !wa.ok { exempt.append("not_working_age") }
        if f.household.contains(where: { $0.disabled || $0.sociallySignificantIllness }) { exempt.append("family_with_disabled_or_ill_member") }
        let suspend = exempt.isEmpty
        steps.append(ExplanationStep(rule: "A5", text: suspend
            ? "\(event.rawValue) by a working-age TSA recipient: this person's TSA is suspended; the family keeps its right"
            : "TSA is not suspended: \(exempt.joined(separator: ", "))"))
        return Explained((suspend, exempt), steps: steps)
    }

    /// A2: the centre's decision on an application is due this many working days after it was submitted.
    public static func applicationDecisionDue(submittedOn: CivilDate, _ c: RuleContext) throws -> Explained<CivilDate> {
        let days = try c.on(submittedOn).p("application_review_working_days")
        let due = c.calendar.adding(workingDays: Int(days.value.wholeValue ?? 0), to: submittedOn)
        return Explained(due, steps: [.uses("A2", "application_review_working_days", days),
                                      ExplanationStep(rule: "H1", text: "\(days.value) working days after \(submittedOn.iso): \(due.iso)")])
    }

    /// A3: the social contract is to be signed within this many working days of the decision to include.
    public static func contractSigningDue(decidedOn: CivilDate, _ c: RuleContext) throws -> Explained<CivilDate> {
        let days = try c.on(decidedOn).p("contract_signing_working_days")
        let due = c.calendar.adding(workingDays: Int(days.value.wholeValue ?? 0), to: decidedOn)
        return Explained(due, steps: [.uses("A3", "contract_signing_working_days", days),
                                      ExplanationStep(rule: "H1", text: "\(days.value) working days after \(decidedOn.iso): \(due.iso)")])
    }

    /// A3: the centre visits or checks each active contract at least once per interval; due the interval after
    /// the last visit (or the contract's start), moved to a working day.
    public static func monitoringDue(since: CivilDate, _ c: RuleContext) throws -> Explained<CivilDate> {
        let months = try c.on(since).p("contract_monitoring_interval_months")
        let t = c.calendar.monthTerm(months: Int(months.value.wholeValue ?? 1), from: since)
        return Explained(t.due, steps: [.uses("A3", "contract_monitoring_interval_months", months),
                                        ExplanationStep(rule: "H3", text: "\(months.value) month(s) after \(since.iso): \(t.raw.iso)" + (t.raw != t.due ? "; a day off, so \(t.due.iso) (H2)" : ""))])
    }
}
