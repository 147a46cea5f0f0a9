import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import SQLKit
import Testing
import Vapor
@testable import JumysWeb

/// Forecast needs, training referrals, the hires file, online applications of registered people, payroll
/// corrections — in pages and in the API.
@Suite struct LabourMarketWebTests {
    func user(_ store: Store, _ login: String) async throws -> UserContext {
        try #require(try await Directory(store: store).credentials(login: login)?.user)
    }

    /// A registered job seeker (by the store, as the district's caseworker) and an open vacancy in their district.
    func seekerAndVacancy(_ store: Store, serial: Int, isco: String = "7112", places: Int = 3) async throws -> (person: Int, vacancy: Int, caseworker: UserContext) {
        let cw = try await user(store, "caseworker.KZ-71")
        let person = try await CaseStore(store: store).register(Registration(iin: freshIIN(serial).value, lastName: "Жұмабаева", firstName: "Әйгерім", occupationISCO: isco, categories: [.jobSeeker], consent: true), by: cw)
        let employer = try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == "contractor.demo").first()?.id)
        let vacancy = try await LabourStore(store: store).createVacancy(VacancyInput(employerID: employer, title: "Каменщик", isco: isco, districtID: nil, wage: Money(tenge: 150_000), places: places, requirements: nil,
                                                                                     validFrom: CivilDate(iso: Days.from(-10)), validUntil: CivilDate(iso: Days.from(60))), by: cw)
        return (person, vacancy, cw)
    }

    @Test func needsArePostedAndLatenessShown() async throws {
        try await withJumys(persons: 0) { app, store in
            let year = Days.thisYear - 1
            let akimat = Browser(app)
            akimat.acceptLanguage = "ru"
            _ = try await akimat.signIn("akimat.KZ-71")
            try await akimat.request(.GET, "/needs?year=\(year)")
            let bad = try await akimat.post("/needs/local", ["year": String(year), "lines": "7112;40\n71;1;2"])
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.contains("Строка 1: нужно 3 столбцов") && bad.body.contains("7112;40"))
            #expect(try await akimat.post("/needs/local", ["year": String(year), "lines": "7112;40;60\n5120\t5\t0"]).status == .seeOther)
            let admin = Browser(app)
            admin.acceptLanguage = "ru"
            _ = try await admin.signIn("admin")
            let page = try await admin.request(.GET, "/needs?year=\(year)")
            let economy = try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == "ministry.economy").first()?.id)
            #expect(page.body.contains("Срок истёк, не поступило"))
            let sent = try await admin.post("/needs/central", ["organisation_id": String(economy), "year": String(year), "received_on": "\(year)-03-02",
                                                               "forecast": "7112;KZ-71;100;120;150", "created": "KZ-71;900"])
            #expect(sent.status == .seeOther)
            let after = try await admin.request(.GET, "/needs?year=\(year)")
            #expect(after.body.contains("Поступило \(year)-03-02, опоздание"))
            #expect(after.body.contains("7112 ") && after.body.contains(">40<") && after.body.contains(">100<"))
            // The same through the API.
            let token = try await apiToken(app, "admin")
            let json = try await admin.request(.GET, "/api/v1/needs/\(year)", bearer: token)
            #expect(json.body.contains(#""organisation_code":"ministry.economy""#) && json.body.contains(#""days_late":"#))
            let wrong = try await admin.request(.POST, "/api/v1/needs/central", json: #"{"organisation_id":\#(economy),"year":\#(year),"forecast":[{"isco":"7112","region":"KZ-71","counts":[1,2]}]}"#, bearer: token)
            #expect(wrong.status == .unprocessableEntity && wrong.body.contains("line_years"))
            // A caseworker cannot send a region's needs.
            let cw = Browser(app)
            _ = try await cw.signIn("caseworker.KZ-71")
            try await cw.request(.GET, "/needs")
            #expect(try await cw.post("/needs/local", ["year": String(year), "lines": "7112;1;1"]).status == .forbidden)
        }
    }

    @Test func trainingReferralThroughThePages() async throws {
        try await withJumys(persons: 0) { app, store in
            let (person, vacancy, cw) = try await seekerAndVacancy(store, serial: 3100, isco: "7212")
            let cases = CaseStore(store: store)
            // Her occupation was another one; she is sent to learn welding, for which there is a vacancy.
            try await store.sql.update("persons").set("occupation_isco", to: SQLBind("9313")).where("id", .equal, SQLBind(person)).run()
            let env = try await app.jumys.rules.current()
            let app1 = try await cases.createApplication(person: person, measure: .training, env: env, by: cw)
            try await cases.transition(application: app1, .startReview, env: env, by: cw)
            try await cases.transition(application: app1, .include, env: env, by: cw)
            try await cases.transition(application: app1, .signContract, input: .contract(ContractInput(startsOn: CivilDate(iso: Days.from(1))!, endsOn: CivilDate(iso: Days.months(3))!)), env: env, by: cw)
            let admin = Browser(app)
            admin.acceptLanguage = "en"
            _ = try await admin.signIn("admin")
            try await admin.request(.GET, "/courses/new")
            let provider = try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == "provider.demo").first()?.id)
            let badCourse = try await admin.post("/courses", ["provider_id": String(provider), "title_kk": "Дәнекерлеуші", "title_ru": "", "title_en": "Welder", "isco": "7212", "months": "40", "cost": "240000"])
            #expect(badCourse.status == .unprocessableEntity)
            #expect(try await admin.post("/courses", ["provider_id": String(provider), "title_kk": "Дәнекерлеуші", "title_ru": "Сварщик ручной сварки", "title_en": "Welder", "isco": "7212", "months": "4", "cost": "240000"]).status == .seeOther)
            #expect(try await admin.request(.GET, "/portal/courses").body.contains("Welder (7212)"))
            let course = try #require(try await PortalStore(store: store).courses().first { $0.title_ru == "Сварщик ручной сварки" })
            let b = Browser(app)
            b.acceptLanguage = "ru"
            _ = try await b.signIn("caseworker.KZ-71")
            let card = try await b.request(.GET, "/people/\(person)")
            #expect(card.body.contains("Направить на обучение") && card.body.contains("Сварщик ручной сварки"))
            let sent = try await b.post("/people/\(person)/training", ["course_id": String(course.id)])
            #expect(sent.status == .seeOther)
            let url = try #require(sent.headers.first(name: .location))
            let tpage = try await b.request(.GET, url)
            #expect(tpage.body.contains("вакансий: 3; заявленная потребность: 0") && tpage.body.contains("Проходит обучение"))
            #expect(try await b.post("\(url)/outcome", ["outcome": "completed", "outcome_on": Days.from(5)]).status == .unprocessableEntity)
            try await b.request(.GET, url)
            #expect(try await b.post("\(url)/outcome", ["outcome": "completed", "outcome_on": ""]).status == .seeOther)
            let done = try await b.request(.GET, url)
            #expect(done.body.contains("Завершил обучение") && done.body.contains("Вакансии по полученной профессии") && done.body.contains("/vacancies/\(vacancy)/refer"))
            // The person card now suggests the welding vacancy.
            let card2 = try await b.request(.GET, "/people/\(person)")
            #expect(card2.body.contains("Подходящие вакансии") && card2.body.contains("/vacancies/\(vacancy)\""))
            // Another district does not see the training referral.
            let other = Browser(app)
            _ = try await other.signIn("caseworker.KZ-75")
            #expect(try await other.request(.GET, url).status == .notFound)
        }
    }

    @Test func anEmployerUploadsItsHiresFile() async throws {
        try await withJumys(persons: 0) { app, store in
            let (person, vacancy, cw) = try await seekerAndVacancy(store, serial: 3300)
            let labour = LabourStore(store: store)
            let r = try #require(try await labour.referral(try await labour.refer(person: person, vacancy: vacancy, by: cw), scope: cw.scope))
            let employer = Browser(app)
            employer.acceptLanguage = "ru"
            _ = try await employer.signIn("contractor.demo")
            try await employer.request(.GET, "/referrals/import")
            let bad = try await employer.upload("/referrals/import", file: "file", filename: "hires.csv", content: "referral_number;position;starts_on;ends_on;wage;subsidised\n\(r.number);Каменщик;2021-02-30;;150000;\n")
            #expect(bad.status == .unprocessableEntity && bad.body.contains("Строка 2: дата starts_on"))
            let good = try await employer.upload("/referrals/import", file: "file", filename: "hires.csv", content: "referral_number;position;starts_on;ends_on;wage;subsidised\n\(r.number);Каменщик;\(Days.from(0));;150000;\n")
            #expect(good.status == .ok && good.body.contains("Записано приёмов на работу: 1."))
            #expect(try await labour.contract(forReferral: r.id)?.position == "Каменщик")
            // Without the CSRF token the upload is refused.
            employer.lastCSRF = "0"
            #expect(try await employer.upload("/referrals/import", file: "file", filename: "x.csv", content: "x").status == .forbidden)
        }
    }

    @Test func theLabourAPI() async throws {
        try await withJumys(persons: 0) { app, store in
            let (person, _, _) = try await seekerAndVacancy(store, serial: 3500)
            let b = Browser(app)
            let token = try await apiToken(app, "caseworker.KZ-71")
            let employer = try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == "contractor.demo").first()?.id)
            let created = try await b.request(.POST, "/api/v1/vacancies", json: #"{"employer_id":\#(employer),"title":"Каменщик 4 разряда","isco":"7112","wage":"200000","places":1,"valid_from":"\#(Days.from(-1))","valid_until":"\#(Days.from(30))"}"#, bearer: token)
            #expect(created.status == .created)
            struct V: Decodable { let id: Int; let wage: String }
            let v = try JSONDecoder().decode(V.self, from: Data(created.body.utf8))
            #expect(v.wage == "200000.00")
            let invalid = try await b.request(.POST, "/api/v1/vacancies", json: #"{"employer_id":\#(employer),"title":"","isco":"71","places":0}"#, bearer: token)
            #expect(invalid.status == .unprocessableEntity && invalid.body.contains("isco_invalid"))
            let list = try await b.request(.GET, "/api/v1/vacancies?isco=7112&limit=1", bearer: token)
            #expect(list.body.contains(#""next_cursor":""#))
            let suggested = try await b.request(.GET, "/api/v1/persons/\(person)/vacancies", bearer: token)
            #expect(suggested.body.contains(#""place":"same_district""#) && suggested.body.contains(#""occupation_level":4"#))
            #expect(try await b.request(.GET, "/api/v1/vacancies/\(v.id)/candidates", bearer: token).body.contains(#""person_id":\#(person)"#))
            // A labour need without a vacancy (a project's need for bricklayers in the district).
            let district = try #require(try await CaseStore(store: store).person(person, scope: .national)?.district_id)
            let need = try await b.request(.GET, "/api/v1/candidates?isco=7112&district_id=\(district)", bearer: token)
            #expect(need.body.contains(#""person_id":\#(person)"#) && need.body.contains(#""place":"same_district""#))
            #expect(try await b.request(.GET, "/api/v1/candidates?isco=71&district_id=\(district)", bearer: token).status == .unprocessableEntity)
            let ref = try await b.request(.POST, "/api/v1/referrals", json: #"{"person_id":\#(person),"vacancy_id":\#(v.id)}"#, bearer: token)
            #expect(ref.status == .created)
            struct R: Decodable { let id: Int; let number: String; let state: String }
            let referral = try JSONDecoder().decode(R.self, from: Data(ref.body.utf8))
            let out = try await b.request(.POST, "/api/v1/referrals/\(referral.id)/outcome", json: #"{"outcome":"hired","position":"Каменщик","starts_on":"\#(Days.from(0))","wage":"40000","subsidised":"social_job"}"#, bearer: token)
            #expect(out.status == .ok && out.body.contains(#""state":"hired""#))
            // Payroll through the API: run next month (month 2 of the placement), then amend the wage and correct it.
            let admin = try await apiToken(app, "admin")
            let month = Days.nextMonth
            #expect(try await b.request(.POST, "/api/v1/payroll/\(month)/run", json: "{}", bearer: token).status == .forbidden)
            try await allocate(store, year: CivilDate(iso: month + "-01")!.year, .programmeTraining)
            let run = try await b.request(.POST, "/api/v1/payroll/\(month)/run", json: "{}", bearer: admin)
            #expect(run.body.contains(#""added":1"#) && run.body.contains(#""total":"20000.00""#))
            let placement = try #require(try await LabourStore(store: store).placements(of: person).first)
            try await LabourStore(store: store).amendPlacement(placement.id, wage: Money(tenge: 60_000), endsOn: nil, by: try await user(store, "caseworker.KZ-71"))
            #expect(try await b.request(.POST, "/api/v1/payroll/\(month)/corrections", json: #"{"reason":"x","placement_id":"12a"}"#, bearer: admin).status == .unprocessableEntity)
            let fix = try await b.request(.POST, "/api/v1/payroll/\(month)/corrections", json: #"{"reason":"wage amended"}"#, bearer: admin)
            #expect(fix.body.contains(#""difference":"6000.00""#))
            let lines = try await b.request(.GET, "/api/v1/payroll/\(month)", bearer: token)
            #expect(lines.body.contains(#""kind":"correction""#) && lines.body.contains("wage amended") && !lines.body.contains("Жұмабаева"))
            // A hires file as the body; the referral is closed now.
            let again = try await b.request(.POST, "/api/v1/hires", raw: (HTTPMediaType(type: "text", subType: "csv"), "referral_number,position,starts_on,ends_on,wage,subsidised\n\(referral.number),Каменщик,\(Days.from(0)),,1,\n"), bearer: token)
            #expect(again.status == .unprocessableEntity && again.body.contains("line_referral_closed"))
            // Someone else's person: 404.
            let other = try await apiToken(app, "caseworker.KZ-75")
            #expect(try await b.request(.GET, "/api/v1/persons/\(person)/vacancies", bearer: other).status == .notFound)
        }
    }

    @Test func anOnlineApplicationOfARegisteredPersonJoinsTheirFile() async throws {
        try await withJumys(persons: 0) { app, store in
            let (person, _, _) = try await seekerAndVacancy(store, serial: 3700)
            let iin = try #require(try await CaseStore(store: store).person(person, scope: .national)?.iin)
            let district = try #require(try await CaseStore(store: store).person(person, scope: .national)?.district_id)
            let visitor = Browser(app)
            try await visitor.request(.GET, "/portal/apply")
            #expect(try await visitor.post("/portal/apply", ["iin": iin, "last_name": "Жұмабаева", "first_name": "Әйгерім", "phone": "+7 705 111 2233",
                                                            "district_id": String(district), "measure": "social_job", "consent": "true"]).status == .ok)
            let pending = try await PortalStore(store: store).pending(scope: .national)
            let cw = Browser(app)
            cw.acceptLanguage = "en"
            _ = try await cw.signIn("caseworker.KZ-71")
            let page = try await cw.request(.GET, "/online/\(pending[0].id)")
            #expect(page.body.contains("Take into this person&#39;s file") || page.body.contains("Take into this person's file"))
            let r = try await cw.post("/online/\(pending[0].id)/attach", [:])
            #expect(r.status == .seeOther && r.headers.first(name: .location)?.hasPrefix("/applications/") == true)
            #expect(try await PortalStore(store: store).pending(scope: .national).isEmpty)
            let apps = try await CaseStore(store: store).applications(of: person)
            #expect(apps.contains { $0.measure == "social_job" && $0.submitted_on == Days.from(0) })
            #expect(try await cw.post("/online/\(pending[0].id)/attach", [:]).status == .notFound)
        }
    }
}
