import Foundation
import JumysDomain
import JumysStore
import Plot
import Prometheus
import Vapor

/// /healthz, /readyz, /metrics and the stylesheet.
struct OperationsRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("healthz") { _ in
            Response(status: .ok, headers: ["Content-Type": "text/plain; charset=utf-8"], body: "ok\n")
        }
        routes.get("readyz") { req async -> Response in
            let up = await req.jumys.store.ping()
            return Response(status: up ? .ok : .serviceUnavailable, headers: ["Content-Type": "text/plain; charset=utf-8"],
                            body: .init(string: up ? "ready\n" : "database unreachable\n"))
        }
        routes.get("metrics") { req -> Response in
            var buffer: [UInt8] = []
            req.jumys.metrics.emit(into: &buffer)
            return Response(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"], body: .init(data: Data(buffer)))
        }
        routes.get("static", "app.css") { req -> Response in
            Response(status: .ok, headers: ["Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=3600"],
                     body: .init(string: req.jumys.stylesheet))
        }
        routes.get("static", "tables.js") { req -> Response in
            Response(status: .ok, headers: ["Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=3600"],
                     body: .init(string: req.jumys.tablesScript))
        }
    }
}

/// The home page of each role after sign-in.
struct HomeRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get(use: home)
    }

    @Sendable func home(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let scopeName = try await ScopeNames.describe(user.scope, store: req.jumys.store, lang: req.lang, translator: req.jumys.translator)
        let people = try await req.jumys.registry.count(scope: user.scope)
        let ctx = PageContext(req)
        var tiles: [(title: String, text: String, href: String)] = []
        if user.scope != .organisation(Int64(user.organisationID ?? -1)) {
            tiles.append((ctx.t("home.tile.people"), ctx.t("home.tile.people.text", ["count": String(people)]), "/people"))
        }
        if user.role == .administrator {
            tiles.append((ctx.t("home.tile.users"), ctx.t("home.tile.users.text"), "/admin/users"))
            tiles.append((ctx.t("home.tile.tokens"), ctx.t("home.tile.tokens.text"), "/admin/tokens"))
            tiles.append((ctx.t("home.tile.jobs"), ctx.t("home.tile.jobs.text"), "/jobs"))
        }
        tiles.append((ctx.t("home.tile.vacancies"), ctx.t("home.tile.vacancies.text"), "/vacancies"))
        if user.scope != .organisation(Int64(user.organisationID ?? -1)) {
            tiles.append((ctx.t("home.tile.payroll"), ctx.t("home.tile.payroll.text"), "/payroll"))
        }
        if user.role != .lender {
            tiles.append((ctx.t("home.tile.needs"), ctx.t("home.tile.needs.text"), "/needs"))
        }
        if user.canWrite && (user.doesCasework || user.role == .contractor) {
            tiles.append((ctx.t("home.tile.hires"), ctx.t("home.tile.hires.text"), "/referrals/import"))
        }
        if !ImportRoutes.kinds(for: user).isEmpty {
            tiles.append((ctx.t("home.tile.imports"), ctx.t("home.tile.imports.text"), "/imports"))
        }
        tiles.append((ctx.t("home.tile.exports"), ctx.t("home.tile.exports.text"), "/exports"))
        if user.organisationID != nil && [.lender, .authorityOfficer, .akimatOfficer, .administrator].contains(user.role) {
            tiles.insert((ctx.t("home.tile.conclusions"), ctx.t("home.tile.conclusions.text"), "/conclusions"), at: 0)
        }
        if user.scope != .organisation(Int64(user.organisationID ?? -1)) {
            tiles.append((ctx.t("home.tile.settlements"), ctx.t("home.tile.settlements.text"), "/settlements"))
            tiles.append((ctx.t("home.tile.housing"), ctx.t("home.tile.housing.text"), "/housing"))
            tiles.append((ctx.t("home.tile.payments"), ctx.t("home.tile.payments.text"), "/payments"))
        }
        if ![.lender, .authorityOfficer].contains(user.role) {
            // The bodies of the project pipeline start from the projects; the others find them among the tiles.
            let projectWork: Set<Role> = [.akimatOfficer, .regionalCoordinator, .commissionMember, .ministryOfficer, .contractor]
            let tile = (ctx.t("home.tile.projects"), ctx.t("home.tile.projects.text"), "/projects")
            if projectWork.contains(user.role) { tiles.insert(tile, at: 0) } else { tiles.append(tile) }
            tiles.append((ctx.t("home.tile.board"), ctx.t("home.tile.board.text"), "/projects/board"))
        }
        // Money: the limits for the bodies that set and use them; loans for the credit organisations first.
        let loansTile = (ctx.t("home.tile.loans"), ctx.t("home.tile.loans.text"), "/loans")
        if user.role == .lender {
            tiles.insert(loansTile, at: 0)
            tiles.insert((ctx.t("home.tile.reports"), ctx.t("home.tile.reports.text"), "/reports"), at: 1)
        }
        else if [.ministryOfficer, .akimatOfficer, .regionalCoordinator, .commissionMember, .analyst, .administrator].contains(user.role) {
            tiles.append((ctx.t("home.tile.dashboard"), ctx.t("home.tile.dashboard.text"), "/dashboard"))
            tiles.append((ctx.t("home.tile.reports"), ctx.t("home.tile.reports.text"), "/reports"))
            tiles.append((ctx.t("home.tile.indicators"), ctx.t("home.tile.indicators.text"), "/indicators"))
            tiles.append((ctx.t("home.tile.plan"), ctx.t("home.tile.plan.text"), "/plan"))
            tiles.append((ctx.t("home.tile.limits"), ctx.t("home.tile.limits.text"), "/limits"))
            tiles.append(loansTile)
        }
        tiles.append((ctx.t("home.tile.courses"), ctx.t("home.tile.courses.text"), "/portal/courses"))
        tiles.append((ctx.t("home.tile.parameters"), ctx.t("home.tile.parameters.text"), "/parameters"))
        tiles.append((ctx.t("home.tile.calendar"), ctx.t("home.tile.calendar.text"), "/calendar"))
        var worklist: Node<HTML.BodyContext> = .empty
        if user.role == .caseworker {
            let cases = CaseStore(store: req.jumys.store)
            let today = cases.today()
            // Due or overdue today, and what falls due in the next two weeks: the earliest hundred (a district with
            // thousands of open cases would otherwise get a page of thousands of lines).
            let shown = 100
            let items = try await cases.worklist(scope: user.scope, through: today.adding(days: 14), limit: shown)
            worklist = CaseworkViews.worklist(ctx, items: Array(items.prefix(shown)), today: today, more: items.count > shown ? shown : nil)
        }
        if user.scope != .organisation(Int64(user.organisationID ?? -1)) {
            tiles.insert((ctx.t("home.tile.tsa"), ctx.t("home.tile.tsa.text"), "/tsa"), at: 1)
        }
        let html = Layout.page(ctx, title: ctx.t("home.title"),
            .h1(.text(ctx.t("home.greeting", ["name": user.displayName]))),
            worklist,
            .p(.class("lead"), .text(ctx.t("home.role.\(user.role.rawValue)"))),
            .dl(.class("summary"),
                .dt(.text(ctx.t("home.role"))), .dd(.text(ctx.t("role.\(user.role.rawValue)"))),
                .dt(.text(ctx.t("home.scope"))), .dd(.text(scopeName)),
                .dt(.text(ctx.t("home.access"))), .dd(.text(ctx.t(user.canWrite ? "home.access.write" : "home.access.read")))
            ),
.ul(.class("tiles"), .forEach(tiles) { tile in
                    .li(.a(.href(tile.href), .h2(.text(tile.title)), .p(.text(tile.text))))
                })
        )
        return HTMLResponse.make(html)
    }
}

