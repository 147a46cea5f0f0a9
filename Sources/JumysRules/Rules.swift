import Foundation
import JumysDomain

/// The programmes' rules, one pure function each. Every function cites its rule ID (RULES.md) and returns
/// its value with the explanation: parameters used (value and effective date) and the arithmetic.
public enum Rules {
    // MARK: B. Training and placement

    /// B2: youth practice pays 17.2 × MCI a month for the first 6 months; 0 after.
    public static func youthPracticeSubsidy(month: Int, _ c: RuleContext) throws -> Explained<Money> {
        guard month >= 1 else { throw RuleInputError("month", "must be 1 or more (the first month of practice is 1)") }
        let t = try SubsidyTable(c)
        return Explained(t.youthPractice(month: month), steps: t.explainYouthPractice(month: month))
    }

    /// B3: a social job's wage is subsidised for 12 months: months 1–6 up to 50 % (at most 26,000),
    /// 7–9 up to 30 % (at most 15,600), 10–12 up to 15 % (at most 7,800); 0 after.
    public static func socialJobSubsidy(wage: Money, month: Int, _ c: RuleContext) throws -> Explained<Money> {
        guard month >= 1 else { throw RuleInputError("month", "must be 1 or more (the first month of work is 1)") }
        guard wage.tiyn >= 0 else { throw RuleInputError("wage", "must not be negative") }
        let t = try SubsidyTable(c)
        return Explained(t.socialJob(wage: wage, month: month), steps: t.explainSocialJob(wage: wage, month: month))
    }

    // MARK: D. Relocation

    public enum Move: String, Sendable, CaseIterable { case withinDistrict = "within_district", withinRegion = "within_region", otherRegion = "other_region" }

    /// D3: head of family and each member get MCI multiples by the kind of move.
    public static func relocationSubsidy(move: Move, familyMembers: Int, _ c: RuleContext) throws -> Explained<Money> {
        guard (0...30).contains(familyMembers) else { throw RuleInputError("family_members", "must be from 0 to 30 (members besides the head)") }
        let t = try SubsidyTable(c)
        return Explained(t.relocation(move: move, familyMembers: familyMembers), steps: t.explainRelocation(move: move, familyMembers: familyMembers))
    }

    /// D4: service housing area is at most 18 m² per family member and 100 m² per family.
    public static func serviceHousingMaxArea(familySize: Int, _ c: RuleContext) throws -> Explained<FixedDecimal> {
        guard (1...50).contains(familySize) else { throw RuleInputError("family_size", "must be from 1 to 50 (the head included)") }
        let per = try c.p("service_housing_m2_per_member"), cap = try c.p("service_housing_max_m2")
        let raw = FixedDecimal(units: per.value.units * Int64(familySize))
        let area = min(raw, cap.value)
        return Explained(area, steps: [
            .uses("D4", "service_housing_m2_per_member", per), .uses("D4", "service_housing_max_m2", cap),
            ExplanationStep(rule: "D4", text: "min(\(familySize) × \(per.value), \(cap.value)) = \(area) m²; and never less than a one-room flat or a room in a family-type hostel"),
        ])
    }

    /// D4: the republican budget pays at most 80,000 tenge per m² in the regions, 120,000 in Astana and Almaty.
    public static func housingCostCapPerM2(region: RegionCode, _ c: RuleContext) throws -> Explained<Money> {
        guard region.isKnown else { throw RuleInputError("region", "\(region.iso) is not one of the 20 regions") }
        let capital = region.iso == "KZ-71" || region.iso == "KZ-75"
        let name = capital ? "housing_cost_cap_capitals" : "housing_cost_cap_regions"
        let v = try c.p(name)
        return Explained(Money(fixedTenge: v.value), steps: [
            .uses("D4", name, v),
            ExplanationStep(rule: "D4", text: "\(region.iso) is \(capital ? "Astana or Almaty: without engineering networks" : "a region other than Astana and Almaty: without engineering networks and the seismic surcharge"); not for housing contracted before 2013-01-01; the excess may be paid by the local budget or employers"),
        ])
    }

