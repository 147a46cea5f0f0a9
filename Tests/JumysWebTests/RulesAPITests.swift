import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Testing
import Vapor
@testable import JumysWeb

@Suite struct RulesAPITests {
    @Test func calculateGivesTheValueAndItsExplanation() async throws {
        try await withJumys(persons: 0) { app, _ in
            let b = Browser(app)
            let r = try await b.request(.POST, "/api/v1/calculate", json: #"{"rule":"youth_practice_subsidy","date":"2021-05-01","inputs":{"month":1}}"#)
            #expect(r.status == .ok)
            #expect(r.body.contains(#""result":"50172.40""#))
            #expect(r.body.contains(#""parameter":"monthly_calculation_index","value":"2917","effective_from":"2021-01-01""#))
            let s = try await b.request(.POST, "/api/v1/calculate", json: #"{"rule":"youth_hostel_eligible","date":"2021-05-01","inputs":{"age":29,"has_contract":true,"in_housing_savings":false}}"#)
            #expect(s.body.contains(#""result":{"eligible":false,"reasons":["not_in_housing_savings"]}"#))
            let alloc = try await b.request(.POST, "/api/v1/calculate", json: #"{"rule":"regional_limit_allocation","date":"2021-05-01","inputs":{"total":"100","labour_force":{"KZ-71":689.9,"KZ-75":1098.0}}}"#)
            #expect(alloc.body.contains(#""result":{"KZ-71":"39.00","KZ-75":"61.00"}"#))
        }
    }

    @Test func badInputIs422NamingTheInput() async throws {
        try await withJumys(persons: 0) { app, _ in
            let b = Browser(app)
            let r = try await b.request(.POST, "/api/v1/calculate", json: #"{"rule":"social_job_subsidy","date":"2021-05-01","inputs":{"wage":"lots","month":1}}"#)
            #expect(r.status == .unprocessableEntity)
            #expect(r.headers.contentType?.description.hasPrefix("application/problem+json") == true)
            #expect(r.body.contains("inputs.wage"))
            #expect(try await b.request(.POST, "/api/v1/calculate", json: #"{"rule":"nope"}"#).status == .unprocessableEntity)
            #expect(try await b.request(.POST, "/api/v1/calculate", json: #"not json"#).status == .unprocessableEntity)
            let early = try await b.request(.POST, "/api/v1/calculate", json: #"{"rule":"referral_quota_works","date":"2019-01-01","inputs":{"jobs_created":10}}"#)
            #expect(early.status == .unprocessableEntity)
            #expect(early.body.contains("not in force"))
        }
    }

    @Test func rulesAndParametersAreListed() async throws {
        try await withJumys(persons: 0) { app, _ in
            let b = Browser(app)
            let rules = try await b.request(.GET, "/api/v1/rules")
            for spec in RuleCatalogue.all { #expect(rules.body.contains(#""name":"\#(spec.name)""#)) }
            let p = try await b.request(.GET, "/api/v1/parameters/monthly_calculation_index?date=2020-04-01")
            #expect(p.body.contains(#""value":2778,"effective_from":"2020-04-01""#))
            #expect(try await b.request(.GET, "/api/v1/parameters/no_such_thing").status == .notFound)
        }
    }

    @Test func anAdministratorsValueIsAuditedAndApplies() async throws {
        try await withJumys(persons: 0) { app, store in
            let admin = Browser(app)
            _ = try await admin.signIn("admin")
            let page = try await admin.request(.GET, "/parameters/monthly_calculation_index")
            #expect(page.status == .ok)
            #expect(page.body.contains("2917"))
            let bad = try await admin.post("/parameters/monthly_calculation_index", ["effective_from": "2027-13-01", "value": "abc", "reference": ""])
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.contains("error-summary"))
            let ok = try await admin.post("/parameters/monthly_calculation_index", ["effective_from": "2027-01-01", "value": "4600", "reference": "Budget law 2027"])
            #expect(ok.status == .seeOther)
            let r = try await admin.request(.POST, "/api/v1/calculate", json: #"{"rule":"youth_practice_subsidy","date":"2027-01-01","inputs":{"month":1}}"#)
            #expect(r.body.contains(#""result":"79120.00""#))
            let before = try await admin.request(.POST, "/api/v1/calculate", json: #"{"rule":"youth_practice_subsidy","date":"2026-12-31","inputs":{"month":1}}"#)
            #expect(before.body.contains(#""result":"74390.00""#))
            struct R: Decodable { let entity: String; let actor: String }
            let audit = try await store.sql.raw("SELECT entity, actor FROM audit_log ORDER BY seq DESC LIMIT 1").first(decoding: R.self)
            #expect(audit?.entity == "parameter_value" && audit?.actor == "admin")
            // Only an administrator may add a value.
            let cw = Browser(app)
            _ = try await cw.signIn("caseworker.KZ-71")
            try await cw.request(.GET, "/parameters/monthly_calculation_index")
            #expect(try await cw.post("/parameters/monthly_calculation_index", ["effective_from": "2028-01-01", "value": "1", "reference": "x"]).status == .forbidden)
        }
    }

    @Test func calendarExceptionsMoveDeadlines() async throws {
        try await withJumys(persons: 0) { app, _ in
            let admin = Browser(app)
            _ = try await admin.signIn("admin")
            try await admin.request(.GET, "/calendar?year=2021")
            let r = try await admin.post("/calendar", ["date": "2021-07-20", "working": "false", "note": "Kurban ait"])
            #expect(r.status == .seeOther)
            let page = try await admin.request(.GET, "/calendar?year=2021")
            #expect(page.body.contains("Kurban ait"))
            let calc = try await admin.request(.POST, "/api/v1/calculate", json: #"{"rule":"notification_deadline","date":"2021-07-19","inputs":{"decision_date":"2021-07-19"}}"#)
            #expect(calc.body.contains(#""result":"2021-07-23""#))
            try await admin.post("/calendar/2021-07-20/delete", [:])
            let again = try await admin.request(.POST, "/api/v1/calculate", json: #"{"rule":"notification_deadline","date":"2021-07-19","inputs":{"decision_date":"2021-07-19"}}"#)
            #expect(again.body.contains(#""result":"2021-07-22""#))
        }
    }
}
