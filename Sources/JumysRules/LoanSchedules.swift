import Foundation
import JumysDomain

/// One line of a repayment schedule.
public struct ScheduleLine: Sendable, Equatable {
    public let n: Int
    public let date: CivilDate
    public let principal: Money
    public let interest: Money
    public let balance: Money
    public init(n: Int, date: CivilDate, principal: Money, interest: Money, balance: Money) {
        self.n = n; self.date = date; self.principal = principal; self.interest = interest; self.balance = balance
    }
}

extension Rules {
    public enum ScheduleMethod: String, Sendable, CaseIterable { case annuity, equalPrincipal = "equal_principal" }

    /// C2, C5: a monthly schedule. During the grace months only interest is paid; then the principal is repaid
    /// by annuity or in equal parts. Interest each month is the balance × rate / 12, rounded half up to the tiyn;
    /// the last line takes whatever remains, so the principal parts sum exactly to the loan.
    public static func loanSchedule(principal: Money, ratePercent: FixedDecimal, termMonths: Int, graceMonths: Int,
                                    method: ScheduleMethod, startDate: CivilDate) throws -> Explained<[ScheduleLine]> {
        guard principal.tiyn > 0 else { throw RuleInputError("principal", "must be more than 0") }
        guard (1...600).contains(termMonths) else { throw RuleInputError("term_months", "must be from 1 to 600") }
        guard graceMonths >= 0, graceMonths < termMonths else { throw RuleInputError("grace_months", "must be from 0 to term_months − 1") }
        guard ratePercent.units >= 0, ratePercent.units <= 100 * FixedDecimal.scale else { throw RuleInputError("rate_percent", "must be from 0 to 100") }
        let repayMonths = termMonths - graceMonths
        // Monthly rate as an exact fraction: units / (scale × 100 × 12).
        let den: Int64 = FixedDecimal.scale * 100 * 12
        func monthlyInterest(_ balance: Money) -> Money { balance.multiplied(by: ratePercent.units, dividedBy: den, rounding: .halfUp) }
        var payment = Money.zero
        var paymentText = ""
        if method == .annuity {
            if ratePercent.units == 0 {
                payment = principal.multiplied(by: 1, dividedBy: Int64(repayMonths), rounding: .halfUp)
            } else {
                // A = P·r / (1 − (1 + r)^−m), in decimal arithmetic (Foundation.Decimal, 38 digits; no binary floating point).
                let r = Decimal(ratePercent.units) / Decimal(den)
                var pow = Decimal(1)
                for _ in 0..<repayMonths { pow *= (1 + r) }
                let a = Decimal(principal.tiyn) * r * pow / (pow - 1)
                var rounded = Decimal()
                var aa = a
                NSDecimalRound(&rounded, &aa, 0, .plain)
                payment = Money(tiyn: NSDecimalNumber(decimal: rounded).int64Value)
            }
            paymentText = "annuity payment over \(repayMonths) months: \(payment.decimalString)"
        }
        var lines: [ScheduleLine] = []
        var balance = principal
        let equalPart = principal.multiplied(by: 1, dividedBy: Int64(repayMonths), rounding: .down)
        for n in 1...termMonths {
            let interest = monthlyInterest(balance)
            var part = Money.zero
            if n > graceMonths {
                if n == termMonths {
                    part = balance
                } else if method == .annuity {
                    part = Money.min(Money(tiyn: max(0, (payment - interest).tiyn)), balance)
                } else {
                    part = Money.min(equalPart, balance)
                }
            }
            balance -= part
            lines.append(ScheduleLine(n: n, date: startDate.adding(months: n), principal: part, interest: interest, balance: balance))
        }
        let totalInterest = lines.reduce(Money.zero) { $0 + $1.interest }
        return Explained(lines, steps: [
            ExplanationStep(rule: "C5", text: "\(termMonths) monthly lines from \(startDate.iso); \(graceMonths) months of grace on principal (interest only)"),
            ExplanationStep(rule: "C5", text: method == .annuity ? paymentText : "equal principal parts of \(equalPart.decimalString) over \(repayMonths) months"),
            ExplanationStep(rule: "C5", text: "interest = balance × \(ratePercent) % / 12 each month, rounded half up; the last line repays the rest; total interest \(totalInterest.decimalString)"),
        ])
    }

    /// C8: a bond loan to a local body: interest at the bond rate once a year on the principal, principal at the end.
    public static func bondLoanSchedule(principal: Money, years: Int, startDate: CivilDate, _ c: RuleContext) throws -> Explained<[ScheduleLine]> {
        guard principal.tiyn > 0 else { throw RuleInputError("principal", "must be more than 0") }
        let at = c.on(startDate)
        let rate = try at.p("bond_rate"), maxYears = try at.p("bond_max_years")
        guard years >= 1, years <= Int(maxYears.value.wholeValue ?? 0) else { throw RuleInputError("years", "must be from 1 to \(maxYears.value)") }
        let coupon = rate.value.percentOf(principal, rounding: .halfUp)
        var lines: [ScheduleLine] = []
        for n in 1...years {
            let last = n == years
            lines.append(ScheduleLine(n: n, date: startDate.adding(months: 12 * n), principal: last ? principal : .zero, interest: coupon, balance: last ? .zero : principal))
        }
        return Explained(lines, steps: [
            .uses("C8", "bond_rate", rate), .uses("C8", "bond_max_years", maxYears),
            ExplanationStep(rule: "C8", text: "yearly interest \(rate.value) % × \(principal.decimalString) = \(coupon.decimalString); principal at the end of year \(years), early repayment allowed"),
        ])
    }
}