    /// D5: a youth hostel place needs age ≤ 29, a labour or social contract, and housing savings.
    public static func youthHostelEligible(age: Int, hasContract: Bool, inHousingSavings: Bool, _ c: RuleContext) throws -> Explained<(eligible: Bool, reasons: [String])> {
        guard (0...120).contains(age) else { throw RuleInputError("age", "must be from 0 to 120") }
        let maxAge = try c.p("youth_hostel_max_age")
        var reasons: [String] = []
        if age > Int(maxAge.value.wholeValue ?? 0) { reasons.append("age_over_\(maxAge.value)") }
        if !hasContract { reasons.append("no_labour_or_social_contract") }
        if !inHousingSavings { reasons.append("not_in_housing_savings") }
        return Explained((reasons.isEmpty, reasons), steps: [
            .uses("D5", "youth_hostel_max_age", maxAge),
            ExplanationStep(rule: "D5", text: reasons.isEmpty ? "age \(age) ≤ \(maxAge.value), has a contract, takes part in housing savings: eligible" : "not eligible: \(reasons.joined(separator: ", "))"),
        ])
    }

    /// D6: the employer puts in at least 10 % and enough for at least one dwelling; dwellings are divided in
    /// proportion to the money (the employer gets the whole dwellings its money covers, the state the rest).
    public static func employerHousingShare(totalCost: Money, employerCost: Money, dwellings: Int, _ c: RuleContext) throws -> Explained<(eligible: Bool, employerDwellings: Int, stateDwellings: Int)> {
        guard totalCost.tiyn > 0 else { throw RuleInputError("total_cost", "must be more than 0") }
        guard employerCost.tiyn >= 0, employerCost <= totalCost else { throw RuleInputError("employer_cost", "must be from 0 to total_cost") }
        guard (1...100_000).contains(dwellings) else { throw RuleInputError("dwellings", "must be from 1 to 100000") }
        let minShare = try c.p("employer_housing_min_share"), minDwellings = try c.p("employer_housing_min_dwellings")
        let (hi, lo) = Int64(dwellings).multipliedFullWidth(by: employerCost.tiyn)
        let employerDwellings = Int(totalCost.tiyn.dividingFullWidth((hi, lo)).quotient)
        let shareOK = employerCost.tiyn.multipliedFullWidth(by: 100 * FixedDecimal.scale) >= totalCost.tiyn.multipliedFullWidth(by: minShare.value.units)
        let eligible = shareOK && employerDwellings >= Int(minDwellings.value.wholeValue ?? 1)
        return Explained((eligible, employerDwellings, dwellings - employerDwellings), steps: [
            .uses("D6", "employer_housing_min_share", minShare), .uses("D6", "employer_housing_min_dwellings", minDwellings),
            ExplanationStep(rule: "D6", text: "employer share \(employerCost.decimalString) / \(totalCost.decimalString) \(shareOK ? "≥" : "<") \(minShare.value) %"),
            ExplanationStep(rule: "D6", text: "employer dwellings = ⌊\(dwellings) × \(employerCost.decimalString) / \(totalCost.decimalString)⌋ = \(employerDwellings); state \(dwellings - employerDwellings)"),
        ])
    }

    // MARK: E. Infrastructure projects

    /// E4: at least 20 % of the jobs created during works are filled by referral (rounded up to whole people).
    public static func referralQuotaWorks(jobsCreated: Int, _ c: RuleContext) throws -> Explained<Int> {
        guard jobsCreated >= 0 else { throw RuleInputError("jobs_created", "must not be negative") }
        guard jobsCreated <= maxJobs else { throw RuleInputError("jobs_created", "must be at most \(maxJobs)") }
        let pct = try c.p("referral_quota_works_percent")
        let n = ceilPercent(jobsCreated, pct.value)
        return Explained(n, steps: [.uses("E4", "referral_quota_works_percent", pct),
                                    ExplanationStep(rule: "E4", text: "⌈\(jobsCreated) × \(pct.value) %⌉ = \(n)")])
    }

