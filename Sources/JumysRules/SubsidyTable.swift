import JumysDomain

/// The monthly subsidy rules (B2, B3, D3) resolved for one date: parameters looked up once, amounts in tiyn.
/// `Rules.youthPracticeSubsidy`, `socialJobSubsidy` and `relocationSubsidy` compute through this table, so a
/// payroll or a benchmark that builds it once per date runs the very same arithmetic as the API; the explanation
/// of any single result is produced from the same table by the `explain…` functions.
public struct SubsidyTable: Sendable {
    public let date: CivilDate
    let mci: ParameterValue
    let ypMonths: ParameterValue, ypRate: ParameterValue
    let ypAmount: Money
    let sjMonths: ParameterValue
    /// Per band: last month, percent, cap (as parameters, and as numbers for the hot path).
    let bands: [(last: ParameterValue, pct: ParameterValue, cap: ParameterValue)]
    let bandLast: (Int, Int, Int), bandPctUnits: (Int64, Int64, Int64), bandCapTiyn: (Int64, Int64, Int64)
    let sjLastMonth: Int, ypLastMonth: Int
    /// Per kind of move (Rules.Move.allCases order): head and member multiples of the MCI.
    let moveParams: [(head: ParameterValue, member: ParameterValue)]
    let moveHeadTiyn: (Int64, Int64, Int64), moveMemberTiyn: (Int64, Int64, Int64)
    let mciMoney: Money

    public init(_ c: RuleContext) throws {
        date = c.date
        mci = try c.p("monthly_calculation_index")
        mciMoney = Money(fixedTenge: mci.value)
        ypMonths = try c.p("youth_practice_months"); ypRate = try c.p("youth_practice_monthly_mci")
        ypAmount = ypRate.value.times(mciMoney, rounding: .halfUp)
        ypLastMonth = Int(ypMonths.value.wholeValue ?? 0)
        sjMonths = try c.p("social_job_months")
        sjLastMonth = Int(sjMonths.value.wholeValue ?? 0)
        bands = try (1...3).map { b in (try c.p("social_job_band\(b)_last_month"), try c.p("social_job_band\(b)_percent"), try c.p("social_job_band\(b)_cap")) }
        bandLast = (Int(bands[0].last.value.wholeValue ?? 0), Int(bands[1].last.value.wholeValue ?? 0), Int(bands[2].last.value.wholeValue ?? 0))
        bandPctUnits = (bands[0].pct.value.units, bands[1].pct.value.units, bands[2].pct.value.units)
        bandCapTiyn = (Money(fixedTenge: bands[0].cap.value).tiyn, Money(fixedTenge: bands[1].cap.value).tiyn, Money(fixedTenge: bands[2].cap.value).tiyn)
        moveParams = try Rules.Move.allCases.map { m in (try c.p("relocation_subsidy_\(m.rawValue)_head_mci"), try c.p("relocation_subsidy_\(m.rawValue)_member_mci")) }
        let mciMoney = self.mciMoney
        func tiyn(_ v: ParameterValue) -> Int64 { v.value.times(mciMoney, rounding: .halfUp).tiyn }
        moveHeadTiyn = (tiyn(moveParams[0].head), tiyn(moveParams[1].head), tiyn(moveParams[2].head))
        moveMemberTiyn = (tiyn(moveParams[0].member), tiyn(moveParams[1].member), tiyn(moveParams[2].member))
    }

    // MARK: values (no allocation)

    /// B2 for a month of practice (≥ 1).
    /// The table's numbers (B2 and B3), for a bare SQL statement that computes the same amounts (the payroll's
    /// benchmark baseline): last months, the youth-practice amount, each band's last month, percent (units of
    /// 1/10,000) and cap, all in tiyn.
    public struct Numbers: Sendable {
        public let youthLastMonth: Int, youthAmount: Int64, socialLastMonth: Int
        public let bandLast: [Int], bandPercentUnits: [Int64], bandCap: [Int64]
        public let percentDivisor: Int64
    }
    public var numbers: Numbers {
        Numbers(youthLastMonth: ypLastMonth, youthAmount: ypAmount.tiyn, socialLastMonth: sjLastMonth, bandLast: [bandLast.0, bandLast.1, bandLast.2],
                bandPercentUnits: [bandPctUnits.0, bandPctUnits.1, bandPctUnits.2], bandCap: [bandCapTiyn.0, bandCapTiyn.1, bandCapTiyn.2], percentDivisor: 100 * FixedDecimal.scale)
    }

