import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import SQLKit
import Testing
import Vapor
@testable import JumysWeb

/// Entrepreneurship and relocation in pages: the overdue flag seen by the centre and by the lender, the printable
/// notification, and a dwelling beyond the area norm refused with a translated message.
@Suite struct DirectionsWebTests {
    func user(_ store: Store, _ login: String) async throws -> UserContext {
        try #require(try await Directory(store: store).credentials(login: login)?.user)
    }
    func org(_ store: Store, _ code: String) async throws -> Int {
        try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == code).first()?.id)
    }

    @Test func overdueConclusionIsFlaggedToTheCentreAndTheLender() async throws {
        try await withJumys(persons: 0) { app, store in
            let cw = try await user(store, "caseworker.KZ-35")
            let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
            let person = try await CaseStore(store: store).register(Registration(iin: freshIIN(900).value, lastName: "Исаева", firstName: "Гүлнар", rural: true, categories: [.unemployed],
                                                                                 categoriesFrom: CivilDate(iso: Days.from(-400)), consent: true), by: cw)
            let business = BusinessStore(store: store)
            let id = try await business.apply(person: person, BusinessInput(settlement: "Қарабас", place: .rural, supportSettlement: false, expand: false, idea: "Наубайхана", sector: "processing",
                                                                            amountAsked: Money(tenge: 2_000_000), needsInfrastructure: false, lenderID: try await org(store, "lender.demo"),
                                                                            submittedOn: CivilDate(iso: Days.from(-20))), env: env, by: cw)
            try await business.requestConclusions(application: id, organisations: [.businessAuthority: try await org(store, "bizdev.350300000"), .ruralAkim: try await org(store, "akim.350300000")],
                                                  on: CivilDate(iso: Days.from(-15)), env: env, by: cw)
            // The lender's user sees the request as overdue by 5 days, in Russian.
            let lender = Browser(app)
            lender.acceptLanguage = "ru"
            _ = try await lender.signIn("lender.demo")
            let inbox = try await lender.request(.GET, "/conclusions")
            #expect(inbox.status == .ok && inbox.body.contains("ПРОСРОЧЕНО на 5 дн.") && inbox.body.contains("Исаева Гүлнар"))
            // Another body's officer does not see the lender's request.
            let lenderRequest = try #require(try await business.conclusions(of: id).first { $0.body == "lender" })
            let akim = Browser(app)
            _ = try await akim.signIn("akim.350300000")
            #expect(try await akim.request(.GET, "/conclusions/\(lenderRequest.id)").status == .notFound)
            #expect(try await akim.request(.GET, "/conclusions").body.contains("Наубайхана") == false)
            // The caseworker sees the same flag on the application's page.
            let centre = Browser(app)
            centre.acceptLanguage = "ru"
            _ = try await centre.signIn("caseworker.KZ-35")
            #expect(try await centre.request(.GET, "/business/\(id)").body.contains("ПРОСРОЧЕНО на 5 дн."))
            // The lender answers from its page; the flag turns into "late".
            let answered = try await lender.post("/conclusions/\(lenderRequest.id)/answer", ["positive": "true", "reason": ""])
            #expect(answered.status == .seeOther)
            #expect(try await centre.request(.GET, "/business/\(id)").body.contains("с опозданием на 5 дн."))
            // Include after all answers; the notification prints in Kazakh and Russian.
            for login in ["business.KZ-35", "akim.350300000"] {
                let u = try await user(store, login)
                for item in try await business.inbox(for: u) { try await business.answer(request: item.request.id, positive: true, reason: "", by: u) }
            }
            #expect(try await centre.post("/applications/\(id)/actions/include", [:]).status == .seeOther)
            let kk = try await centre.request(.GET, "/business/\(id)/notification/kk")
            #expect(kk.status == .ok && kk.body.contains("Бағдарламаға қатысу туралы шешім жөніндегі хабарлама") && kk.body.contains("Исаева Гүлнар"))
            #expect(try await centre.request(.GET, "/business/\(id)/notification/ru").body.contains("включить Вас в число участников программы"))
        }
    }

    @Test func aDwellingBeyondTheNormIsRefusedWithATranslatedMessage() async throws {
        try await withJumys(persons: 0) { app, store in
            let cw = try await user(store, "caseworker.KZ-35"), admin = try await user(store, "admin")
            let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
            let cases = CaseStore(store: store)
            let person = try await cases.register(Registration(iin: freshIIN(950).value, lastName: "Омаров", firstName: "Бекзат", rural: true, categories: [.unemployed],
                                                                 categoriesFrom: CivilDate(iso: Days.from(-400)), consent: true), by: cw)
            try await cases.addHouseholdMember(person: person, name: "Омарова Айжан", relation: .spouse, birthDate: CivilDate(iso: "1990-02-02")!, sex: .female, disabled: false, ill: false, by: cw)
            let relocation = RelocationStore(store: store)
            let lists = try await relocation.settlements()
            let origin = try #require(lists.first { $0.potential == "low" && $0.region_iso == "KZ-35" }), astana = try #require(lists.first { $0.region_iso == "KZ-71" })
            let id = try await relocation.apply(person: person, RelocationInput(originID: origin.id, destinationID: astana.id, livedSince: nil, skillsMatch: false, employerRelocated: false,
                                                                                 employmentAtDestination: true, memberIDs: try await cases.household(of: person).map(\.id)), env: env, by: cw)
            let centre = Browser(app)
            centre.acceptLanguage = "ru"
            _ = try await centre.signIn("caseworker.KZ-35")
            // The regional commission may not recommend a move to another region; the operator does.
            #expect(try await centre.request(.GET, "/relocation/\(id)").body.contains("Ожидается рекомендация: Оператор Программы."))
            try await relocation.recommend(application: id, recommended: true, on: CivilDate(iso: Days.from(0))!, protocolNo: "МВК-1", note: "", by: admin)
            try await allocate(store, year: Days.thisYear, .programmeRelocation)
            #expect(try await centre.post("/applications/\(id)/actions/include", [:]).status == .seeOther)
            let page = try await centre.request(.GET, "/relocation/\(id)")
            #expect(page.body.contains("Субсидия на переезд"))
            let big = try #require(try await relocation.dwellings(region: "KZ-71").first { $0.area == 54 * FixedDecimal.scale })
            let refused = try await centre.post("/relocation/\(id)/allocate", ["dwelling_id": String(big.id)])
            #expect(refused.status == .unprocessableEntity)
            #expect(refused.body.contains("54 м² больше нормы для семьи из 2 чел.: не более 36 м²"))
        }
    }
}