    /// E5: at least 15 % of new permanent jobs, and at least 1 person when the staff is fewer than 6. "At least"
    /// (кемінде) is read as rounding the share up, so the small-staff floor only matters if the share is changed.
    public static func referralQuotaPermanent(permanentJobs: Int, _ c: RuleContext) throws -> Explained<Int> {
        guard permanentJobs >= 0 else { throw RuleInputError("permanent_jobs", "must not be negative") }
        guard permanentJobs <= maxJobs else { throw RuleInputError("permanent_jobs", "must be at most \(maxJobs)") }
        let pct = try c.p("referral_quota_permanent_percent"), small = try c.p("referral_quota_permanent_small_staff"), minimum = try c.p("referral_quota_permanent_small_staff_minimum")
        let byShare = ceilPercent(permanentJobs, pct.value)
        let smallStaff = permanentJobs > 0 && permanentJobs < Int(small.value.wholeValue ?? 0)
        let n = smallStaff ? max(byShare, Int(minimum.value.wholeValue ?? 0)) : byShare
        return Explained(n, steps: [
            .uses("E5", "referral_quota_permanent_percent", pct), .uses("E5", "referral_quota_permanent_small_staff", small),
            .uses("E5", "referral_quota_permanent_small_staff_minimum", minimum),
            ExplanationStep(rule: "E5", text: "⌈\(permanentJobs) × \(pct.value) %⌉ = \(byShare)" + (smallStaff ? "; staff \(permanentJobs) < \(small.value), so at least \(minimum.value): \(n)" : "")),
        ])
    }

    /// E10: up to 50 % of created jobs may go to programme participants of the settlement (rounded down).
    public static func ruralProjectParticipantJobs(jobsCreated: Int, _ c: RuleContext) throws -> Explained<Int> {
        guard jobsCreated >= 0 else { throw RuleInputError("jobs_created", "must not be negative") }
        guard jobsCreated <= maxJobs else { throw RuleInputError("jobs_created", "must be at most \(maxJobs)") }
        let pct = try c.p("rural_project_participant_jobs_percent")
        let n = Int(Int64(jobsCreated) * pct.value.units / (100 * FixedDecimal.scale))
        return Explained(n, steps: [.uses("E10", "rural_project_participant_jobs_percent", pct),
                                    ExplanationStep(rule: "E10", text: "⌊\(jobsCreated) × \(pct.value) %⌋ = \(n)")])
    }

    /// E6: a referred worker's wage is at least 2 minimum wages.
    public static func referredWorkerMinWage(_ c: RuleContext) throws -> Explained<Money> {
        let k = try c.p("referred_worker_min_wage_multiple"), mzp = try c.p("minimum_monthly_wage")
        let amount = k.value.times(Money(fixedTenge: mzp.value), rounding: .halfUp)
        return Explained(amount, steps: [.uses("E6", "referred_worker_min_wage_multiple", k), .uses("E6", "minimum_monthly_wage", mzp),
                                         ExplanationStep(rule: "E6", text: "\(k.value) × \(mzp.value) = \(amount.decimalString), with taxes, contributions and unused-leave compensation, without ecological surcharges")])
    }

