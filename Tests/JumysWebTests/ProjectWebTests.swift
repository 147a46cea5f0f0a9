import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import SQLKit
import Testing
import Vapor
@testable import JumysWeb

/// Infrastructure projects in pages and the API: the pipeline walked by each body's user, another region's
/// commission refused, and a 37-job project at risk after 7 referred hires and met after the 8th.
@Suite struct ProjectWebTests {
    func user(_ store: Store, _ login: String) async throws -> UserContext {
        try #require(try await Directory(store: store).credentials(login: login)?.user)
    }

    /// Signs in a browser in Russian.
    func browser(_ app: Application, _ login: String) async throws -> Browser {
        let b = Browser(app)
        b.acceptLanguage = "ru"
        _ = try await b.signIn(login)
        _ = try await b.request(.GET, "/projects")   // a page of the session, for its form token
        return b
    }

    /// Walks a 37-job project from proposal to works through the pages; returns its id.
    func walk(_ app: Application, _ store: Store) async throws -> Int {
        let district = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "350300000").first()?.id)
        let akimat = try await browser(app, "akimat.KZ-35")
        #expect(try await akimat.request(.GET, "/projects/new").status == .ok)
        let created = try await akimat.post("/projects", ["programme": "roadmap", "name": "Ремонт дороги Топар — Абай", "district_id": String(district), "settlement": "Топар",
                                                          "object_type": "roads", "work_type": "repair", "cost_republican": "370 000 000", "cost_local": "30000000", "domestic_cost": "380000000",
                                                          "design_docs": "true", "expertise_passed": "true", "starts_on": Days.from(-30), "ends_on": Days.from(150),
                                                          "jobs_created": "37", "permanent_jobs": "4", "average_wage": "150000"])
        #expect(created.status == .seeOther)
        let id = try #require(created.headers.first(name: .location).flatMap { Int($0.split(separator: "/").last ?? "") })
        #expect(try await akimat.post("/projects/\(id)/steps/propose", [:]).status == .seeOther)
        // The akimat cannot take the coordinator's step: refused.
        #expect(try await akimat.post("/projects/\(id)/steps/compile", [:]).status == .forbidden)
        let coordinator = try await browser(app, "coordinator.KZ-35")
        #expect(try await coordinator.post("/projects/\(id)/steps/compile", [:]).status == .seeOther)
        // Astana's commission does not see a Karaganda project.
        let astana = try await browser(app, "commission.KZ-71")
        #expect(try await astana.request(.GET, "/projects/\(id)").status == .notFound)
        #expect(try await astana.post("/projects/\(id)/steps/approve_regional", ["decision": "№1", "referral_quota": "8"]).status == .notFound)
        // The regional commission sets the quota: at least 8 of 37 (E4); 7 is refused with the range in Russian.
        let commission = try await browser(app, "commission.KZ-35")
        let card = try await commission.request(.GET, "/projects/\(id)")
        #expect(card.body.contains("Не менее 8 (20 % мест, E4)"))
        let low = try await commission.post("/projects/\(id)/steps/approve_regional", ["decision": "Протокол №3", "referral_quota": "7"])
        #expect(low.status == .unprocessableEntity && low.body.contains("Квота должна быть от 8 до 37"))
        #expect(try await commission.post("/projects/\(id)/steps/approve_regional", ["decision": "Протокол №3", "referral_quota": "8"]).status == .seeOther)
        #expect(try await browser(app, "ministry.officer").post("/projects/\(id)/steps/consolidate", [:]).status == .seeOther)
        #expect(try await browser(app, "working-group").post("/projects/\(id)/steps/select", ["decision": "Протокол РГ №2"]).status == .seeOther)
        let iac = try await browser(app, "interagency")
        let year = CivilDate(iso: Days.from(-30))!.year
        // Approval draws on the region's limit: none yet, so it is refused with the reason in Russian.
        let refused = try await iac.post("/projects/\(id)/steps/approve", ["decision": "Протокол МВК №1"])
        #expect(refused.status == .unprocessableEntity && refused.body.contains("не утверждён"))
        #expect(try await browser(app, "ministry.officer").post("/limits/allocations", ["year": String(year), "direction": "rm_projects", "total": "100000000000", "period": "2023"]).status == .seeOther)
        let allocation = try #require(try await LimitStore(store: store).allocations(year: year).first)
        #expect(try await iac.post("/limits/allocations/\(allocation.id)/approve", ["decision": "Протокол МВК №1"]).status == .seeOther)
        #expect(try await iac.post("/projects/\(id)/steps/approve", ["decision": "Протокол МВК №1"]).status == .seeOther)
        let contractor = try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == "contractor.KZ-35").first()?.id)
        #expect(try await akimat.post("/projects/\(id)/parties", ["contractor_id": String(contractor), "contractor_jobs": "37"]).status == .seeOther)
        #expect(try await akimat.post("/projects/\(id)/steps/start", ["on": Days.from(-20)]).status == .seeOther)
        let history = try await akimat.request(.GET, "/projects/\(id)")
        #expect(history.body.contains("ведутся работы") && history.body.contains("Протокол МВК №1") && history.body.contains("Протокол №3"))
        // The printable regional list and the E3 ranking show it.
        #expect(try await commission.request(.GET, "/projects/print?region=KZ-35").body.contains("Ремонт дороги Топар — Абай"))
        #expect(try await commission.request(.GET, "/projects/ranking?state=in_works").body.contains("Ремонт дороги Топар — Абай"))
        return id
    }

    @Test func theQuotaIsAtRiskAfterSevenReferredHiresAndMetAfterTheEighth() async throws {
        try await withJumys(persons: 0) { app, store in
            let id = try await walk(app, store)
            let cw = try await user(store, "caseworker.KZ-35"), contractor = try await user(store, "contractor.KZ-35")
            let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
            // The contractor opens the project's vacancy from its card.
            let employer = try await browser(app, "contractor.KZ-35")
            #expect(try await employer.post("/projects/\(id)/vacancies", ["phase": "works", "title": "Дорожный рабочий", "isco": "9312", "wage": "150000", "places": "10",
                                                                          "valid_from": Days.from(0), "valid_until": Days.from(120)]).status == .seeOther)
            let labour = LabourStore(store: store)
            let vacancy = try #require(try await labour.vacancies(forProject: id).first?.id)
            func hire(_ n: Int) async throws {
                let person = try await CaseStore(store: store).register(Registration(iin: freshIIN(7000 + 10 * n).value, lastName: "Рабочий", firstName: "Номер\(n)", settlement: "Топар", rural: true,
                                                                                     categories: [.unemployed], categoriesFrom: CivilDate(iso: Days.from(-100)), consent: true), by: cw)
                let r = try await labour.refer(person: person, vacancy: vacancy, by: cw)
                try await labour.recordOutcome(referral: r, .hired(position: "Дорожный рабочий", startsOn: CivilDate(iso: Days.from(0))!, endsOn: nil, wage: Money(tenge: 150_000), subsidised: nil), env: env, by: contractor)
            }
            for n in 0..<7 { try await hire(n) }
            let token = try await apiToken(app, "analyst")
            let api = Browser(app)
            struct C: Decodable { let quota: Int; let referred: Int; let status: String }
            struct P: Decodable { let referral_quota: Int; let compliance: C }
            var p = try JSONDecoder().decode(P.self, from: Data(try await api.request(.GET, "/api/v1/projects/\(id)", bearer: token).body.utf8))
            #expect(p.referral_quota == 8 && p.compliance.referred == 7 && p.compliance.status == "at_risk")
            // The board shows one project at risk in the region, and the number opens the list behind it.
            let analyst = try await browser(app, "analyst")
            let board = try await analyst.request(.GET, "/projects/board?region=KZ-35")
            #expect(board.status == .ok && board.body.contains("district=") && board.body.contains("status=at_risk") && board.body.contains("Абайский район"))
            #expect(board.body.contains("flag=all"))
            #expect(try await analyst.request(.GET, "/projects?region=KZ-35&flag=all").body.contains("Ремонт дороги Топар — Абай"))
            let atRisk = try await analyst.request(.GET, "/projects?region=KZ-35&status=at_risk")
            #expect(atRisk.body.contains("Ремонт дороги Топар — Абай") && atRisk.body.contains("под угрозой"))
            try await hire(7)
            p = try JSONDecoder().decode(P.self, from: Data(try await api.request(.GET, "/api/v1/projects/\(id)", bearer: token).body.utf8))
            #expect(p.compliance.referred == 8 && p.compliance.status == "met")
            #expect(try await analyst.request(.GET, "/projects?region=KZ-35&status=at_risk").body.contains("Ремонт дороги Топар — Абай") == false)
            #expect(try await analyst.request(.GET, "/projects?region=KZ-35&status=met").body.contains("Ремонт дороги Топар — Абай"))
            struct B: Decodable { struct T: Decodable { let projects: Int; let met: Int; let at_risk: Int }; let total: T }
            let b = try JSONDecoder().decode(B.self, from: Data(try await api.request(.GET, "/api/v1/projects/board?region=KZ-35", bearer: token).body.utf8))
            #expect(b.total.projects == 1 && b.total.met == 1 && b.total.at_risk == 0)
            // The analyst reads but takes no step.
            #expect(try await api.request(.POST, "/api/v1/projects/\(id)/steps", json: #"{"step": "complete", "final_cost": "1"}"#, bearer: token).status == .forbidden)
            // The API refuses a step of another body with 403, and audits it.
            let akimatToken = try await apiToken(app, "akimat.KZ-35")
            #expect(try await api.request(.POST, "/api/v1/projects/\(id)/steps", json: #"{"step": "remove", "decision": "x", "note": "x"}"#, bearer: akimatToken).status == .forbidden)
            // Versions: the project carries its ETag; a step sent with an older one is refused with 409 before anything else.
            let read = try await api.request(.GET, "/api/v1/projects/\(id)", bearer: akimatToken)
            let etag = try #require(read.headers.first(name: .eTag))
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
            let stale = try await api.request(.POST, "/api/v1/projects/\(id)/steps", json: #"{"step": "remove", "decision": "x", "note": "x"}"#, headers: [("If-Match", "\"0\"")], bearer: akimatToken)
            #expect(stale.status == .conflict && stale.headers.contentType?.subType == "problem+json")
            let current = try await api.request(.POST, "/api/v1/projects/\(id)/steps", json: #"{"step": "remove", "decision": "x", "note": "x"}"#, headers: [("If-Match", etag)], bearer: akimatToken)
            #expect(current.status == .forbidden)   // as read: on to the step's own checks
            struct A: Decodable { let n: Int }
            let refused = try await store.sql.select().column(SQLRaw("COUNT(*)"), as: "n").from("audit_log").where("action", .equal, SQLBind("refused")).first(decoding: A.self)?.n ?? 0
            #expect(refused >= 3)
        }
    }
}
