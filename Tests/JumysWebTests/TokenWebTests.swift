import FluentKit
import Foundation
import JumysDomain
import JumysStore
import SQLKit
import Testing
import VaporTesting
@testable import JumysWeb

/// System tokens: an administrator issues one with a role, a region and API areas; the system reaches only those
/// areas and its region's records; every call is audited under its name; revoking ends it at once.
@Suite struct TokenWebTests {
    @Test func aSystemTokenWorksWithinItsAreasAndRegionUntilRevoked() async throws {
        try await withJumys(persons: 60) { app, store in
            let admin = Browser(app)
            try await admin.signIn("admin")
            #expect(try await admin.request(.GET, "/admin/tokens").status == .ok)
            let csrf = admin.lastCSRF ?? ""
            func issue(_ body: String) async throws -> Browser.Result {
                try await admin.request(.POST, "/admin/tokens", raw: (.urlEncodedForm, body + "&_csrf=" + csrf))
            }
            let bad = try await issue("name=Bad%20Name&role=caseworker&region_iso=")
            #expect(bad.status == .unprocessableEntity && bad.body.contains("error-summary"))
            let ok = try await issue("name=labour-market&role=caseworker&region_iso=KZ-15&areas%5B%5D=persons&areas%5B%5D=imports")
            #expect(ok.status == .ok)
            let token = try #require(ok.body.firstMatch(of: /id="issued-token">(jst_[0-9a-f]+)</).map { String($0.1) })
            // Only the hash is stored.
            struct H: Decodable { let token_hash: String }
            let stored = try await store.sql.raw("SELECT token_hash FROM system_tokens").all(decoding: H.self)
            #expect(stored.count == 1 && stored[0].token_hash == Directory.hashToken(token) && !ok.body.contains(stored[0].token_hash))
            let listed = try await admin.request(.GET, "/admin/tokens").body
            #expect(listed.contains("labour-market") && !listed.contains(token))

            let b = Browser(app)
            let persons = try await b.request(.GET, "/api/v1/persons?limit=200", bearer: token)
            #expect(persons.status == .ok)
            struct Page: Decodable { struct P: Decodable { let region: String }; let items: [P] }
            let page = try JSONDecoder().decode(Page.self, from: persons.bytes)
            #expect(!page.items.isEmpty && page.items.allSatisfy { $0.region == "KZ-15" })
            // Outside its areas: 403; its region's persons only.
            #expect(try await b.request(.GET, "/api/v1/loans", bearer: token).status == .forbidden)
            #expect(try await b.request(.GET, "/api/v1/projects/board", bearer: token).status == .forbidden)
            struct I: Decodable { let id: Int }
            let elsewhere = try #require(try await store.sql.raw("SELECT id FROM persons WHERE region_iso <> 'KZ-15' LIMIT 1").first(decoding: I.self))
            #expect(try await b.request(.GET, "/api/v1/persons/\(elsewhere.id)", bearer: token).status == .notFound)
            // It cannot sign in to the pages.
            let pages = Browser(app)
            #expect(try await pages.signIn("sys.labour-market", password: "!").status != .seeOther)
            // Every call is in the audit log under the system's name, with the route pattern and the status.
            struct A: Decodable { let after: String? }
            let calls = try await store.sql.raw("SELECT after FROM audit_log WHERE action = 'api_call' AND actor = 'sys.labour-market' ORDER BY seq").all(decoding: A.self).compactMap(\.after)
            #expect(calls.count == 4)
            #expect(calls.contains { $0.contains("/api/v1/persons/:id") && $0.contains("404") } && calls.contains { $0.contains("403") })
            #expect(!calls.joined().contains("/persons/\(elsewhere.id)"))
            // Revoked: the next call is 401.
            struct T: Decodable { let id: Int }
            let id = try #require(try await store.sql.raw("SELECT id FROM system_tokens").first(decoding: T.self)).id
            _ = try await admin.request(.GET, "/admin/tokens")
            #expect(try await admin.post("/admin/tokens/\(id)/revoke", [:]).status == .seeOther)
            #expect(try await b.request(.GET, "/api/v1/persons", bearer: token).status == .unauthorized)
            #expect(try await admin.request(.GET, "/admin/tokens").body.contains("tag late"))
            // Only an administrator manages tokens.
            let cw = Browser(app)
            try await cw.signIn("caseworker.KZ-71")
            #expect(try await cw.request(.GET, "/admin/tokens").status == .forbidden)
        }
    }
}
