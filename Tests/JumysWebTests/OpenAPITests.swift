import Foundation
import Testing
import Vapor
import VaporTesting
@testable import JumysWeb

/// The OpenAPI document is true to the routes: every route registered under /api/v1 is documented with its method,
/// and every documented operation is registered. The readable page lists them all.
@Suite struct OpenAPITests {
    @Test func theDocumentAndTheRoutesAgree() async throws {
        try await withJumys(persons: 0) { app, _ in
            let b = Browser(app)
            let r = try await b.request(.GET, "/api/v1/openapi.json")
            #expect(r.status == .ok && r.headers.contentType == .json)
            let doc = try #require(try JSONSerialization.jsonObject(with: r.bytes) as? [String: Any])
            #expect(doc["openapi"] as? String == "3.1.0")
            let paths = try #require(doc["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, item) in paths { for m in item.keys where ["get", "post", "put", "patch", "delete"].contains(m) { documented.insert("\(m.uppercased()) \(path)") } }
            var registered = Set<String>()
            for route in app.routes.all {
                let parts = route.path.map { c -> String in
                    switch c {
                    case .constant(let s): return s
                    case .parameter(let p): return "{\(p)}"
                    case .anything: return "*"
                    case .catchall: return "**"
                    }
                }
                guard parts.count >= 2, parts[0] == "api", parts[1] == "v1" else { continue }
                registered.insert("\(route.method.rawValue) /" + parts.joined(separator: "/"))
            }
            #expect(registered.subtracting(documented).sorted() == [], "registered but not documented")
            #expect(documented.subtracting(registered).sorted() == [], "documented but not registered")
            #expect(registered.count > 50)
            // Every operation has an id, a summary and a tag.
            for (path, item) in paths {
                for (m, op) in item {
                    let o = op as? [String: Any]
                    #expect(o?["operationId"] is String && o?["summary"] is String && (o?["tags"] as? [String])?.isEmpty == false, "\(m) \(path)")
                }
            }
            let page = try await b.request(.GET, "/api")
            #expect(page.status == .ok)
            for p in paths.keys { #expect(page.body.contains(p), "\(p) on /api") }
        }
    }
}
