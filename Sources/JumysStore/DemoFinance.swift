import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

extension DemoData {
    /// Demonstration money: this year's and next year's limits of every direction, split between the regions and
    /// approved; Astana's budget credit chain (republic → akimat → the demo credit organisation) with three loans —
    /// one disbursed and on schedule, one whose 24 months passed with two of three jobs confirmed (flagged), and this
    /// year's chain with a loan just contracted — and a bond loan to Astana's akimat with a monthly use report. Added once, when there are no
    /// budget credits; dates are relative to today.
    @discardableResult
    public static func loadFinance(into store: Store) async throws -> Int {
        struct N: Decodable { let n: Int }
        let today = store.today()
        try await allocateDemoLimits(store, years: [today.year, today.year + 1], on: CivilDate(year: today.year, month: 1, day: 15)!)
        func user(_ login: String) async throws -> UserContext { try await account(store, login) }
        func org(_ code: String) async throws -> Int { try await organisation(store, code) }
        // Once: when the demo lender has no credit yet (a seeded national dataset has credits of its own lenders).
        let have = try await store.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("budget_credits")
            .where("borrower_id", .equal, SQLBind(try await org("lender.demo"))).first(decoding: N.self)?.n ?? 0
        guard have == 0 else { return 0 }
        guard let district = try await DistrictRecord.query(on: store.db).filter(\.$regionISO == "KZ-71").sort(\.$kato).first()?.id else { return 0 }
        let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
        let ministry = try await user("ministry.officer"), akimat = try await user("akimat.KZ-71"), lender = try await user("lender.demo")
        let credits = CreditStore(store: store)
        // The chain starts 28 months ago so that one loan's 24 months have run.
        let start = today.adding(months: -28)
        try await allocateDemoLimits(store, years: [start.year], on: start.adding(days: -10))
        let local = try await credits.grant(level: .localBody, parent: nil, year: start.year, direction: .roadmapCredit, region: "KZ-71", borrower: try await org("akimat.KZ-71"),
                                            amount: Money(tenge: 2_000_000_000), graceMonths: 24, transferredOn: start, decision: "Кредиттік шарт №17 (демо)", env: env, by: ministry)
        let toLender = try await credits.grant(level: .creditOrganisation, parent: local, year: 0, direction: .roadmapCredit, region: "", borrower: try await org("lender.demo"),
                                               amount: Money(tenge: 1_500_000_000), graceMonths: 24, transferredOn: start.adding(days: 20), decision: "Кредиттік шарт №3 (демо)", env: env, by: akimat)
        func loan(_ bin: Int, _ name: String, _ purpose: String, amount: Int64, jobs: Int, on: CivilDate) -> LoanInput {
            LoanInput(creditID: toLender, districtID: district, borrowerID: (bin..<(bin + 20)).lazy.compactMap { BIN.make(year: 2016, month: 5, serial: $0) }.first!.value, borrowerName: name, taxRegistered: true,
                      purpose: .investment, purposeText: purpose, amount: Money(tenge: amount), termMonths: 84, ratePercent: FixedDecimal(6), graceMonths: 12,
                      method: .annuity, jobsPromised: jobs, contractOn: on)
        }
        // Two of three jobs by month 24: flagged, waiting for the lender's demand.
        let late = try await credits.createLoan(loan(501, "«Нұра Сүт» ЖШС (демо)", "Сүт өңдеу цехы", amount: 150_000_000, jobs: 3, on: start.adding(days: 30)), env: env, by: lender)
        try await credits.disburse(loan: late, amount: Money(tenge: 150_000_000), on: start.adding(days: 35), env: env, by: lender)
        try await credits.confirmTargetUse(loan: late, on: start.adding(days: 80), by: lender)
        try await credits.recordJob(loan: late, slot: nil, contractNumber: "ЕШ-101", contractOn: start.adding(days: 60), seasonal: false, by: lender)
        try await credits.recordJob(loan: late, slot: nil, contractNumber: "ЕШ-102", contractOn: start.adding(days: 90), seasonal: false, by: lender)
        // It repays as due; only its jobs are short.
        for line in try await credits.schedule(of: late) where line.due_on <= today.iso {
            try await credits.repay(loan: late, amount: Money(tiyn: line.principal + line.interest), on: CivilDate(iso: line.due_on)!, by: lender)
        }
        // On schedule: disbursed in the credit's first months, repaid as due, its jobs filled.
        let good = try await credits.createLoan(loan(502, "«Астана Жиһаз» ЖШС (демо)", "Жиһаз шеберханасы", amount: 80_000_000, jobs: 2, on: start.adding(months: 2)), env: env, by: lender)
        try await credits.disburse(loan: good, amount: Money(tenge: 80_000_000), on: start.adding(months: 2), env: env, by: lender)
        try await credits.confirmTargetUse(loan: good, on: start.adding(months: 3), by: lender)
        for (i, n) in ["ЕШ-201", "ЕШ-202"].enumerated() { try await credits.recordJob(loan: good, slot: nil, contractNumber: n, contractOn: start.adding(months: 4).adding(days: i), seasonal: false, by: lender) }
        let due = try await credits.schedule(of: good).filter { $0.due_on <= today.iso }
        for line in due { try await credits.repay(loan: good, amount: Money(tiyn: line.principal + line.interest), on: CivilDate(iso: line.due_on)!, by: lender) }
        // This year's chain: a credit to the akimat two months ago, passed on last month, and a loan contracted this week.
        let local2 = try await credits.grant(level: .localBody, parent: nil, year: today.adding(months: -2).year, direction: .roadmapCredit, region: "KZ-71", borrower: try await org("akimat.KZ-71"),
                                             amount: Money(tenge: 1_000_000_000), graceMonths: 24, transferredOn: today.adding(months: -2), decision: "Кредиттік шарт №29 (демо)", env: env, by: ministry)
        let toLender2 = try await credits.grant(level: .creditOrganisation, parent: local2, year: 0, direction: .roadmapCredit, region: "", borrower: try await org("lender.demo"),
                                                amount: Money(tenge: 800_000_000), graceMonths: 24, transferredOn: today.adding(months: -1), decision: "Кредиттік шарт №8 (демо)", env: env, by: akimat)
        var fresh = loan(503, "«Дала Агро» ЖШС (демо)", "Жылыжай кешені", amount: 120_000_000, jobs: 5, on: today.adding(days: -3))
        fresh.creditID = toLender2
        _ = try await credits.createLoan(fresh, env: env, by: lender)
        // A bond loan to Astana's akimat with last month's report of use.
        let bond = try await credits.issueBond(region: "KZ-71", borrower: try await org("akimat.KZ-71"), amount: Money(tenge: 5_000_000_000), years: 12, issuedOn: today.adding(months: -3),
                                               purpose: "Өңірді дамыту: инженерлік желілер (демо)", env: env, by: ministry)
        let last = today.adding(months: -1)
        try await credits.recordBondEvent(bond, kind: .useReport, month: String(format: "%04d-%02d", last.year, last.month), amount: Money(tenge: 750_000_000),
                                          on: CivilDate(year: today.year, month: today.month, day: 1)!, note: "Жылу желілері", by: akimat)
        return 3
    }
}
