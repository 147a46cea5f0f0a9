import FluentKit
import Foundation
import JumysDomain
import JumysStore
import Testing
import Vapor
import VaporTesting
@testable import JumysWeb

@Suite struct OperationsTests {
    @Test func healthReadinessAndMetrics() async throws {
        try await withJumys(persons: 10) { app, _ in
            let b = Browser(app)
            #expect(try await b.request(.GET, "/healthz").status == .ok)
            #expect(try await b.request(.GET, "/readyz").body == "ready\n")
            try await b.request(.GET, "/signin")
            let m = try await b.request(.GET, "/metrics")
            #expect(m.status == .ok)
            #expect(m.body.contains(#"jumys_http_requests_total{method="GET",route="/signin",status="200"}"#))
            #expect(m.body.contains("jumys_http_request_duration_seconds_bucket"))
        }
    }

    @Test func securityHeadersOnEveryPage() async throws {
        try await withJumys(persons: 10) { app, _ in
            let r = try await Browser(app).request(.GET, "/signin")
            #expect(r.headers.first(name: "Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
            #expect(r.headers.first(name: "Content-Security-Policy")?.contains("unsafe-inline") == false)
            #expect(r.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(r.headers.first(name: "Referrer-Policy") == "no-referrer")
            #expect(r.headers.first(name: .cacheControl) == "no-store")
            // The pages' one script comes from the server itself (script-src 'self'); no page has an inline script.
            #expect(r.body.contains("<script src=\"/static/tables.js\"") && !r.body.contains("<script>"))
            let js = try await Browser(app).request(.GET, "/static/tables.js")
            #expect(js.status == .ok && js.headers.contentType?.description.hasPrefix("text/javascript") == true && js.body.contains("aria-sort"))
        }
    }
}

@Suite struct LanguageTests {
    @Test func kazakhByDefaultRussianWhenAskedAndTheSwitchSticks() async throws {
        try await withJumys(persons: 10) { app, _ in
            let b = Browser(app)
            #expect(try await b.request(.GET, "/signin").body.contains("Жүйеге кіру"))
            b.acceptLanguage = "ru-RU,ru;q=0.9,en;q=0.5"
            #expect(try await b.request(.GET, "/signin").body.contains("Вход в систему"))
            let sw = try await b.request(.GET, "/lang/en?back=/signin")
            #expect(sw.status == .seeOther)
            #expect(sw.headers.first(name: .location) == "/signin")
            #expect(try await b.request(.GET, "/signin").body.contains(#"<html lang="en">"#))
            // No open redirect through the switch.
            #expect(try await b.request(.GET, "/lang/kk?back=//evil.example").headers.first(name: .location) == "/")
        }
    }

    @Test func negotiation() {
        #expect(Lang.negotiate(acceptLanguage: nil) == .kk)
        #expect(Lang.negotiate(acceptLanguage: "de-DE, fr;q=0.8") == .kk)
        #expect(Lang.negotiate(acceptLanguage: "en;q=0.4, ru;q=0.8") == .ru)
        #expect(Lang.negotiate(acceptLanguage: "kk-KZ") == .kk)
    }
}

@Suite struct SignInTests {
    @Test func signInRenewsTheSessionAndSignOutEndsIt() async throws {
        try await withJumys(persons: 10) { app, _ in
            let b = Browser(app)
            let first = try await b.signIn("caseworker.KZ-71")
            #expect(first.status == .seeOther)
            let token1 = try #require(b.cookies["jumys_session"])
            let home = try await b.request(.GET, "/")
            #expect(home.status == .ok)
            #expect(home.body.contains("Айгүл Серікова"))
            #expect(home.body.contains("Есіл ауданы, Астана"))
            // Signing in again issues a new session id; the old one stops working.
            try await b.request(.GET, "/signin")
            try await b.post("/signin", ["login": "caseworker.KZ-71", "password": "demo"])
            let token2 = try #require(b.cookies["jumys_session"])
            #expect(token1 != token2)
            let old = Browser(app); old.cookies["jumys_session"] = token1
            #expect(try await old.request(.GET, "/").status == .seeOther)
            // Sign out.
            try await b.request(.GET, "/")
            #expect(try await b.post("/signout", [:]).status == .seeOther)
            #expect(try await b.request(.GET, "/").headers.first(name: .location) == "/signin")
        }
    }

    @Test func sessionCookieIsSecureHTTPOnlySameSite() async throws {
        try await withJumys(persons: 10) { app, _ in
            let b = Browser(app)
            try await b.request(.GET, "/signin")
            let r = try await b.post("/signin", ["login": "admin", "password": "demo"])
            let header = r.headers[.setCookie].first { $0.hasPrefix("jumys_session=") } ?? ""
            #expect(header.contains("HttpOnly"))
            #expect(header.contains("Secure"))
            #expect(header.contains("SameSite=Lax"))
        }
    }