    /// E7: a referred worker from another settlement gets 2 minimum wages, paid within 3 working days of the contract.
    public static func relocationBonus(contractDate: CivilDate, _ c: RuleContext) throws -> Explained<(amount: Money, dueDate: CivilDate)> {
        let at = c.on(contractDate)
        let k = try at.p("relocation_bonus_min_wage_multiple"), mzp = try at.p("minimum_monthly_wage"), days = try at.p("relocation_bonus_working_days")
        let amount = k.value.times(Money(fixedTenge: mzp.value), rounding: .halfUp)
        let due = c.calendar.adding(workingDays: Int(days.value.wholeValue ?? 0), to: contractDate)
        return Explained((amount, due), steps: [
            .uses("E7", "relocation_bonus_min_wage_multiple", k), .uses("E7", "minimum_monthly_wage", mzp),
            .uses("E7", "relocation_bonus_working_days", days),
            ExplanationStep(rule: "E7", text: "amount \(k.value) × \(mzp.value) = \(amount.decimalString) (minimum wage on the contract date \(contractDate.iso))"),
            ExplanationStep(rule: "H1", text: "\(days.value) working days after \(contractDate.iso), counted from the next day: \(due.iso)"),
        ])
    }

    /// E8: at least 90 % of the project's money is spent on domestic goods, works and services.
    public static func localContentOK(totalCost: Money, domesticCost: Money, _ c: RuleContext) throws -> Explained<(ok: Bool, sharePercent: FixedDecimal)> {
        guard totalCost.tiyn > 0 else { throw RuleInputError("total_cost", "must be more than 0") }
        guard domesticCost.tiyn >= 0, domesticCost <= totalCost else { throw RuleInputError("domestic_cost", "must be from 0 to total_cost") }
        let minPct = try c.p("local_content_min_percent")
        let share = percentShare(domesticCost, of: totalCost)
        let ok = domesticCost.tiyn.multipliedFullWidth(by: 100 * FixedDecimal.scale) >= totalCost.tiyn.multipliedFullWidth(by: minPct.value.units)
        return Explained((ok, share), steps: [.uses("E8", "local_content_min_percent", minPct),
                                              ExplanationStep(rule: "E8", text: "\(domesticCost.decimalString) / \(totalCost.decimalString) = \(share) % \(ok ? "≥" : "<") \(minPct.value) %")])
    }

    /// E10: from 2014 the local budget and socially responsible entrepreneurs each co-finance at least 10 %.
    public static func cofinancingOK(totalCost: Money, localBudget: Money, entrepreneurs: Money, _ c: RuleContext) throws -> Explained<(ok: Bool, reasons: [String])> {
        guard totalCost.tiyn > 0 else { throw RuleInputError("total_cost", "must be more than 0") }
        guard localBudget.tiyn >= 0 else { throw RuleInputError("local_budget", "must not be negative") }
        guard entrepreneurs.tiyn >= 0 else { throw RuleInputError("entrepreneurs", "must not be negative") }
        let localValue = c.parameters["cofinancing_local_budget_min_percent"]?.value(at: c.date)
        let entValue = c.parameters["cofinancing_entrepreneurs_min_percent"]?.value(at: c.date)
        if localValue == nil && entValue == nil {
            return Explained((true, []), steps: [ExplanationStep(rule: "E10", text: "no co-financing was required on \(c.date.iso) (required from 2014)")])
        }
        let local = try c.p("cofinancing_local_budget_min_percent"), ent = try c.p("cofinancing_entrepreneurs_min_percent")
        var reasons: [String] = []
        func atLeast(_ part: Money, _ pct: FixedDecimal) -> Bool {
            part.tiyn.multipliedFullWidth(by: 100 * FixedDecimal.scale) >= totalCost.tiyn.multipliedFullWidth(by: pct.units)
        }
        if !atLeast(localBudget, local.value) { reasons.append("local_budget_below_\(local.value)_percent") }
        if !atLeast(entrepreneurs, ent.value) { reasons.append("entrepreneurs_below_\(ent.value)_percent") }
        return Explained((reasons.isEmpty, reasons), steps: [
            .uses("E10", "cofinancing_local_budget_min_percent", local), .uses("E10", "cofinancing_entrepreneurs_min_percent", ent),
            ExplanationStep(rule: "E10", text: "local budget \(percentShare(localBudget, of: totalCost)) %, entrepreneurs \(percentShare(entrepreneurs, of: totalCost)) % of \(totalCost.decimalString)"),
        ])
    }