/// Human names of scopes, regions and districts in the page's language.
enum ScopeNames {
    static func describe(_ scope: Scope, store: Store, lang: Lang, translator: Translator) async throws -> String {
        switch scope {
        case .national: return translator.t("scope.national", lang)
        case .region(let r):
            guard let region = try await ProjectRoutes.Names.Territories.cached(store).regions[r.iso] else { return r.iso }
            return localized(kk: region.nameKk, ru: region.nameRu, en: region.nameEn, lang)
        case .district(let id):
            // From the reference data kept while nothing is recorded (every home page names its scope).
            let t = try await ProjectRoutes.Names.Territories.cached(store)
            guard let d = t.districts[Int(id)] else { return "—" }
            let region = t.regions[d.regionISO]
            let dn = localized(kk: d.nameKk, ru: d.nameRu, en: d.nameEn, lang)
            return region.map { dn + ", " + localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, lang) } ?? dn
        case .organisation(let id):
            guard let o = try await OrganisationRecord.find(Int(id), on: store.db) else { return "—" }
            return localized(kk: o.nameKk, ru: o.nameRu, en: o.nameEn, lang)
        }
    }

    static func localized(kk: String, ru: String, en: String, _ lang: Lang) -> String {
        switch lang { case .kk: kk; case .ru: ru; case .en: en }
    }
}
