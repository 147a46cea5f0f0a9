import FluentKit
import Foundation
import JumysDomain
import JumysStore
import SQLKit
import Testing
import VaporTesting
@testable import JumysWeb

/// A creating request retried with its Idempotency-Key creates once and gets the first answer again; the key is
/// bound to its request and to its user; a failed request keeps nothing.
@Suite struct IdempotencyTests {
    @Test func aRetriedCreateWithItsKeyCreatesOnce() async throws {
        try await withJumys(persons: 0) { app, store in
            let token = try await apiToken(app, "caseworker.KZ-71")
            let b = Browser(app)
            let iin = IIN.make(birthDate: CivilDate(year: 1990, month: 1, day: 2)!, sex: .male, serial: 77) ?? IIN.make(birthDate: CivilDate(year: 1990, month: 1, day: 2)!, sex: .male, serial: 78)!
            let body = #"{"iin":"\#(iin.value)","last_name":"Ахметов","first_name":"Ерлан","categories":["unemployed"],"consent":true}"#
            let key = [("Idempotency-Key", "8a1f6c2e-create-person-1")]
            let first = try await b.request(.POST, "/api/v1/persons", json: body, headers: key, bearer: token)
            #expect(first.status == .created && first.headers.first(name: "Idempotent-Replayed") == nil)
            let again = try await b.request(.POST, "/api/v1/persons", json: body, headers: key, bearer: token)
            #expect(again.status == .created && again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(again.body == first.body && again.headers.first(name: .location) == first.headers.first(name: .location))
            struct N: Decodable { let n: Int }
            #expect(try await store.sql.raw("SELECT COUNT(*) AS n FROM persons").first(decoding: N.self)?.n == 1)
            // The same key with another request: refused, nothing written.
            let other = try await b.request(.POST, "/api/v1/persons", json: body.replacingOccurrences(of: "Ерлан", with: "Ержан"), headers: key, bearer: token)
            #expect(other.status == .unprocessableEntity && other.headers.contentType?.subType == "problem+json")
            // A failed request keeps nothing: corrected, the same key then runs.
            let badKey = [("Idempotency-Key", "second")]
            let bad = try await b.request(.POST, "/api/v1/persons", json: #"{"iin":"1","last_name":"","first_name":"","consent":false}"#, headers: badKey, bearer: token)
            #expect(bad.status == .unprocessableEntity)
            let iin2 = IIN.make(birthDate: CivilDate(year: 1991, month: 3, day: 4)!, sex: .female, serial: 12) ?? IIN.make(birthDate: CivilDate(year: 1991, month: 3, day: 4)!, sex: .female, serial: 13)!
            let fixed = try await b.request(.POST, "/api/v1/persons", json: body.replacingOccurrences(of: iin.value, with: iin2.value), headers: badKey, bearer: token)
            #expect(fixed.status == .created && fixed.headers.first(name: "Idempotent-Replayed") == nil)
            // Keys are per user; a malformed key is refused.
            let admin = try await apiToken(app, "admin")
            let adminFirst = try await b.request(.POST, "/api/v1/persons", json: body, headers: key, bearer: admin)
            #expect(adminFirst.status == .unprocessableEntity && adminFirst.headers.first(name: "Idempotent-Replayed") == nil)   // a duplicate IIN, run for real
            #expect(try await b.request(.POST, "/api/v1/persons", json: body, headers: [("Idempotency-Key", String(repeating: "k", count: 201))], bearer: token).status == .unprocessableEntity)
        }
    }
}