    // MARK: C. Loans

    public enum LoanPurpose: String, Sendable, CaseIterable { case investment, workingCapital = "working_capital" }

    /// C5: a final borrower's loan: term ≤ 10 years (working capital ≤ 5), amount ≤ 70,000 MCI, rate ≤ 6 %, and a grace
    /// on principal and interest of at most one third of the *budget credit's* term (the Kazakh text: "бюджеттік кредит
    /// мерзімінің үштен бірінен аспайтын"), which must also end before the loan does.
    public static func finalBorrowerLoanCheck(amount: Money, termMonths: Int, purpose: LoanPurpose, ratePercent: FixedDecimal, graceMonths: Int, _ c: RuleContext) throws -> Explained<(ok: Bool, violations: [String], maxAmount: Money)> {
        guard amount.tiyn > 0 else { throw RuleInputError("amount", "must be more than 0") }
        guard termMonths >= 1 else { throw RuleInputError("term_months", "must be 1 or more") }
        guard graceMonths >= 0 else { throw RuleInputError("grace_months", "must not be negative") }
        guard ratePercent.units >= 0 else { throw RuleInputError("rate_percent", "must not be negative") }
        let maxMCI = try c.p("final_borrower_max_amount_mci"), mci = try c.p("monthly_calculation_index")
        let termName = purpose == .workingCapital ? "final_borrower_working_capital_max_term_months" : "final_borrower_max_term_months"
        let maxTerm = try c.p(termName), maxRate = try c.p("final_borrower_max_rate")
        let creditYears = try c.p("budget_credit_years"), divisor = try c.p("budget_credit_max_grace_divisor")
        let maxGrace = Int(creditYears.value.wholeValue ?? 0) * 12 / Int(divisor.value.wholeValue ?? 3)
        let maxAmount = maxMCI.value.times(Money(fixedTenge: mci.value), rounding: .down)
        var v: [String] = []
        if amount > maxAmount { v.append("amount_above_max") }
        if termMonths > Int(maxTerm.value.wholeValue ?? 0) { v.append("term_above_max") }
        if ratePercent > maxRate.value { v.append("rate_above_max") }
        if graceMonths > maxGrace { v.append("grace_above_max") }
        if graceMonths >= termMonths { v.append("grace_not_shorter_than_term") }
        return Explained((v.isEmpty, v, maxAmount), steps: [
            .uses("C5", "final_borrower_max_amount_mci", maxMCI), .uses("C5", "monthly_calculation_index", mci),
            .uses("C5", termName, maxTerm), .uses("C5", "final_borrower_max_rate", maxRate),
            .uses("C4", "budget_credit_years", creditYears), .uses("C5", "budget_credit_max_grace_divisor", divisor),
            ExplanationStep(rule: "C5", text: "largest amount \(maxMCI.value) × \(mci.value) = \(maxAmount.decimalString); longest grace \(creditYears.value) years × 12 / \(divisor.value) = \(maxGrace) months"),
            ExplanationStep(rule: "C5", text: v.isEmpty ? "all conditions met; the loan contract must state the job-creation condition" : "violations: \(v.joined(separator: ", "))"),
        ])
    }

    /// C2: a microcredit: amount ≤ 3,000,000, term ≤ 5 years, grace on principal ≤ 1/3 of the term.
    public static func microcreditCheck(amount: Money, termMonths: Int, graceMonths: Int, _ c: RuleContext) throws -> Explained<(ok: Bool, violations: [String])> {
        guard amount.tiyn > 0 else { throw RuleInputError("amount", "must be more than 0") }
        guard termMonths >= 1 else { throw RuleInputError("term_months", "must be 1 or more") }
        guard graceMonths >= 0 else { throw RuleInputError("grace_months", "must not be negative") }
        let maxAmount = try c.p("microcredit_max_amount"), maxTerm = try c.p("microcredit_max_term_months"), divisor = try c.p("microcredit_max_grace_divisor")
        var v: [String] = []
        if amount > Money(fixedTenge: maxAmount.value) { v.append("amount_above_max") }
        if termMonths > Int(maxTerm.value.wholeValue ?? 0) { v.append("term_above_max") }
        if graceMonths * Int(divisor.value.wholeValue ?? 3) > termMonths { v.append("grace_above_max") }
        return Explained((v.isEmpty, v), steps: [
            .uses("C2", "microcredit_max_amount", maxAmount), .uses("C2", "microcredit_max_term_months", maxTerm), .uses("C2", "microcredit_max_grace_divisor", divisor),
            ExplanationStep(rule: "C2", text: v.isEmpty ? "all conditions met" : "violations: \(v.joined(separator: ", "))"),
        ])
    }