    @inline(__always) public func youthPractice(month: Int) -> Money { month <= ypLastMonth ? ypAmount : .zero }

    @inline(__always) func band(_ month: Int) -> Int { month <= bandLast.0 ? 0 : (month <= bandLast.1 ? 1 : 2) }

    /// B3 for a wage (≥ 0) and a month of work (≥ 1): share rounded down to the tiyn, then capped.
    @inline(__always) public func socialJob(wage: Money, month: Int) -> Money {
        guard month <= sjLastMonth else { return .zero }
        let b = band(month)
        let pct = b == 0 ? bandPctUnits.0 : (b == 1 ? bandPctUnits.1 : bandPctUnits.2)
        let cap = b == 0 ? bandCapTiyn.0 : (b == 1 ? bandCapTiyn.1 : bandCapTiyn.2)
        let (p, overflow) = wage.tiyn.multipliedReportingOverflow(by: pct)
        let share = overflow ? wage.multiplied(by: pct, dividedBy: 100 * FixedDecimal.scale, rounding: .down).tiyn : p / (100 * FixedDecimal.scale)
        return Money(tiyn: min(share, cap))
    }

    /// D3 for a kind of move and the members besides the head. Each multiple of the MCI is rounded half up
    /// to the tiyn first (the MCI is whole tenge, so the products are exact for whole and half multiples).
    @inline(__always) public func relocation(move: Rules.Move, familyMembers: Int) -> Money {
        let i = move == .withinDistrict ? 0 : (move == .withinRegion ? 1 : 2)
        let head = i == 0 ? moveHeadTiyn.0 : (i == 1 ? moveHeadTiyn.1 : moveHeadTiyn.2)
        let member = i == 0 ? moveMemberTiyn.0 : (i == 1 ? moveMemberTiyn.1 : moveMemberTiyn.2)
        return Money(tiyn: head + member * Int64(familyMembers))
    }

    // MARK: explanations

    public func explainYouthPractice(month: Int) -> [ExplanationStep] {
        if month > ypLastMonth {
            return [.uses("B2", "youth_practice_months", ypMonths), ExplanationStep(rule: "B2", text: "month \(month) is after the last subsidised month: 0")]
        }
        return [.uses("B2", "youth_practice_months", ypMonths), .uses("B2", "youth_practice_monthly_mci", ypRate), .uses("B2", "monthly_calculation_index", mci),
                ExplanationStep(rule: "B2", text: "\(ypRate.value) × \(mci.value) = \(ypAmount.decimalString) (rounded half up to the tiyn)")]
    }

    public func explainSocialJob(wage: Money, month: Int) -> [ExplanationStep] {
        if month > sjLastMonth {
            return [.uses("B3", "social_job_months", sjMonths), ExplanationStep(rule: "B3", text: "month \(month) is after the last subsidised month: 0")]
        }
        let b = band(month), p = bands[b]
        let share = p.pct.value.percentOf(wage, rounding: .down), cap = Money(fixedTenge: p.cap.value)
        return [.uses("B3", "social_job_months", sjMonths), .uses("B3", "social_job_band\(b + 1)_last_month", p.last),
                .uses("B3", "social_job_band\(b + 1)_percent", p.pct), .uses("B3", "social_job_band\(b + 1)_cap", p.cap),
                ExplanationStep(rule: "B3", text: "month \(month) is in band \(b + 1): \(p.pct.value) % × \(wage.decimalString) = \(share.decimalString) (rounded down); the lesser of that and the cap \(cap.decimalString) is \(socialJob(wage: wage, month: month).decimalString)")]
    }

    public func explainRelocation(move: Rules.Move, familyMembers: Int) -> [ExplanationStep] {
        let i = Rules.Move.allCases.firstIndex(of: move)!
        let (h, m) = moveParams[i]
        return [.uses("D3", "relocation_subsidy_\(move.rawValue)_head_mci", h), .uses("D3", "relocation_subsidy_\(move.rawValue)_member_mci", m),
                .uses("D3", "monthly_calculation_index", mci),
                ExplanationStep(rule: "D3", text: "\(h.value) × \(mci.value) + \(familyMembers) × \(m.value) × \(mci.value) = \(relocation(move: move, familyMembers: familyMembers).decimalString)")]
    }
}
