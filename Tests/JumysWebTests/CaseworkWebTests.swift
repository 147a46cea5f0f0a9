import FluentKit
import Foundation
import JumysDomain
import JumysStore
import SQLKit
import Testing
import Vapor
@testable import JumysWeb

func freshIIN(_ serial: Int) -> IIN {
    var s = serial
    while true {
        if let i = IIN.make(birthDate: CivilDate(year: 1994, month: 11, day: 2)!, sex: .female, serial: s) { return i }
        s += 1
    }
}

@Suite struct CaseworkWebTests {
    /// The issue's journey, once in Kazakh and once in Russian: register, apply, decide, sign, breach, TSA, card.
    @Test(arguments: [("kk", "Тіркелді", "АӘК тоқтатыла тұрды"), ("ru", "Зарегистрирован", "АСП приостановлена")])
    func aCaseworkerTakesAPersonFromRegistrationToASuspendedTSA(lang: String, registeredWord: String, suspendedWord: String) async throws {
        try await withJumys(persons: 0) { app, store in
            let b = Browser(app)
            b.acceptLanguage = lang
            _ = try await b.signIn("caseworker.KZ-71")
            let form = try await b.request(.GET, "/people/new")
            #expect(form.status == .ok)
            let iin = freshIIN(lang == "kk" ? 100 : 300)
            let created = try await b.post("/people", ["iin": iin.value, "last_name": "Серікова", "first_name": "Айгерім", "rural": "true",
                                                       "phone": "+7 701 123 4567", "categories[]": "low_income", "consent": "true"])
            #expect(created.status == .seeOther)
            let personURL = try #require(created.headers.first(name: .location))
            let personID = try #require(Int(personURL.split(separator: "/").last!))
            let card = try await b.request(.GET, personURL)
            #expect(card.body.contains("Серікова Айгерім"))
            try await b.post("\(personURL)/tsa", ["tsa_recipient": "true"])
            try await b.request(.GET, personURL)
            let applied = try await b.post("\(personURL)/applications", ["measure": "training"])
            #expect(applied.status == .seeOther)
            let appURL = try #require(applied.headers.first(name: .location))
            for action in ["start_review", "include"] {
                try await b.request(.GET, appURL)
                #expect(try await b.post("\(appURL)/actions/\(action)", [:]).status == .seeOther, "\(action)")
            }
            try await b.request(.GET, appURL)
            let signed = try await b.post("\(appURL)/actions/sign_contract", ["starts_on": Days.from(2), "ends_on": Days.months(3), "specialty": "7112"])
            #expect(signed.status == .seeOther)
            let appPage = try await b.request(.GET, appURL)
            let contractPath = try #require(appPage.body.firstMatch(of: /href="(\/contracts\/\d+)"/).map { String($0.1) })
            try await b.request(.GET, contractPath)
            let breach = try await b.post("\(contractPath)/breaches", ["party": "participant", "occurred_on": Days.from(0), "description": "Сабаққа келмеді", "sanction": "tsa_suspension"])
            #expect(breach.status == .seeOther)
            let after = try await b.request(.GET, personURL)
            #expect(after.body.contains(registeredWord))
            #expect(after.body.contains(suspendedWord))
            let tsa = try await b.request(.GET, "/tsa")
            #expect(tsa.body.contains("/people/\(personID)"))
            // Printable contract in both languages.
            let kk = try await b.request(.GET, "\(contractPath)/print/kk")
            #expect(kk.body.contains("Әлеуметтік келісімшарт") && kk.body.contains(#"lang="kk""#))
            let ru = try await b.request(.GET, "\(contractPath)/print/ru")
            #expect(ru.body.contains("Социальный контракт") && ru.body.contains("Серікова Айгерім"))
            guard case .intact = try await AuditLog.verify(store.sql) else { Issue.record("audit chain broken"); return }
        }
    }