    /// C6: target use confirmed within 90 calendar days, each job within 24 months (terms from the next day; H3, H2).
    public static func loanDeadlines(disbursedOn: CivilDate, _ c: RuleContext) throws -> Explained<(targetUseBy: CivilDate, jobsBy: CivilDate)> {
        let at = c.on(disbursedOn)
        let days = try at.p("target_use_days"), months = try at.p("job_confirmation_months")
        let use = c.calendar.calendarTerm(days: Int(days.value.wholeValue ?? 0), from: disbursedOn)
        let jobs = c.calendar.monthTerm(months: Int(months.value.wholeValue ?? 0), from: disbursedOn)
        return Explained((use.due, jobs.due), steps: [
            .uses("C6", "target_use_days", days), .uses("C6", "job_confirmation_months", months),
            ExplanationStep(rule: "H3", text: "\(days.value) days from \(disbursedOn.iso), counted from the next day: \(use.raw.iso)" + (use.raw != use.due ? "; a day off, so the next working day \(use.due.iso) (H2)" : "")),
            ExplanationStep(rule: "H3", text: "\(months.value) months from \(disbursedOn.iso): \(jobs.raw.iso)" + (jobs.raw != jobs.due ? "; a day off, so the next working day \(jobs.due.iso) (H2)" : "")),
        ])
    }

    /// C3: each body answers a request for a conclusion within 10 calendar days (H3, H2).
    public static func conclusionDeadline(requestDate: CivilDate, _ c: RuleContext) throws -> Explained<CivilDate> {
        let days = try c.on(requestDate).p("conclusion_days")
        let t = c.calendar.calendarTerm(days: Int(days.value.wholeValue ?? 0), from: requestDate)
        return Explained(t.due, steps: [.uses("C3", "conclusion_days", days),
                                        ExplanationStep(rule: "H3", text: "\(days.value) days from \(requestDate.iso), counted from the next day: \(t.raw.iso)" + (t.raw != t.due ? "; a day off, so the next working day \(t.due.iso) (H2)" : ""))])
    }

    /// C3: the written notification is due within 3 working days of the decision (H1).
    public static func notificationDeadline(decisionDate: CivilDate, _ c: RuleContext) throws -> Explained<CivilDate> {
        let days = try c.on(decisionDate).p("notification_working_days")
        let due = c.calendar.adding(workingDays: Int(days.value.wholeValue ?? 0), to: decisionDate)
        return Explained(due, steps: [.uses("C3", "notification_working_days", days),
                                      ExplanationStep(rule: "H1", text: "\(days.value) working days after \(decisionDate.iso), counted from the next day: \(due.iso)")])
    }

    public enum Report: String, Sendable, CaseIterable {
        case roadmapMonthly = "roadmap_monthly", roadmapCommission = "roadmap_commission", roadmapQuarterly = "roadmap_quarterly", programmeMonthly = "programme_monthly"
        case loansIssuedByLender = "loans_issued_by_lender", loansUseByLender = "loans_use_by_lender"
        case loansIssuedByAkimat = "loans_issued_by_akimat", loansUseByAkimat = "loans_use_by_akimat", loanMonitoring = "loan_monitoring"

