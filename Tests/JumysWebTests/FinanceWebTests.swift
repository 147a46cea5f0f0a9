import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import SQLKit
import Testing
import Vapor
@testable import JumysWeb

/// Limits and loans in the pages: the allocation proposed and approved by the right bodies, a reallocation in the
/// history, the districts' split, a loan refused above 70,000 MCI and a good one with its schedule, the loan reports.
@Suite struct FinanceWebTests {
    func browser(_ app: Application, _ login: String, _ page: String = "/limits") async throws -> Browser {
        let b = Browser(app)
        b.acceptLanguage = "ru"
        _ = try await b.signIn(login)
        _ = try await b.request(.GET, page)   // a page of the session, for its form token
        return b
    }

    @Test func limitsAreAllocatedReallocatedAndSplitThroughThePages() async throws {
        try await withJumys(persons: 0) { app, store in
            let year = Days.thisYear
            let ministry = try await browser(app, "ministry.officer"), iac = try await browser(app, "interagency"), commission = try await browser(app, "commission.KZ-35")
            // Only the authorised body proposes; a commission member is refused before the form is read.
            let wrong = try await commission.post("/limits/allocations", ["year": String(year), "direction": "rm_projects", "total": "1000000000", "period": "2023"])
            #expect(wrong.status == .forbidden)
            let bad = try await ministry.post("/limits/allocations", ["year": String(year), "direction": "rm_projects", "total": "12,5", "period": "2023"])
            #expect(bad.status == .unprocessableEntity && bad.body.contains("Введите сумму в целых тенге"))
            #expect(try await ministry.post("/limits/allocations", ["year": String(year), "direction": "rm_projects", "total": "123456789017", "period": "2023"]).status == .seeOther)
            let proposed = try await iac.request(.GET, "/limits?year=\(year)&direction=rm_projects")
            #expect(proposed.body.contains("Предложено") && proposed.body.contains("/approve"))
            let allocation = try #require(try await LimitStore(store: store).allocations(year: year).first)
            #expect(try await ministry.post("/limits/allocations/\(allocation.id)/approve", ["decision": "№1"]).status == .forbidden)
            #expect(try await iac.post("/limits/allocations/\(allocation.id)/approve", ["decision": "Протокол МВК №1"]).status == .seeOther)
            let page = try await ministry.request(.GET, "/limits?year=\(year)&direction=rm_projects")
            #expect(page.body.contains("По республике") && page.body.contains("Карагандинская область") && page.body.contains(Money(tenge: 123_456_789_017).formatted()))
            // A reallocation from Karaganda to Astana, approved by the commission, visible in the history.
            #expect(try await ministry.post("/limits/changes", ["year": String(year), "kind": "reallocation", "from_region": "KZ-35", "from_direction": "rm_projects",
                                                               "to_region": "KZ-71", "to_direction": "rm_projects", "amount": "1000000", "reason": "Итоги квартала"]).status == .seeOther)
            let change = try #require(try await LimitStore(store: store).history(year: year).first { $0.state == "proposed" })
            #expect(try await iac.post("/limits/changes/\(change.id)/approve", ["decision": "Протокол МВК №4"]).status == .seeOther)
            let history = try await iac.request(.GET, "/limits?year=\(year)&direction=rm_projects")
            #expect(history.body.contains("Перераспределение") && history.body.contains("Протокол МВК №4") && history.body.contains("Итоги квартала"))
            // Karaganda's akimat splits its limit between districts; more than the region holds is refused.
            let akimat = try await browser(app, "akimat.KZ-35", "/limits/\(year)/rm_projects/KZ-35")
            let abay = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "350300000").first()?.id)
            let over = try await akimat.post("/limits/\(year)/rm_projects/KZ-35", ["d_\(abay)": "999999999999", "decision": "Постановление №1"])
            #expect(over.status == .unprocessableEntity && over.body.contains("По районам"))
            #expect(try await akimat.post("/limits/\(year)/rm_projects/KZ-35", ["d_\(abay)": "400000000", "decision": "Постановление №1"]).status == .seeOther)
            #expect(try await akimat.request(.GET, "/limits/\(year)/rm_projects/KZ-35").body.contains(Money(tenge: 400_000_000).formatted()))
            // Astana's akimat may look but not split Karaganda's limit.
            let astana = try await browser(app, "akimat.KZ-71", "/limits/\(year)/rm_projects/KZ-35")
            #expect(try await astana.post("/limits/\(year)/rm_projects/KZ-35", ["d_\(abay)": "1", "decision": "x"]).status == .unprocessableEntity)
        }
    }

    @Test func aLenderRecordsLoansAndTheirChecksThroughThePages() async throws {
        try await withJumys(persons: 0) { app, store in
            let year = Days.thisYear
            try await allocate(store, year: year, .roadmapCredit, tenge: 100_000_000_000)
            let dir = Directory(store: store)
            let ministry = try #require(try await dir.credentials(login: "ministry.officer")?.user), akimat = try #require(try await dir.credentials(login: "akimat.KZ-71")?.user)
            let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
            func org(_ code: String) async throws -> Int { try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == code).first()?.id) }
            let credits = CreditStore(store: store)
            let start = CivilDate(iso: Days.from(-20))!
            let local = try await credits.grant(level: .localBody, parent: nil, year: start.year, direction: .roadmapCredit, region: "KZ-71", borrower: try await org("akimat.KZ-71"),
                                                amount: Money(tenge: 1_000_000_000), graceMonths: 12, transferredOn: start, decision: "Договор №1", env: env, by: ministry)
            let credit = try await credits.grant(level: .creditOrganisation, parent: local, year: 0, direction: .roadmapCredit, region: "", borrower: try await org("lender.demo"),
                                                 amount: Money(tenge: 900_000_000), graceMonths: 12, transferredOn: start, decision: "Договор №2", env: env, by: akimat)
            let lender = try await browser(app, "lender.demo", "/loans/new")
            let district = try #require(try await DistrictRecord.query(on: store.db).filter(\.$regionISO == "KZ-71").first()?.id)
            let mci = try ParameterSet.bundled().value("monthly_calculation_index", at: CivilDate(iso: Days.from(0))!).value.wholeValue!
            var form = ["credit_id": String(credit), "district_id": String(district), "borrower_id": BIN.make(year: 2015, month: 3, serial: 4711)!.value, "borrower_name": "ТОО «Астана Агро»",
                        "tax_registered": "true", "purpose": "investment", "purpose_text": "Цех", "amount": String(70_000 * mci + 1), "term_months": "84", "rate_percent": "6",
                        "grace_months": "12", "method": "annuity", "jobs_promised": "3", "contract_on": Days.from(0)]
            let refused = try await lender.post("/loans", form)
            let limit = Money(tenge: 70_000 * mci).formatted()
            #expect(refused.status == .unprocessableEntity && refused.body.contains("Сумма превышает предел") && refused.body.contains(limit))
            form["amount"] = "100000000"
            let created = try await lender.post("/loans", form)
            #expect(created.status == .seeOther)
            let url = try #require(created.headers.first(name: .location))
            let card = try await lender.request(.GET, url)
            #expect(card.body.contains("График погашения (84)") && card.body.contains("Договор заключён") && card.body.contains(Money(tenge: 100_000_000).formatted()))
            // The IIN or BIN is never in a GET address; another region's akimat does not see the loan.
            #expect(!url.contains(form["borrower_id"]!))
            #expect(try await browser(app, "akimat.KZ-35", "/loans").request(.GET, url).status == .notFound)
            #expect(try await lender.post("\(url)/disburse", ["amount": "100000000", "on": Days.from(0)]).status == .seeOther)
            #expect(try await lender.request(.GET, url).body.contains("Выдан"))
            // The month's loan report with its due dates.
            let report = try await browser(app, "akimat.KZ-71", "/loans").request(.GET, "/loans/reports?month=\(Days.from(0).prefix(7))")
            #expect(report.body.contains("Кредитная организация: выданные кредиты (до 10-го)") && report.body.contains(Money(tenge: 100_000_000).formatted()))
            let akimat71 = try await browser(app, "akimat.KZ-71", "/loans")
            let csv = try await akimat71.request(.GET, "/loans/reports/c7.csv?month=\(Days.from(0).prefix(7))")
            #expect(csv.status == .ok && csv.body.contains("100000000.00") && csv.body.contains("ТОО «Астанинская региональная финансовая организация» (демо)"))
            #expect(try await akimat71.request(.GET, "/loans/reports/c7.xlsx?month=\(Days.from(0).prefix(7))").bytes.prefix(2) == Data([0x50, 0x4B]))
        }
    }

    @Test func theAPIGivesLimitsAndLoansToOutsideSystems() async throws {
        try await withJumys(persons: 0) { app, store in
            let year = Days.thisYear
            let b = Browser(app)
            let ministry = try await apiToken(app, "ministry.officer"), iac = try await apiToken(app, "interagency"), lender = try await apiToken(app, "lender.demo")
            let proposed = try await b.request(.POST, "/api/v1/limits/allocations", json: #"{"year": \#(year), "direction": "rm_credit", "total": "100000000000", "period": "2023"}"#, bearer: ministry)
            #expect(proposed.status == .created && proposed.body.contains(#""region":"KZ-71""#))
            let id = try #require(try await LimitStore(store: store).allocations(year: year).first?.id)
            let refused = try await b.request(.POST, "/api/v1/limits/allocations/\(id)/approve", json: #"{"decision": "№1"}"#, bearer: ministry)
            #expect(refused.status == .forbidden)
            #expect(try await b.request(.POST, "/api/v1/limits/allocations/\(id)/approve", json: #"{"decision": "Протокол МВК №1"}"#, bearer: iac).status == .ok)
            let limits = try await b.request(.GET, "/api/v1/limits?year=\(year)&direction=rm_credit&region=KZ-71", bearer: lender)
            #expect(limits.status == .ok && limits.body.contains(#""direction":"rm_credit""#) && limits.body.contains(#""kind":"allocation""#))
            #expect(try await b.request(.GET, "/api/v1/limits?year=20x1", bearer: lender).status == .unprocessableEntity)
            let change = try await b.request(.POST, "/api/v1/limits/changes", json: #"{"year": \#(year), "kind": "reallocation", "from_region": "KZ-35", "from_direction": "rm_credit", "to_region": "KZ-71", "to_direction": "rm_credit", "amount": "1000000", "reason": "Итоги"}"#, bearer: ministry)
            #expect(change.status == .created)
            let changeID = try #require(try await LimitStore(store: store).history(year: year).first { $0.state == "proposed" }?.id)
            #expect(try await b.request(.POST, "/api/v1/limits/changes/\(changeID)/decision", json: #"{"approve": true, "decision": "МВК №4"}"#, bearer: iac).status == .ok)
            // The credit chain, then a loan through the API: above 70,000 MCI refused with the field and code.
            let dir = Directory(store: store)
            let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
            func org(_ code: String) async throws -> Int { try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == code).first()?.id) }
            let start = CivilDate(iso: Days.from(-10))!
            let ministryUser = try #require(try await dir.credentials(login: "ministry.officer")?.user), akimatUser = try #require(try await dir.credentials(login: "akimat.KZ-71")?.user)
            let local = try await CreditStore(store: store).grant(level: .localBody, parent: nil, year: year, direction: .roadmapCredit, region: "KZ-71", borrower: try await org("akimat.KZ-71"),
                                                                amount: Money(tenge: 1_000_000_000), graceMonths: 12, transferredOn: start, decision: "Договор №1", env: env, by: ministryUser)
            let credit = try await CreditStore(store: store).grant(level: .creditOrganisation, parent: local, year: 0, direction: .roadmapCredit, region: "", borrower: try await org("lender.demo"),
                                                                 amount: Money(tenge: 900_000_000), graceMonths: 12, transferredOn: start, decision: "Договор №2", env: env, by: akimatUser)
            let district = try #require(try await DistrictRecord.query(on: store.db).filter(\.$regionISO == "KZ-71").first()?.id)
            let bin = BIN.make(year: 2015, month: 3, serial: 4711)!.value
            func body(_ amount: String) -> String {
                #"{"credit_id": \#(credit), "district_id": \#(district), "borrower_id": "\#(bin)", "borrower_name": "ТОО «Агро»", "tax_registered": true, "purpose": "investment", "purpose_text": "Цех", "amount": "\#(amount)", "term_months": 84, "rate_percent": "6", "grace_months": 12, "method": "equal_principal", "jobs_promised": 2, "contract_on": "\#(Days.from(0))"}"#
            }
            let over = try await b.request(.POST, "/api/v1/loans", json: body("999999999"), bearer: lender)
            #expect(over.status == .unprocessableEntity && over.body.contains(#""field":"amount""#) && over.body.contains("loan_amount_above_max"))
            let created = try await b.request(.POST, "/api/v1/loans", json: body("72000000"), bearer: lender)
            #expect(created.status == .created && created.body.contains(#""state":"contracted""#))
            let lenderUser = try #require(try await dir.credentials(login: "lender.demo")?.user)
            let loanID = try #require(try await CreditStore(store: store).loans(for: lenderUser).first?.id)
            let one = try await b.request(.GET, "/api/v1/loans/\(loanID)", bearer: lender)
            #expect(one.body.contains(#""n":84"#) && one.body.contains(#""principal":"1000000.00""#))
            #expect(try await b.request(.POST, "/api/v1/loans/\(loanID)/disburse", json: #"{"amount": "72000000", "on": "\#(Days.from(0))"}"#, bearer: lender).status == .ok)
            #expect(try await b.request(.POST, "/api/v1/loans/\(loanID)/disburse", json: #"{"amount": "72000000", "on": "\#(Days.from(0))"}"#, bearer: iac).status == .forbidden)
            let list = try await b.request(.GET, "/api/v1/loans?state=disbursed", bearer: ministry)
            #expect(list.body.contains(#""number":"L-"#) && list.body.contains(#""flags":[]"#))
            #expect(try await b.request(.GET, "/api/v1/loans?flag=nope", bearer: ministry).status == .unprocessableEntity)
            #expect(try await b.request(.GET, "/api/v1/loans/\(loanID)", bearer: try await apiToken(app, "akimat.KZ-35")).status == .notFound)
            let report = try await b.request(.GET, "/api/v1/loans/report?month=\(Days.from(0).prefix(7))", bearer: ministry)
            #expect(report.body.contains(#""issued":1"#) && report.body.contains("loans_issued_by_lender"))
        }
    }
}