    @Test func badRegistrationShowsTranslatedMessagesNextToTheFieldsAndWritesNothing() async throws {
        try await withJumys(persons: 0) { app, store in
            let b = Browser(app)
            b.acceptLanguage = "ru"
            _ = try await b.signIn("caseworker.KZ-71")
            struct C: Decodable { let n: Int }
            func persons() async throws -> Int { try await store.sql.raw("SELECT COUNT(*) AS n FROM persons").first(decoding: C.self)!.n }
            let before = try await persons()
            try await b.request(.GET, "/people/new")
            let bad = try await b.post("/people", ["iin": "900515300009", "last_name": "Иванов", "first_name": "Иван", "consent": "true"])
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.contains("ИИН неверен"))
            #expect(bad.body.contains(#"id="iin-error""#))
            #expect(bad.body.contains(##"href="#iin""##))
            var future: IIN? = nil
            for s in 0..<50 where future == nil { future = IIN.make(birthDate: CivilDate(year: 2031, month: 1, day: 1)!, sex: .male, serial: s) }
            let f = try await b.post("/people", ["iin": future!.value, "last_name": "Иванов", "first_name": "Иван", "consent": "true"])
            #expect(f.body.contains("Дата рождения в будущем"))
            let noConsent = try await b.post("/people", ["iin": freshIIN(500).value, "last_name": "Иванов", "first_name": "Иван"])
            #expect(noConsent.body.contains("Без согласия регистрировать нельзя"))
            #expect(try await persons() == before)
            // A duplicate links to the existing record.
            let ok = try await b.post("/people", ["iin": freshIIN(600).value, "last_name": "Иванов", "first_name": "Иван", "consent": "true"])
            let url = try #require(ok.headers.first(name: .location))
            try await b.request(.GET, "/people/new")
            let dup = try await b.post("/people", ["iin": freshIIN(600).value, "last_name": "Иванов", "first_name": "Иван", "consent": "true"])
            #expect(dup.body.contains("уже зарегистрирован"))
            #expect(dup.body.contains(#"href="\#(url)""#))
        }
    }

    @Test func anOutOfOrderActionIsRefusedWithATranslatedMessage() async throws {
        try await withJumys(persons: 0) { app, store in
            let b = Browser(app)
            b.acceptLanguage = "kk"
            _ = try await b.signIn("caseworker.KZ-71")
            try await b.request(.GET, "/people/new")
            let created = try await b.post("/people", ["iin": freshIIN(700).value, "last_name": "Әлиев", "first_name": "Дамир", "categories[]": "unemployed", "consent": "true"])
            let personURL = try #require(created.headers.first(name: .location))
            try await b.request(.GET, personURL)
            let appURL = try #require(try await b.post("\(personURL)/applications", ["measure": "social_job"]).headers.first(name: .location))
            try await b.request(.GET, appURL)
            let r = try await b.post("\(appURL)/actions/complete", [:])
            #expect(r.status == .unprocessableEntity)
            #expect(r.body.contains("«Аяқтау» әрекетін «Қабылданды» жағдайында орындауға болмайды"))
            #expect(r.body.contains("error-summary"))
        }
    }

    @Test func theWorklistShowsTheDecisionDeadline() async throws {
        try await withJumys(persons: 0) { app, store in
            let b = Browser(app)
            _ = try await b.signIn("caseworker.KZ-71")
            try await b.request(.GET, "/people/new")
            let created = try await b.post("/people", ["iin": freshIIN(800).value, "last_name": "Омаров", "first_name": "Арман", "categories[]": "job_seeker", "consent": "true"])
            let personURL = try #require(created.headers.first(name: .location))
            try await b.request(.GET, personURL)
            let appURL = try #require(try await b.post("\(personURL)/applications", ["measure": "training"]).headers.first(name: .location))
            let appID = try #require(Int(appURL.split(separator: "/").last!))
            let due = try #require(try await CaseStore(store: store).application(appID, scope: .national)?.decision_due)
            let home = try await b.request(.GET, "/")
            // Due in ten working days: within the two weeks the worklist shows.
            #expect(home.body.contains(due))
            #expect(home.body.contains("/applications/\(appID)"))
        }
    }

    @Test func theAnalystSeesButCannotAct() async throws {
        try await withJumys(persons: 50) { app, store in
            let b = Browser(app)
            _ = try await b.signIn("analyst")
            #expect(try await b.request(.GET, "/people/new").status == .forbidden)
            let someone = try #require(try await PersonRecord.query(on: store.db).first())
            try await b.request(.GET, "/people/\(someone.id!)")
            #expect(try await b.post("/people/\(someone.id!)/applications", ["measure": "training"]).status == .forbidden)
        }
    }
}

@Suite struct CaseworkWebFixTests {
    @Test func reflectedValuesAreEscapedInAttributesAndForeignIdsAre404() async throws {
        try await withJumys(persons: 20) { app, store in
            let b = Browser(app)
            _ = try await b.signIn("caseworker.KZ-71")
            try await b.request(.GET, "/people/new")
            let r = try await b.post("/people", ["iin": "1", "last_name": #""><b id="x">bold</b>"#, "first_name": "A", "consent": "true"])
            #expect(r.status == .unprocessableEntity)
            #expect(!r.body.contains(#"<b id="x">"#))
            #expect(r.body.contains("&quot;&gt;&lt;b id=&quot;x&quot;&gt;"))
            // A person of another district: 404 for every casework post, not 500.
            let d75 = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "750200000").first()?.id)
            let iin = freshIIN(1500)
            _ = try await DemoData.insertPersons([.init(iin: iin, lastName: "Петрова", firstName: "Анна", middleName: nil, regionISO: "KZ-75", districtID: d75, isRural: false, phone: "+7 701 000 0001")], into: store, actor: .system)
            let foreign = try #require(try await PersonRecord.query(on: store.db).filter(\.$iin == iin.value).first()?.id)
            try await b.request(.GET, "/people")
            for path in ["categories", "household", "tsa", "applications", "consent"] {
                let res = try await b.post("/people/\(foreign)/\(path)", ["category": "unemployed", "from_date": "2021-01-01", "measure": "training", "tsa_recipient": "true", "consent": "true",
                                                                         "member_name": "X", "relation": "child", "member_birth_date": "2010-01-01", "member_sex": "male"])
                #expect(res.status == .notFound, "\(path)")
            }
        }
    }
}