        var ruleID: String {
            switch self {
            case .roadmapMonthly: "G1"
            case .roadmapQuarterly: "G2"
            case .roadmapCommission: "G3"
            case .programmeMonthly: "G4"
            default: "C7"
            }
        }

        /// How long a report's period is: a month, a quarter (G2) or a half-year (the loans' monitoring, C7).
        public var monthsInPeriod: Int {
            switch self {
            case .roadmapQuarterly: 3
            case .loanMonitoring: 6
            default: 1
            }
        }
    }

    /// G1–G4, C7: a report for a period is due by a day of the month after it, moved to the next working day (H2).
    /// `periodMonth` is the period's last month: a quarter's (3, 6, 9, 12) for G2, a half-year's (6, 12) for the loans'
    /// monitoring, whose dates are `loanMonitoringDeadline`'s.
    public static func reportDeadline(report: Report, periodYear: Int, periodMonth: Int, _ c: RuleContext) throws -> Explained<CivilDate> {
        guard (1...12).contains(periodMonth), (1991...2100).contains(periodYear) else { throw RuleInputError("period", "expected YYYY-MM") }
        guard periodMonth % report.monthsInPeriod == 0 else {
            throw RuleInputError("period", report.monthsInPeriod == 3 ? "expected a quarter, YYYY-Qn" : "expected a half-year, YYYY-Hn")
        }
        if report == .loanMonitoring { return try loanMonitoringDeadline(year: periodYear, half: periodMonth / 6, c) }
        let periodEnd = CivilDate(year: periodYear, month: periodMonth, day: CivilDate.daysIn(month: periodMonth, year: periodYear))!
        let day = try c.on(periodEnd).p("report_day_\(report.rawValue)")
        let t = c.calendar.byDayOfNextMonth(Int(day.value.wholeValue ?? 1), periodYear: periodYear, periodMonth: periodMonth)
        return Explained(t.due, steps: [.uses(report.ruleID, "report_day_\(report.rawValue)", day),
                                        ExplanationStep(rule: "H2", text: "by the \(day.value)th of the month after \(String(format: "%04d-%02d", periodYear, periodMonth)): \(t.raw.iso)" + (t.raw != t.due ? "; a day off, so the next working day \(t.due.iso)" : ""))])
    }

    /// C7: the local body's half-year monitoring of the loans: the first half of a year by 10 September of that year,
    /// the second half by 10 March of the next, moved to the next working day (H2).
    public static func loanMonitoringDeadline(year: Int, half: Int, _ c: RuleContext) throws -> Explained<CivilDate> {
        guard (1991...2100).contains(year) else { throw RuleInputError("year", "expected a year between 1991 and 2100") }
        guard half == 1 || half == 2 else { throw RuleInputError("half", "expected 1 or 2") }
        let month = half == 1 ? 9 : 3, dueYear = half == 1 ? year : year + 1
        let name = half == 1 ? "loan_monitoring_day_september" : "loan_monitoring_day_march"
        let periodEnd = CivilDate(year: year, month: half == 1 ? 6 : 12, day: half == 1 ? 30 : 31)!
        let day = try c.on(periodEnd).p(name)
        let nominal = CivilDate(year: dueYear, month: month, day: min(Int(day.value.wholeValue ?? 10), CivilDate.daysIn(month: month, year: dueYear)))!
        let due = c.calendar.onOrNextWorkingDay(nominal)
        return Explained(due, steps: [.uses("C7", name, day),
                                      ExplanationStep(rule: "H2", text: "half \(half) of \(year) is monitored by \(nominal.iso)" + (nominal != due ? "; a day off, so the next working day \(due.iso)" : ""))])
    }

