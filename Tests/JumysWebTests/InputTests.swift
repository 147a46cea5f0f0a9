import Foundation
import Testing
import Vapor
import FluentKit
import JumysStore
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

    /// A JSON body is checked against its operation's schema in the OpenAPI document: `true`, `null` or a list where
    /// text goes, `"yes"` or `1` where a boolean goes, a list of numbers where a list of words goes and text over the
    /// declared length are refused with 422 naming the field, and nothing is written.
    @Test func jsonBodiesOfTheWrongTypeAreRefusedByTheDocumentsSchema() async throws {
        try await withJumys(persons: 0) { app, store in
            let b = Browser(app)
            let token = try await apiToken(app, "caseworker.KZ-71")
            let before = try await PersonRecord.query(on: store.db).count()
            let person = #""iin":"900101301233","last_name":"Ахметов","first_name":"Ерлан","consent":true"#
            for (body, field, code) in [
                (#"{\#(person),"middle_name":true}"#, "middle_name", "json_string"),
                (#"{\#(person),"middle_name":null}"#, "middle_name", "json_string"),
                (#"{\#(person),"settlement":["Астана"]}"#, "settlement", "json_string"),
                (#"{\#(person),"rural":"yes"}"#, "rural", "json_boolean"),
                (#"{\#(person),"rural":1}"#, "rural", "json_boolean"),
                (#"{\#(person),"district_id":"3"}"#, "district_id", "json_integer"),
                (#"{\#(person),"categories":"unemployed"}"#, "categories", "json_array"),
                (#"{\#(person),"categories":[1,2]}"#, "categories[0]", "json_string"),
                (#"{\#(person),"last_name":"\#(String(repeating: "Ы", count: 101))"}"#, "last_name", "too_long"),
            ] {
                let r = try await b.request(.POST, "/api/v1/persons", json: body, bearer: token)
                #expect(r.status == .unprocessableEntity && r.body.contains(#""field":"\#(field)""#) && r.body.contains(#""code":"\#(code)""#), "\(field): \(r.body.prefix(300))")
            }
            // Money goes as text or a number; a boolean is neither. A nested list is checked item by item.
            let vacancy = try await b.request(.POST, "/api/v1/vacancies", json: #"{"title":"Каменщик","isco":"7112","wage":true,"places":1,"valid_from":"2026-01-01","valid_until":"2026-02-01"}"#, bearer: token)
            #expect(vacancy.status == .unprocessableEntity && vacancy.body.contains(#""code":"json_string_or_number""#))
            #expect(try await PersonRecord.query(on: store.db).count() == before)
            // A visitor still hears 401 first (the body is not looked at), and a well-typed body goes through.
            #expect(try await b.request(.POST, "/api/v1/persons", json: #"{"rural":"yes"}"#).status == .unauthorized)
            #expect(try await b.request(.POST, "/api/v1/persons", json: #"{\#(person),"rural":false,"categories":["unemployed"]}"#, bearer: token).status == .created)
            // The open rules service is checked without a sign-in.
            let calc = try await b.request(.POST, "/api/v1/calculate", json: #"{"rule":"subsidy","inputs":[]}"#)
            #expect(calc.status == .unprocessableEntity && calc.body.contains(#""code":"json_object""#))
        }
    }
}
