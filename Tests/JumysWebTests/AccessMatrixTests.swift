import Foundation
import JumysDomain
import JumysStore
import SQLKit
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

    /// The write gate names only routes that exist (a renamed route would otherwise fall out of the gate silently).
    @Test func theWriteGateNamesRegisteredRoutes() async throws {
        try await withJumys(persons: 0) { app, _ in
            let patterns = Set(app.routes.all.map(Self.pattern))
            #expect(Set(WriteGate.rules.keys).subtracting(patterns).sorted() == [])
            #expect(WriteGate.roles(method: .POST, path: "/limits/allocations/7/approve") == [.commissionMember])
            #expect(WriteGate.roles(method: .POST, path: "/limits/2026/rm_projects/KZ-35") == [.akimatOfficer])
            #expect(WriteGate.roles(method: .POST, path: "/people/search") == nil)
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

/// The whole access matrix: every registered route, pages and API, asked by every demonstration user and by a visitor
/// who has not signed in, against the answers declared in `access-matrix.txt`. The users include a second user of
/// the same role in another territory or organisation (caseworkers of three districts, akimats, commissions and
/// coordinators of two regions, three contractors), and every address names a real record of a known territory:
/// casework in the Yesil district of Astana, projects in Karaganda Region, loans of the demo lender. A route without
/// a row, a row without a route, a changed answer or any 5xx fails.
///
/// `JUMYS_RECORD_ACCESS_MATRIX=1 swift test --filter AccessMatrix` writes the answers found to the file, to be read
/// through and committed after a deliberate change.
@Suite struct FullAccessMatrixTests {
    static let users = ["-", "admin", "analyst", "ministry.officer", "working-group", "interagency",
                        "coordinator.KZ-71", "coordinator.KZ-35", "akimat.KZ-71", "akimat.KZ-35", "akim.350300000", "commission.KZ-71", "commission.KZ-35",
                        "caseworker.KZ-71", "caseworker.KZ-75", "caseworker.KZ-35", "contractor.demo", "contractor.KZ-35", "subcontractor.KZ-35",
                        "lender.demo", "business.KZ-35", "infra.KZ-35"]
    static var file: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("access-matrix.txt") }

    /// One letter per answer.
    static func letter(_ r: Browser.Result) -> Character {
        let location = r.headers.first(name: .location) ?? ""
        switch r.status.code {
        case 401: return "S"
        case 300..<400 where location.hasPrefix("/signin"): return "S"
        case 200..<400: return "A"
        case 403: return "F"
        case 404: return "N"
        case 400, 409, 413, 415, 422: return "V"
        case 500...: return "X"
        default: return "?"
        }
    }

    /// The records the addresses name, by the kind of record a path segment stands for.
    static func records(_ sql: any SQLDatabase) async throws -> [String: Int] {
        struct R: Decodable { let id: Int }
        func first(_ q: String) async throws -> Int { try await sql.raw("\(unsafeRaw: q)").first(decoding: R.self)?.id ?? 999_999 }
        let yesil = "(SELECT id FROM districts WHERE kato = '710300000')"
        let project = try await first("SELECT id FROM projects WHERE name LIKE 'Топар%' ORDER BY id LIMIT 1")
        let contract = try await first("SELECT id FROM contracts WHERE district_id = \(yesil) ORDER BY id LIMIT 1")
        return [
            "person": try await first("SELECT person_id AS id FROM contracts WHERE id = \(contract)"),
            "application": try await first("SELECT application_id AS id FROM contracts WHERE id = \(contract)"),
            "contract": contract,
            "obligation": try await first("SELECT id FROM contract_obligations WHERE contract_id = \(contract) ORDER BY id LIMIT 1"),
            "referral": try await first("SELECT id FROM referrals WHERE district_id = \(yesil) ORDER BY id LIMIT 1"),
            "vacancy": try await first("SELECT id FROM vacancies WHERE district_id = \(yesil) ORDER BY id LIMIT 1"),
            "placement": try await first("SELECT id FROM placements WHERE district_id = \(yesil) ORDER BY id LIMIT 1"),
            "training": try await first("SELECT id FROM training_referrals WHERE district_id = \(yesil) ORDER BY id LIMIT 1"),
            "relocation": try await first("SELECT application_id AS id FROM relocation_applications WHERE region_iso = 'KZ-71' ORDER BY application_id LIMIT 1"),
            "business": try await first("SELECT application_id AS id FROM business_applications WHERE region_iso = 'KZ-35' ORDER BY application_id LIMIT 1"),
            "conclusion": try await first("SELECT id FROM conclusion_requests WHERE region_iso = 'KZ-35' ORDER BY id LIMIT 1"),
            "online": try await first("SELECT id FROM online_applications WHERE region_iso = 'KZ-71' ORDER BY id LIMIT 1"),
            "dwelling": try await first("SELECT id FROM dwellings WHERE region_iso = 'KZ-71' ORDER BY id LIMIT 1"),
            "dwelling_allocation": try await first("SELECT id FROM dwelling_allocations WHERE region_iso = 'KZ-71' ORDER BY id LIMIT 1"),
            "settlement": try await first("SELECT id FROM settlements WHERE region_iso = 'KZ-35' ORDER BY id LIMIT 1"),
            "project": project,
            "hire": try await first("SELECT id FROM project_hires WHERE project_id = \(project) ORDER BY id LIMIT 1"),
            "loan": try await first("SELECT l.id FROM loans l JOIN users u ON u.organisation_id = l.lender_id WHERE u.login = 'lender.demo' ORDER BY l.id LIMIT 1"),
            "bond": try await first("SELECT id FROM bond_loans ORDER BY id LIMIT 1"),
            "import": try await first("SELECT id FROM import_jobs ORDER BY id LIMIT 1"),
            "job": try await first("SELECT id FROM background_jobs ORDER BY id LIMIT 1"),
            "token": try await first("SELECT id FROM system_tokens ORDER BY id LIMIT 1"),
            "limit_allocation": try await first("SELECT id FROM limit_allocations ORDER BY id LIMIT 1"),
            "limit_change": try await first("SELECT id FROM limit_changes ORDER BY id LIMIT 1"),
        ]
    }

    static func kind(after segment: String, in path: [PathComponent]) -> String {
        switch segment {
        case "people", "persons": "person"
        case "applications": "application"
        case "contracts": "contract"
        case "referrals": "referral"
        case "vacancies": "vacancy"
        case "placements": "placement"
        case "training", "training-referrals": "training"
        case "relocation": "relocation"
        case "business": "business"
        case "conclusions": "conclusion"
        case "online": "online"
        case "housing": "dwelling"
        case "allocations": path.contains { if case .constant("limits") = $0 { true } else { false } } ? "limit_allocation" : "dwelling_allocation"
        case "changes": "limit_change"
        case "settlements": "settlement"
        case "projects": "project"
        case "loans": "loan"
        case "bonds": "bond"
        case "imports": "import"
        case "jobs": "job"
        case "tokens": "token"
        default: "unknown"
        }
    }

    static func address(_ route: Route, _ ids: [String: Int], month: String, year: Int) -> String {
        var previous = ""
        return "/" + route.path.map { c -> String in
            defer { if case .constant(let s) = c { previous = s } }
            switch c {
            case .constant(let s): return s
            case .parameter(let p):
                switch p {
                case "id": return String(ids[kind(after: previous, in: route.path)] ?? 999_999)
                case "hire": return String(ids["hire"] ?? 999_999)
                case "oid": return String(ids["obligation"] ?? 999_999)
                case "lang", "code": return "ru"
                case "month": return month
                case "year": return String(year)
                case "report": return "roadmap_monthly"
                case "region": return "KZ-35"
                case "kind": return previous == "bonds" ? "use_report" : "persons"
                case "file": return "persons.csv"
                case "direction": return "rm_projects"
                case "step": return previous == "business" || route.path.count > 2 && route.path[0] == .constant("business") ? "conclusions" : "propose"
                case "decision": return "approve"
                case "action": return previous == "actions" ? "start_review" : "disburse"
                case "party": return "employer"
                case "plan": return "roadmap"
                case "n": return "1"
                case "name": return "monthly_calculation_index"
                case "date": return "\(year)-12-25"
                default: return "1"
                }
            case .anything, .catchall: return "x"
            }
        }.joined(separator: "/")
    }

    static func isAPI(_ route: Route) -> Bool { route.path.first.map { if case .constant("api") = $0 { true } else { false } } ?? false }

    /// The declared matrix: a route's pattern, then one letter per user.
    static func declared() throws -> [String: [Character]] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [:] }
        var rows: [String: [Character]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 + users.count else { Issue.record("a row of the wrong width: \(line)"); continue }
            rows["\(parts[0]) \(parts[1])"] = parts.dropFirst(2).map { $0.first! }
        }
        return rows
    }

    static func write(_ found: [String: [Character]]) throws {
        var text = """
        # The access matrix (FullAccessMatrixTests): every route × every demonstration user, and a visitor who has not signed in (-).
        # A answered (2xx, or a redirect elsewhere than sign-in)   V reached the handler, which refused the empty input (400, 409, 422)
        # F forbidden (403)   N not found (404: another territory's or organisation's record, or none)   S sign in first (401, or a redirect to /signin)
        # Casework records are in the Yesil district of Astana (KZ-71), projects, business applications and limits in Karaganda Region (KZ-35), loans of the demo lender.

        """
        for (i, u) in users.enumerated() { text += "# \(String(repeating: "| ", count: i))\(u)\n" }
        let width = found.keys.map(\.count).max() ?? 40
        for key in found.keys.sorted(by: { let a = $0.split(separator: " "), b = $1.split(separator: " "); return (a[1], a[0]) < (b[1], b[0]) }) {
            text += key.padding(toLength: width, withPad: " ", startingAt: 0) + " " + found[key]!.map(String.init).joined(separator: " ") + "\n"
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    @Test func everyRouteAnswersEveryUserAsDeclared() async throws {
        try await withJumys(persons: 0, prepare: { store in
            _ = try await NationalSeed(store: store).run(NationalSeed.Plan(scale: 0.002, months: 6), seed: 5)
        }) { app, store in
            _ = try await DemoData.loadProjects(into: store)
            _ = try await DemoData.loadFinance(into: store)
            let last = Days.today.adding(months: -1)
            let month = String(format: "%04d-%02d", last.year, last.month)
            // Records of the kinds the seed does not make: an online application to the Yesil district, a caseworker's
            // import and an analyst's report pack.
            struct D: Decodable { let id: Int }
            let yesil = try #require(try await store.sql.raw("SELECT id FROM districts WHERE kato = '710300000'").first(decoding: D.self)?.id)
            let visitor = Browser(app)
            _ = try await visitor.request(.GET, "/portal/apply")
            let iin = try #require(IIN.make(birthDate: CivilDate(year: 1996, month: 3, day: 4)!, sex: .female, serial: 4321))
            #expect(try await visitor.post("/portal/apply", ["iin": iin.value, "last_name": "Байтұрсынова", "first_name": "Інжу", "phone": "+7 705 111 2233",
                                                           "district_id": String(yesil), "measure": "youth_practice", "consent": "true", "website": ""]).status == .ok)
            let caseworker = Browser(app)
            _ = try await caseworker.signIn("caseworker.KZ-71")
            _ = try await caseworker.request(.GET, "/imports")
            #expect(try await caseworker.upload("/imports", file: "file", filename: "seekers.csv", content: "iin,last_name,first_name,district,consent\n1,А,Б,710300000,yes\n",
                                                fields: ["kind": "persons"]).status == .seeOther)
            let analyst = Browser(app)
            _ = try await analyst.signIn("analyst")
            _ = try await analyst.request(.GET, "/reports/programme_monthly/\(month)")
            #expect(try await analyst.post("/reports/programme_monthly/\(month)/pack", [:]).status == .seeOther)
            let ids = try await Self.records(store.sql)
            let routes = app.routes.all.sorted { AccessMatrixTests.pattern($0) < AccessMatrixTests.pattern($1) }
            // Each user's page client (signed in, with the CSRF token of the last page) and API token.
            var pages: [Browser] = [], tokens: [String?] = []
            for u in Self.users {
                let b = Browser(app)
                if u == "-" { _ = try await b.request(.GET, "/signin"); tokens.append(nil) } else {
                    _ = try await b.signIn(u)
                    _ = try await b.request(.GET, "/")
                    tokens.append(try await apiToken(app, u))
                }
                pages.append(b)
            }
            var found: [String: [Character]] = [:]
            func ask(_ route: Route, _ i: Int) async throws -> Character {
                let path = Self.address(route, ids, month: month, year: last.year)
                if Self.isAPI(route) {
                    let b = Browser(app)
                    return Self.letter(try await b.request(route.method, path, json: route.method == .GET ? nil : "{}", bearer: tokens[i]))
                }
                return Self.letter(route.method == .GET ? try await pages[i].request(.GET, path) : try await pages[i].post(path, [:]))
            }
            // Everything read first, then the posts, each user in turn; signing in and out come last.
            let last2 = ["POST /signin", "POST /signout"]
            let order = routes.filter { $0.method == .GET } + routes.filter { $0.method != .GET && !last2.contains(AccessMatrixTests.pattern($0)) }
                + last2.compactMap { p in routes.first { AccessMatrixTests.pattern($0) == p } }
            for route in order {
                var row: [Character] = []
                for i in Self.users.indices { row.append(try await ask(route, i)) }
                found[AccessMatrixTests.pattern(route)] = row
            }
            if ProcessInfo.processInfo.environment["JUMYS_RECORD_ACCESS_MATRIX"] != nil { try Self.write(found) }
            let declared = try Self.declared()
            #expect(Set(declared.keys).subtracting(found.keys).sorted() == [], "rows for routes that are not registered")
            #expect(Set(found.keys).subtracting(declared.keys).sorted() == [], "routes without a row in access-matrix.txt")
            var changed: [String] = [], errors: [String] = []
            for (key, row) in found.sorted(by: { $0.key < $1.key }) {
                for (i, a) in row.enumerated() where a == "X" { errors.append("\(key) as \(Self.users[i])") }
                guard let d = declared[key] else { continue }
                for i in row.indices where row[i] != d[i] { changed.append("\(key) as \(Self.users[i]): declared \(d[i]), answered \(row[i])") }
            }
            #expect(errors == [], "server errors")
            #expect(changed == [], "answers that differ from the declared matrix")
        }
    }
}
