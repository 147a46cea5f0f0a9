import Foundation
import Testing
import Vapor
@testable import JumysWeb

/// Text that is not UTF-8 or carries control characters is refused before any handler reads it, and numbers too
/// large for the rules' arithmetic are refused by the rules (found by the bad-input corpus: the first crashed the
/// server, a NUL failed in PostgreSQL, Windows-1251 was stored mangled or as nothing).
@Suite struct InputTests {
    @Test func controlCharactersAndOtherEncodingsAreRefusedWithA400() async throws {
        try await withJumys(persons: 5) { app, store in
            let b = Browser(app)
            _ = try await b.request(.GET, "/signin")
            let csrf = try #require(b.lastCSRF)
            // A NUL in a sign-in, percent-encoded: a page that says so, in the user's language.
            b.acceptLanguage = "ru"
            let nul = try await b.request(.POST, "/signin", raw: (.urlEncodedForm, "_csrf=\(csrf)&login=admin%00&password=demo"))
            #expect(nul.status == .badRequest && nul.body.contains("Отправленный текст не удаётся прочитать"))
            // Windows-1251 percent-escapes, and raw bytes that are not UTF-8.
            #expect(try await b.request(.POST, "/signin", raw: (.urlEncodedForm, "_csrf=\(csrf)&login=%C8%E2%E0%ED&password=demo")).status == .badRequest)
            #expect(try await b.request(.POST, "/signin", bytes: (.urlEncodedForm, Data("_csrf=\(csrf)&login=".utf8) + Data([0xFF, 0xFE]) + Data("&password=x".utf8))).status == .badRequest)
            // JSON with an escaped NUL, and a query with one; tab and line breaks stay allowed.
            let token = try await apiToken(app, "caseworker.KZ-71")
            let api = try await b.request(.POST, "/api/v1/persons", json: #"{"iin":"900101300123","last_name":"Ab\u0000cd","first_name":"A"}"#, bearer: token)
            #expect(api.status == .badRequest && api.headers.contentType?.subType == "problem+json")
            #expect(try await b.request(.GET, "/api/v1/persons?q=a%00b", bearer: token).status == .badRequest)
            #expect(try await b.request(.GET, "/api/v1/persons?q=a%09b", bearer: token).status == .ok)
            // The sign-in still works with clean text.
            #expect(try await b.signIn("admin").status == .seeOther)
        }
    }

    @Test func jobFiguresTooLargeForTheRulesAreRefusedNotACrash() async throws {
        try await withJumys(persons: 0) { app, _ in
            let b = Browser(app)
            for (rule, input) in [("referral_quota_works", "jobs_created"), ("referral_quota_permanent", "permanent_jobs"), ("rural_project_participant_jobs", "jobs_created")] {
                let r = try await b.request(.POST, "/api/v1/calculate", json: #"{"rule":"\#(rule)","inputs":{"\#(input)":"999999999999999"}}"#)
                #expect(r.status == .unprocessableEntity && r.body.contains("at most"), "\(rule)")
            }
        }
    }
}