    @Test func formsWithoutTheirTokenAreRefused() async throws {
        try await withJumys(persons: 10) { app, _ in
            let b = Browser(app)
            try await b.request(.GET, "/signin")
            let r = try await b.request(.POST, "/signin", form: ["login": "admin", "password": "demo", "_csrf": "0000"])
            #expect(r.status == .forbidden)
            _ = try await b.signIn("admin")
            let r2 = try await b.request(.POST, "/admin/users", form: ["login": "x1", "_csrf": "bad"])
            #expect(r2.status == .forbidden)
        }
    }

    @Test func tenWrongPasswordsLockTheAccountWithATranslatedMessage() async throws {
        try await withJumys(persons: 10) { app, _ in
            let b = Browser(app)
            b.acceptLanguage = "ru"
            for _ in 0..<9 {
                let r = try await b.signIn("caseworker.KZ-75", password: "wrong")
                #expect(r.status == .unauthorized)
                #expect(r.body.contains("Неверный логин или пароль"))
            }
            let tenth = try await b.signIn("caseworker.KZ-75", password: "wrong")
            #expect(tenth.status == .tooManyRequests)
            // Even the right password is refused while locked.
            let right = try await b.signIn("caseworker.KZ-75", password: "demo")
            #expect(right.status == .tooManyRequests)
            #expect(right.body.contains("Слишком много неудачных попыток"))
            #expect(b.cookies["jumys_session"] == nil)
            // Another account is not affected.
            #expect(try await Browser(app).signIn("caseworker.KZ-71").status == .seeOther)
            // The API refuses the locked account too.
            let api = try await Browser(app).request(.POST, "/api/v1/auth/token", json: #"{"login":"caseworker.KZ-75","password":"demo"}"#)
            #expect(api.status == .tooManyRequests)
        }
    }
}

@Suite struct ScopeTests {
    func personOf(district kato: String, _ store: Store) async throws -> PersonRecord {
        let d = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == kato).first())
        return try #require(try await PersonRecord.query(on: store.db).filter(\.$districtID == d.id!).first())
    }

    @Test func caseworkerSeesOnlyOwnDistrictAndOthersAre404() async throws {
        try await withJumys(persons: 800) { app, store in
            let b = Browser(app)
            _ = try await b.signIn("caseworker.KZ-71")
            let list = try await b.request(.GET, "/people")
            #expect(list.status == .ok)
            let own = try await personOf(district: "710300000", store)
            let foreign = try await personOf(district: "750200000", store)
            #expect(list.body.contains(own.iin))
            #expect(!list.body.contains(foreign.iin))
            #expect(try await b.request(.GET, "/people/\(own.id!)").status == .ok)
            #expect(try await b.request(.GET, "/people/\(foreign.id!)").status == .notFound)
            // Searching for the foreign IIN finds nothing.
            let search = try await b.post("/people/search", ["q": foreign.iin])
            #expect(search.status == .ok)
            #expect(!search.body.contains(foreign.lastName + " " + foreign.firstName))
            // The API answers the same.
            let token = try await apiToken(app, "caseworker.KZ-71")
            #expect(try await b.request(.GET, "/api/v1/persons/\(foreign.id!)", bearer: token).status == .notFound)
            let mine = try await b.request(.GET, "/api/v1/persons/\(own.id!)", bearer: token)
            #expect(mine.status == .ok)
            struct P: Decodable { let id: Int; let iin: String; let region: String; let district: D; struct D: Decodable { let kato: String } }
            let p = try JSONDecoder().decode(P.self, from: Data(mine.body.utf8))
            #expect(p.region == "KZ-71" && p.district.kato == "710300000" && p.iin == own.iin)
            struct L: Decodable { let items: [P]; let next_cursor: String? }
            let all = try JSONDecoder().decode(L.self, from: Data(try await b.request(.GET, "/api/v1/persons?limit=200", bearer: token).body.utf8))
            #expect(!all.items.isEmpty)
            #expect(all.items.allSatisfy { $0.district.kato == "710300000" })
        }
    }

    @Test func analystSeesEveryRegionAndCanChangeNothing() async throws {
        try await withJumys(persons: 300) { app, store in
            let token = try await apiToken(app, "analyst")
            let b = Browser(app)
            struct P: Decodable { let region: String }
            struct L: Decodable { let items: [P]; let next_cursor: String? }
            let page = try JSONDecoder().decode(L.self, from: Data(try await b.request(.GET, "/api/v1/persons?limit=200", bearer: token).body.utf8))
            #expect(Set(page.items.map(\.region)).count >= 5)
            _ = try await b.signIn("analyst")
            try await b.request(.GET, "/")
            let refused = try await b.post("/admin/users", ["login": "intruder", "display_name": "X", "role": "administrator", "password": "longenough123"])
            #expect(refused.status == .forbidden)
            #expect(try await UserRecord.query(on: store.db).filter(\.$login == "intruder").count() == 0)
            // Reading is allowed, including a search posted as a form.
            #expect(try await b.post("/people/search", ["q": "а"]).status == .ok)
        }
    }

    @Test func organisationRolesSeeNoPeople() async throws {
        try await withJumys(persons: 50) { app, _ in
            let token = try await apiToken(app, "contractor.demo")
            let r = try await Browser(app).request(.GET, "/api/v1/persons", bearer: token)
            #expect(r.status == .ok)
            #expect(r.body.contains(#""items":[]"#))
        }
    }

    @Test func apiWithoutTokenIsProblemJSON() async throws {
        try await withJumys(persons: 10) { app, _ in
            let r = try await Browser(app).request(.GET, "/api/v1/persons")
            #expect(r.status == .unauthorized)
            #expect(r.headers.contentType?.description.hasPrefix("application/problem+json") == true)
            #expect(r.body.contains(#""status":401"#))
            let bad = try await Browser(app).request(.POST, "/api/v1/auth/token", json: #"{"login":"admin","password":"nope"}"#)
            #expect(bad.status == .unauthorized)
        }
    }
}