    /// G6: central bodies send the forecast of jobs for the coming years (the reporting year and the ones after it,
    /// `forecast_years` in all) and last year's jobs created by a day of February, moved to the next working day (H2).
    public static func forecastDeadline(year: Int, _ c: RuleContext) throws -> Explained<(due: CivilDate, years: ClosedRange<Int>)> {
        guard (1991...2100).contains(year) else { throw RuleInputError("year", "expected a year between 1991 and 2100") }
        let raw = CivilDate(year: year, month: 2, day: 1)!
        let cc = c.on(raw)
        let day = try cc.p("forecast_due_day_february"), span = try cc.p("forecast_years")
        let d = Int(day.value.wholeValue ?? 15), n = max(1, Int(span.value.wholeValue ?? 3))
        let nominal = CivilDate(year: year, month: 2, day: min(d, CivilDate.daysIn(month: 2, year: year)))!
        let due = c.calendar.onOrNextWorkingDay(nominal)
        return Explained((due, year...(year + n - 1)), steps: [
            .uses("G6", "forecast_due_day_february", day), .uses("G6", "forecast_years", span),
            ExplanationStep(rule: "G6", text: "the forecast for \(year)–\(year + n - 1) and the jobs created in \(year - 1) are due by \(nominal.iso)"
                            + (nominal != due ? "; a day off, so the next working day \(due.iso) (H2)" : "")),
        ])
    }

    // MARK: F. Funding limits

    /// F1: the national limit split between regions in proportion to the labour force, in whole tenge,
    /// summing exactly to the total (largest remainder; ties go to the larger labour force, then the code).
    public static func regionalLimitAllocation(total: Money, labourForce: [String: FixedDecimal]) throws -> Explained<[(region: String, amount: Money)]> {
        guard total.tiyn >= 0, total.tiyn % 100 == 0 else { throw RuleInputError("total", "must be whole tenge, not negative") }
        guard !labourForce.isEmpty else { throw RuleInputError("labour_force", "give at least one region with its labour force") }
        for (r, v) in labourForce {
            guard v.units >= 0 else { throw RuleInputError("labour_force", "\(r): must not be negative") }
        }
        let sum = labourForce.values.reduce(Int64(0)) { $0 + $1.units }
        guard sum > 0 else { throw RuleInputError("labour_force", "the labour force adds up to 0") }
        let tenge = total.tiyn / 100
        var rows: [(region: String, lf: Int64, floor: Int64, rem: Int64)] = labourForce.map { r, v in
            let (q, rem) = sum.dividingFullWidth(tenge.multipliedFullWidth(by: v.units))
            return (r, v.units, q, rem)
        }
        let leftover = tenge - rows.reduce(0) { $0 + $1.floor }
        let order = rows.indices.sorted { a, b in
            if rows[a].rem != rows[b].rem { return rows[a].rem > rows[b].rem }
            if rows[a].lf != rows[b].lf { return rows[a].lf > rows[b].lf }
            return rows[a].region < rows[b].region
        }
        for i in order.prefix(Int(leftover)) { rows[i].floor += 1 }
        rows.sort { $0.region < $1.region }
        return Explained(rows.map { ($0.region, Money(tenge: $0.floor)) }, steps: [
            ExplanationStep(rule: "F1", text: "each region gets ⌊\(tenge) × its labour force / \(FixedDecimal(units: sum))⌋ tenge; the \(leftover) tenge left go one each to the largest remainders"),
        ])
    }

    // MARK: helpers

    /// The most jobs a project counts (far above any real project; keeps the integer arithmetic exact).
    static let maxJobs = 10_000_000

    /// ⌈n × pct %⌉ in exact integers.
    static func ceilPercent(_ n: Int, _ pct: FixedDecimal) -> Int {
        let num = Int64(n) * pct.units, den = 100 * FixedDecimal.scale
        return Int((num + den - 1) / den)
    }

    /// part / whole as a percent with two decimals, rounded down.
    static func percentShare(_ part: Money, of whole: Money) -> FixedDecimal {
        let (q, _) = whole.tiyn.dividingFullWidth(part.tiyn.multipliedFullWidth(by: 100 * 100))
        return FixedDecimal(units: q * 100)
    }
}
