import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import SQLKit
import Testing
import Vapor
@testable import JumysWeb

@Suite struct PortalTests {
    @Test func anyoneSearchesVacanciesReadsCoursesAndMeasures() async throws {
        try await withJumys(persons: 0) { app, store in
            try await PortalStore(store: store).loadDemoCourses()
            let b = Browser(app)
            b.acceptLanguage = "ru"
            #expect(try await b.request(.GET, "/portal").status == .ok)
            #expect(try await b.request(.GET, "/portal/vacancies?isco=71&region=KZ-71&min_wage=100000").status == .ok)
            let courses = try await b.request(.GET, "/portal/courses")
            #expect(courses.body.contains("Каменщик") && courses.body.contains("Электросварщик"))
            let measures = try await b.request(.GET, "/portal/measures")
            // Youth practice today: 17.2 × MCI, computed by the rules.
            let env = try await app.jumys.rules.current()
            let amount = try SubsidyTable(env.context(on: CaseStore(store: store).today())).youthPractice(month: 1).formatted()
            #expect(measures.body.contains(amount))
        }
    }

    @Test func anOnlineApplicationLandsInTheDistrictsWorklistAndIsTakenIntoAFile() async throws {
        try await withJumys(persons: 0) { app, store in
            let district = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "710300000").first()?.id)
            let visitor = Browser(app)
            visitor.acceptLanguage = "kk"
            try await visitor.request(.GET, "/portal/apply")
            let iin = freshIIN(2000)
            let sent = try await visitor.post("/portal/apply", ["iin": iin.value, "last_name": "Байтұрсынова", "first_name": "Інжу", "phone": "+7 705 111 2233",
                                                                "district_id": String(district), "measure": "youth_practice", "consent": "true", "website": ""])
            #expect(sent.status == .ok)
            #expect(sent.body.contains("Өтінішіңіз қабылданды"))
            let pending = try await PortalStore(store: store).pending(scope: .district(Int64(district)))
            #expect(pending.map(\.iin) == [iin.value])
            // The caseworker sees it on the worklist once due, opens it, and registers the person from it.
            let cw = Browser(app)
            _ = try await cw.signIn("caseworker.KZ-71")
            let items = try await CaseStore(store: store).worklist(scope: .district(Int64(district)), through: Days.today.adding(days: 30))
            #expect(items.contains { $0.kind == .online && $0.applicationID == pending[0].id })
            let page = try await cw.request(.GET, "/online/\(pending[0].id)")
            #expect(page.body.contains("/people/new?online=\(pending[0].id)"))
            let form = try await cw.request(.GET, "/people/new?online=\(pending[0].id)")
            #expect(form.body.contains(iin.value))
            let registered = try await cw.post("/people", ["online_id": String(pending[0].id), "iin": iin.value, "last_name": "Байтұрсынова", "first_name": "Інжу",
                                                           "phone": "+7 705 111 2233", "categories[]": "job_seeker", "consent": "true"])
            #expect(registered.status == .seeOther)
            #expect(try await PortalStore(store: store).pending(scope: .district(Int64(district))).isEmpty)
            let location = try #require(registered.headers.first(name: .location))
            let personID = try #require(Int(location.split(separator: "/").last!))
            #expect(try await CaseStore(store: store).applications(of: personID).map(\.measure) == ["youth_practice"])
            // Another district's caseworker cannot open it.
            let other = Browser(app)
            _ = try await other.signIn("caseworker.KZ-75")
            #expect(try await other.request(.GET, "/online/\(pending[0].id)").status == .notFound)
        }
    }

    @Test func botsAreKeptOutByTheHoneypotAndFloodsByTheRateLimit() async throws {
        try await withJumys(persons: 0) { app, store in
            let district = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "710300000").first()?.id)
            let bot = Browser(app)
            try await bot.request(.GET, "/portal/apply")
            let r = try await bot.post("/portal/apply", ["iin": freshIIN(2100).value, "last_name": "Bot", "first_name": "Bot", "phone": "+7 700 000 0000",
                                                         "district_id": String(district), "measure": "training", "consent": "true", "website": "http://spam.example"])
            #expect(r.status == .ok)
            #expect(try await PortalStore(store: store).pending(scope: .national).isEmpty)
            let flood = Browser(app)
            try await flood.request(.GET, "/portal/apply")
            var statuses: [UInt] = []
            for i in 0..<7 {
                let res = try await flood.post("/portal/apply", ["iin": freshIIN(2200 + i * 40).value, "last_name": "Тест", "first_name": "Тест", "phone": "+7 700 000 0000",
                                                                 "district_id": String(district), "measure": "training", "consent": "true", "website": ""])
                statuses.append(res.status.code)
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == 200 })
            #expect(statuses.suffix(2).allSatisfy { $0 == 429 })
        }
    }
}