@Suite struct AdministrationTests {
    @Test func adminCreatesAUserWhoCanSignIn() async throws {
        try await withJumys(persons: 10) { app, store in
            let b = Browser(app)
            _ = try await b.signIn("admin")
            let form = try await b.request(.GET, "/admin/users/new")
            #expect(form.status == .ok)
            let district = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "750100000").first())
            // A caseworker without a district and a short password are refused with the reasons.
            let bad = try await b.post("/admin/users", ["login": "new.cw", "display_name": "New", "role": "caseworker", "password": "short"])
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.contains("error-summary"))
            let ok = try await b.post("/admin/users", ["login": "new.cw", "display_name": "New caseworker", "role": "caseworker", "region_iso": "KZ-75", "district_id": String(district.id!), "password": "a-long-password"])
            #expect(ok.status == .seeOther)
            #expect(try await Browser(app).signIn("new.cw", password: "a-long-password").status == .seeOther)
            // The blank choices of the selects submit nothing (not the dash shown), so an analyst needs no region.
            #expect(form.body.contains("<option value>—</option>")) // an empty value attribute: submits ""
            try await b.request(.GET, "/admin/users/new")
            let analyst = try await b.post("/admin/users", ["login": "new.analyst", "display_name": "Analyst", "role": "analyst", "region_iso": "", "district_id": "", "organisation_id": "", "password": "a-long-password"])
            #expect(analyst.status == .seeOther)
            // Other roles cannot open the page.
            let cw = Browser(app)
            _ = try await cw.signIn("caseworker.KZ-71")
            #expect(try await cw.request(.GET, "/admin/users").status == .forbidden)
        }
    }
}

@Suite struct PrivacyTests {
    @Test func namesAndIINsNeverReachTheLogs() async throws {
        try await withJumys(persons: 100) { app, store in
            let someone = try #require(try await PersonRecord.query(on: store.db).first())
            let token = try await apiToken(app, "analyst")
            let b = Browser(app)
            try await b.request(.GET, "/api/v1/persons?q=\(someone.iin)", bearer: token)
            try await b.request(.GET, "/api/v1/persons?q=\(Browser.encode(someone.lastName))", bearer: token)
            _ = try await b.signIn("analyst")
            try await b.post("/people/search", ["q": someone.iin])
            try await b.request(.GET, "/people/\(someone.id!)")
            let lines = LogCapture.shared.all
            #expect(lines.contains { $0.contains("GET /api/v1/persons 200") })
            #expect(lines.filter { $0.contains(someone.iin) } == [])
            #expect(lines.filter { $0.contains(someone.lastName) } == [])
        }
    }

    @Test func scriptInANameIsShownAsText() async throws {
        try await withJumys(persons: 0) { app, store in
            let district = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "710300000").first())
            let iin = try #require(IIN.make(birthDate: CivilDate(year: 1995, month: 3, day: 3)!, sex: .female, serial: 1))
            _ = try await DemoData.insertPersons([.init(iin: iin, lastName: "<script>alert(1)</script>", firstName: "\"><img src=x>", middleName: "&amp;", regionISO: "KZ-71", districtID: district.id!, isRural: false, phone: "+7")], into: store, actor: .system)
            let b = Browser(app)
            _ = try await b.signIn("caseworker.KZ-71")
            let list = try await b.request(.GET, "/people")
            #expect(!list.body.contains("<script>alert(1)"))
            #expect(list.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!list.body.contains("<img src=x>"))
            // What a person typed is shown as typed, an entity's text too (the page's own escaping, not Plot's).
            #expect(list.body.contains("&amp;amp;"))
        }
    }
}
