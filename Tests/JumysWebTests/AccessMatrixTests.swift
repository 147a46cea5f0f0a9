import Foundation
import JumysStore
import Testing
import Vapor
@testable import JumysWeb

/// The access matrix's first columns, generated over every route the application registers: a visitor who has not
/// signed in gets nothing but the public pages (a page sends them to sign in, the API answers 401), and a read-only
/// user can post nothing but the few posts that change no record. A new route is covered the moment it is
/// registered; a new public route must be declared here.
@Suite struct AccessMatrixTests {
    /// Routes anyone may open without signing in: sign-in itself, operations, static files, the public portal
    /// and the API's own sign-in and description.
    static let publicRoutes: Set<String> = [
        "GET /signin", "POST /signin", "GET /lang/:code", "GET /healthz", "GET /readyz", "GET /metrics", "GET /static/app.css", "GET /static/tables.js",
        "GET /portal", "GET /portal/vacancies", "GET /portal/courses", "GET /portal/measures", "GET /portal/apply", "POST /portal/apply",
        "POST /api/v1/auth/token", "GET /api/v1/openapi.json", "GET /api",
        // The rules as a service hold the law, not personal data.
        "GET /api/v1/rules", "POST /api/v1/calculate", "GET /api/v1/parameters/:name",
    ]

    static func pattern(_ route: Route) -> String {
        "\(route.method.rawValue) /" + route.path.map { c -> String in
            switch c {
            case .constant(let s): return s
            case .parameter(let p): return ":\(p)"
            case .anything: return "*"
            case .catchall: return "**"
            }
        }.joined(separator: "/")
    }

    /// A concrete address for a pattern: every parameter gets a plausible value (records that exist in the demo
    /// data where an id is asked for), so the route itself answers, not the router's 404.
    static func address(_ route: Route) -> String {
        "/" + route.path.map { c -> String in
            switch c {
            case .constant(let s): return s
            case .parameter(let p):
                switch p {
                case "lang": return "ru"
                case "month": return "2026-10"
                case "report": return "roadmap_monthly"
                case "region": return "KZ-35"
                case "kind": return "persons"
                case "file": return "persons.csv"
                case "year": return "2026"
                case "direction": return "rm_projects"
                case "step": return "propose"
                case "decision": return "accept"
                default: return "1"
                }
            case .anything, .catchall: return "x"
            }
        }.joined(separator: "/")
    }

    @Test func aVisitorWhoHasNotSignedInReachesOnlyThePublicRoutes() async throws {
        try await withJumys(persons: 20) { app, _ in
            var checked = 0, wrong: [String] = []
            let patterns = Set(app.routes.all.map(Self.pattern))
            #expect(Self.publicRoutes.subtracting(patterns).sorted() == [], "declared public but not registered")
            for route in app.routes.all where !Self.publicRoutes.contains(Self.pattern(route)) {
                let b = Browser(app)
                // A form post carries a valid anonymous CSRF token, so the answer is about who is asking, not the token.
                _ = try await b.request(.GET, "/signin")
                let api = route.path.first.map { if case .constant("api") = $0 { true } else { false } } ?? false
                let r = route.method == .GET || api
                    ? try await b.request(route.method, Self.address(route), json: api && route.method != .GET ? "{}" : nil)
                    : try await b.post(Self.address(route), [:])
                checked += 1
                let location = r.headers.first(name: .location) ?? ""
                let ok = api ? r.status == .unauthorized : (r.status == .seeOther || r.status == .found) && location.hasPrefix("/signin")
                if !ok { wrong.append("\(Self.pattern(route)) → \(r.status.code) \(location)") }
            }
            #expect(wrong == [], "routes open to a visitor who has not signed in")
            #expect(checked > 150)
        }
    }

    @Test func aReadOnlyUserCanPostNothingThatChangesARecord() async throws {
        try await withJumys(persons: 20) { app, _ in
            let analyst = Browser(app)
            _ = try await analyst.signIn("analyst")
            _ = try await analyst.request(.GET, "/")
            let token = try await apiToken(app, "analyst")
            // Posts that change nothing of the record: the analyst's own session, searches, calculations, report packs.
            let allowed: Set<String> = ["POST /signin", "POST /signout", "POST /people/search", "POST /api/v1/auth/token", "POST /reports/:report/:month/pack",
                                        "POST /portal/apply"]
            var wrong: [String] = [], checked = 0
            for route in app.routes.all where route.method == .POST && !allowed.contains(Self.pattern(route)) {
                let api = route.path.first.map { if case .constant("api") = $0 { true } else { false } } ?? false
                let r = api ? try await analyst.request(.POST, Self.address(route), json: "{}", bearer: token) : try await analyst.post(Self.address(route), [:])
                checked += 1
                if r.status != .forbidden { wrong.append("\(Self.pattern(route)) → \(r.status.code)") }
            }
            #expect(wrong == [], "posts a read-only user was not refused")
            #expect(checked > 60)
        }
    }
}
