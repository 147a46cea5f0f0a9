import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// Infrastructure projects on the web (E1–E11, G1): the registry, each body's step of the E2 pipeline, the E3
/// ranking, printable lists, the project card with its quotas, hires, bonuses, monthly progress and saving, the
/// compliance board with the list behind every number (approvals draw on the regions' limits, /limits).
struct ProjectRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("projects", use: list)
        routes.get("projects", "new", use: newForm)
        routes.post("projects", use: create)
        routes.get("projects", "board", use: board)
        routes.get("projects", "ranking", use: ranking)
        routes.get("projects", "print", use: printList)
        routes.get("projects", ":id", use: show)
        routes.get("projects", ":id", "edit", use: editForm)
        routes.post("projects", ":id", "edit", use: update)
        routes.post("projects", ":id", "steps", ":step", use: step)
        routes.post("projects", ":id", "parties", use: parties)
        routes.post("projects", ":id", "vacancies", use: vacancy)
        routes.post("projects", ":id", "reports", use: report)
        routes.post("projects", ":id", "reports", ":month", ":decision", use: checkReport)
        routes.post("projects", ":id", "hires", ":hire", "bonus", use: bonus)
        routes.post("projects", ":id", "saving", ":decision", use: saving)
    }

    typealias Errors = [(field: String, message: String)]
    static func store(_ req: Request) -> ProjectStore { ProjectStore(store: req.jumys.store) }
    static func money(_ s: String?) -> Money? { BusinessRoutes.money(s) }
    static func tenge(_ t: Int64?) -> String { t.map { Money(tiyn: $0).formatted() + " ₸" } ?? "—" }

    /// Names of regions, districts and organisations in the page's language.
    struct Names {
        let regions: [String: RegionRecord], districts: [Int: DistrictRecord], orgs: [Int: OrganisationRecord], lang: Lang
        /// Regions and districts, and only the organisations the page shows (employers run to the thousands).
        static func load(_ req: Request, _ lang: Lang, organisations: Set<Int> = []) async throws -> Names {
            // Regions and districts are reference data: kept while nothing is recorded (`ReadCache`), instead of two
            // Fluent reads of some 220 records per page (a quarter of the national board's time, in reflection).
            let store = req.jumys.store
            return try await make(store.db, lang, organisations: organisations, territories: try await Territories.cached(store))
        }
        struct Territories: Sendable {
            let regions: [String: RegionRecord], districts: [Int: DistrictRecord]
            static func cached(_ store: Store) async throws -> Territories {
                try await ReadCache.value(store, "names|territories") { try await load(store.db) }
            }
            static func load(_ db: any Database) async throws -> Territories {
                Territories(regions: Dictionary(uniqueKeysWithValues: try await RegionRecord.query(on: db).all().map { ($0.id!, $0) }),
                            districts: Dictionary(uniqueKeysWithValues: try await DistrictRecord.query(on: db).all().map { ($0.id!, $0) }))
            }
        }
        static func load(_ db: any Database, _ lang: Lang, organisations: Set<Int> = []) async throws -> Names {
            try await make(db, lang, organisations: organisations, territories: try await Territories.load(db))
        }
        private static func make(_ db: any Database, _ lang: Lang, organisations: Set<Int>, territories t: Territories) async throws -> Names {
            let orgs = organisations.isEmpty ? [] : try await OrganisationRecord.query(on: db).filter(\.$id ~~ Array(organisations)).all()
            return Names(regions: t.regions, districts: t.districts, orgs: Dictionary(uniqueKeysWithValues: orgs.map { ($0.id!, $0) }), lang: lang)
        }
        func region(_ iso: String) -> String { regions[iso].map { ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, lang) } ?? iso }
        func district(_ id: Int) -> String { districts[id].map { ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, lang) } ?? String(id) }
        func org(_ id: Int?) -> String { LabourMarketRoutes.orgName(id.flatMap { orgs[$0] }, lang) }
    }

    static func statusTag(_ ctx: PageContext, _ s: QuotaStatus) -> Node<HTML.BodyContext> {
        .span(.class("tag quota-\(s.rawValue)" + (s == .breached ? " late" : s == .met ? " ok" : "")), .text(ctx.t("quota.\(s.rawValue)")))
    }
    static func stateTag(_ ctx: PageContext, _ state: String) -> Node<HTML.BodyContext> {
        .span(.class("tag state-\(state)"), .text(ctx.t("project_state.\(state)")))
    }

    /// Turns the store's answers into pages: field errors back on the page, a refusal into 403 (or 404 when the
    /// user may not even see the project).
    static func handle(_ req: Request, _ body: () async throws -> Response, onErrors: (Errors) async throws -> Response) async throws -> Response {
        do { return try await body() } catch let e as FieldErrors {
            return try await onErrors(PageContext(req).messages(e))
        } catch let e as ProjectRefused {
            throw Abort(e.visible ? .forbidden : .notFound)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    // MARK: the list, with filters

    struct ListQuery {
        var region: String?, district: Int?, state: ProjectState?, status: QuotaStatus?, flag: String?, programme: ProjectProgramme?
        init(_ req: Request) {
            region = (try? req.query.get(String.self, at: "region")).flatMap { RegionCode($0)?.iso }
            district = (try? req.query.get(String.self, at: "district")).flatMap { Int($0) }
            state = (try? req.query.get(String.self, at: "state")).flatMap(ProjectState.init(rawValue:))
            status = (try? req.query.get(String.self, at: "status")).flatMap(QuotaStatus.init(rawValue:))
            flag = (try? req.query.get(String.self, at: "flag")).flatMap { ["all", "wage", "bonus", "late"].contains($0) ? $0 : nil }
            programme = (try? req.query.get(String.self, at: "programme")).flatMap(ProjectProgramme.init(rawValue:))
        }
        var filter: ProjectStore.Filter { ProjectStore.Filter(region: region, district: district, state: state, programme: programme) }
        /// The query string of a list link (no personal data: places, states and flags only).
        static func link(region: String? = nil, district: Int? = nil, state: String? = nil, status: String? = nil, flag: String? = nil) -> String {
            let parts = [("region", region), ("district", district.map(String.init)), ("state", state), ("status", status), ("flag", flag)].compactMap { k, v in v.map { "\(k)=\($0)" } }
            return "/projects" + (parts.isEmpty ? "" : "?" + parts.joined(separator: "&"))
        }
    }

    /// Whether a board line is behind a number of the board; `flag=all` is every project the board counts.
    static func matches(_ c: ProjectStore.Compliance, status: QuotaStatus?, flag: String?) -> Bool {
        if let s = status, c.status != s { return false }
        switch flag {
        case "wage": return c.wageBreaches > 0
        case "bonus": return c.bonusesOverdue > 0
        case "late": return c.lateReports > 0
        default: return true
        }
    }

    @Sendable func list(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let q = ListQuery(req)
        let store = Self.store(req)
        let today = store.today()
        let names = try await Names.load(req, ctx.lang)
        var rows: [(ProjectStore.ProjectRow, ProjectStore.Compliance?)]
        if q.status != nil || q.flag != nil {
            rows = try await store.board(q.filter, for: user, env: try await req.jumys.rules.current(), today: today)
                .filter { Self.matches($0.compliance, status: q.status, flag: q.flag) }.map { ($0.project, $0.compliance) }
        } else {
            rows = try await store.list(q.filter, for: user, limit: 2000).map { ($0, nil) }
        }
        let body = try await store.body(of: user)
        func row(_ r: (ProjectStore.ProjectRow, ProjectStore.Compliance?)) -> Node<HTML.TableContext> {
            let p = r.0
            return .tr(.td(.a(.href("/projects/\(p.id)"), .text(p.number))), .td(.text(p.name)), .td(.text(names.region(p.region_iso) + " · " + names.district(p.district_id) + " · " + p.settlement)),
                       .td(Self.stateTag(ctx, p.state)), .td(.class("num"), .text(p.jobs_created.map(String.init) ?? "—")), .td(.class("num"), .text(p.referral_quota.map(String.init) ?? "—")),
                       .td(r.1.map { c in .group(.text("\(c.referred) "), Self.statusTag(ctx, c.status)) } ?? .text("")))
        }
        let filters: [String] = [q.region.map(names.region), q.district.map(names.district), q.state.map { ctx.t("project_state.\($0.rawValue)") },
                                 q.status.map { ctx.t("quota.\($0.rawValue)") }, q.flag.map { ctx.t("board.\($0)") }].compactMap { $0 }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("projects.title"),
            .h1(.text(ctx.t("projects.title"))),
            .p(.class("lead"), .text(ctx.t("projects.lead"))),
            ExportRoutes.links(ctx, .projects, ExportFilter(region: q.region, district: q.district, state: q.state?.rawValue)),
            .p(.a(.href("/projects/board"), .text(ctx.t("board.title"))), .text(" · "), .a(.href("/projects/ranking"), .text(ctx.t("ranking.title"))), .text(" · "),
               .a(.href("/limits"), .text(ctx.t("limits.title"))), .text(" · "),
               .a(.href("/projects/print" + (q.region.map { "?region=\($0)" } ?? "")), .text(ctx.t("projects.print"))),
               body == .akimat ? .group(.text(" · "), .a(.href("/projects/new"), .class("button secondary"), .text(ctx.t("projects.new")))) : .empty),
            filters.isEmpty ? .empty : .p(.class("hint"), .text(ctx.t("projects.filtered", ["filters": filters.joined(separator: ", ")])), .text(" "), .a(.href("/projects"), .text(ctx.t("projects.clear")))),
            .form(.method(.get), .action("/projects"), .class("inline-form"),
                FormKit(ctx: ctx, errors: [], values: ["state": q.state?.rawValue ?? ""]).select("state", ctx.t("projects.state"), options: CaseworkViews.options(ctx, "project_state", ProjectState.self)),
                .input(.type(.hidden), .name("region"), .value(q.region ?? "")),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("projects.filter")))),
            rows.isEmpty ? .p(.class("empty"), .text(ctx.t("projects.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("project.number"))), .th(.text(ctx.t("project.name"))), .th(.text(ctx.t("project.place"))), .th(.text(ctx.t("projects.state"))),
                           .th(.text(ctx.t("project.jobs_created"))), .th(.text(ctx.t("project.referral_quota"))), .th(.text(ctx.t("project.referred"))))),
                .tbody(.forEach(rows) { row($0) }))
        ))
    }

    // MARK: the registry form

    static let moneyFields = ["cost_national_fund", "cost_republican", "cost_local", "cost_cofinancing"]

    func formPage(_ req: Request, id: Int?, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        guard try await Self.store(req).body(of: user) == .akimat else { throw Abort(.forbidden) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        var dq = DistrictRecord.query(on: req.jumys.store.db).sort(\.$kato)
        if let d = user.districtID { dq = dq.filter(\.$id == d) } else { dq = dq.filter(\.$regionISO == (user.regionISO ?? "")) }
        let districts = try await dq.all().map { (String($0.id!), ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) }
        let title = ctx.t(id == nil ? "projects.new" : "project.edit")
        return HTMLResponse.make(Layout.page(ctx, title: title,
            .p(.a(.href(id.map { "/projects/\($0)" } ?? "/projects"), .text("← " + ctx.t("projects.title")))),
            .div(.class("narrow"),
                .h1(.text(title)),
                .p(.class("lead"), .text(ctx.t("project.form.lead"))),
                Layout.errorSummary(ctx, errors),
                .form(.method(.post), .action(id.map { "/projects/\($0)/edit" } ?? "/projects"), ctx.csrfField(),
                    k.select("programme", ctx.t("project.programme"), options: CaseworkViews.options(ctx, "programme", ProjectProgramme.self), blank: false),
                    k.text("name", ctx.t("project.name")),
                    k.select("district_id", ctx.t("project.district"), options: districts),
                    k.text("settlement", ctx.t("project.settlement")),
                    k.select("object_type", ctx.t("project.object_type"), options: CaseworkViews.options(ctx, "object_type", ObjectType.self)),
                    k.select("work_type", ctx.t("project.work_type"), options: CaseworkViews.options(ctx, "work_type", WorkType.self)),
                    .fieldset(.class("field"), .element(named: "legend", nodes: [.text(ctx.t("project.cost_sources"))]), .p(.class("hint"), .text(ctx.t("project.cost_sources.hint"))),
                        .forEach(Self.moneyFields) { f in k.text(f, ctx.t("project.\(f)")) }),
                    k.text("domestic_cost", ctx.t("project.domestic_cost"), hint: ctx.t("project.domestic_cost.hint")),
                    k.checkbox("design_docs", ctx.t("project.design_docs"), checked: values["design_docs"] == "true"),
                    k.checkbox("expertise_passed", ctx.t("project.expertise_passed"), checked: values["expertise_passed"] == "true"),
                    k.text("starts_on", ctx.t("project.starts_on"), hint: "YYYY-MM-DD"),
                    k.text("ends_on", ctx.t("project.ends_on"), hint: "YYYY-MM-DD"),
                    k.text("jobs_created", ctx.t("project.jobs_created"), hint: ctx.t("project.jobs.hint")),
                    k.text("permanent_jobs", ctx.t("project.permanent_jobs"), hint: ctx.t("project.jobs.hint")),
                    k.text("average_wage", ctx.t("project.average_wage")),
                    .button(.type(.submit), .class("button"), .text(ctx.t("project.save")))))
        ), status: status)
    }

    /// The form's fields as the store's input; bad numbers and dates are reported by field.
    static func input(_ f: [String: String]) throws -> ProjectInput {
        var errors: [FieldError] = []
        func money(_ k: String, optional: Bool = true) -> Money? {
            let s = (f[k] ?? "").trimmingCharacters(in: .whitespaces)
            if s.isEmpty { return optional ? nil : .zero }
            guard let m = Self.money(s) else { errors.append(FieldError(k, "amount_invalid")); return nil }
            return m
        }
        func int(_ k: String) -> Int? {
            let s = (f[k] ?? "").trimmingCharacters(in: .whitespaces)
            if s.isEmpty { return nil }
            guard let n = LabourMarketRoutes.int(s) else { errors.append(FieldError(k, "project_jobs_invalid")); return nil }
            return n
        }
        func date(_ k: String) -> CivilDate? {
            let s = (f[k] ?? "").trimmingCharacters(in: .whitespaces)
            guard let d = CivilDate(iso: s) else { errors.append(FieldError(k, "date_invalid")); return nil }
            return d
        }
        let costs = moneyFields.map { money($0, optional: false) ?? .zero }
        let programme = f["programme"].flatMap(ProjectProgramme.init(rawValue:))
        if programme == nil { errors.append(FieldError("programme", "choose_from_list")) }
        let i = ProjectInput(programme: programme ?? .roadmap, districtID: LabourMarketRoutes.int(f["district_id"]), settlement: f["settlement"] ?? "", name: f["name"] ?? "",
                             objectType: f["object_type"].flatMap(ObjectType.init(rawValue:)), workType: f["work_type"].flatMap(WorkType.init(rawValue:)),
                             nationalFund: costs[0], republican: costs[1], localBudget: costs[2], cofinancing: costs[3], domesticCost: money("domestic_cost"),
                             designDocs: f["design_docs"] == "true", expertisePassed: f["expertise_passed"] == "true", startsOn: date("starts_on"), endsOn: date("ends_on"),
                             jobsCreated: int("jobs_created"), permanentJobs: int("permanent_jobs"), averageWage: money("average_wage"))
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        return i
    }

    @Sendable func newForm(req: Request) async throws -> Response {
        try await formPage(req, id: nil, values: ["programme": "roadmap", "design_docs": "true"], errors: [], status: .ok)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        return try await Self.handle(req, {
            let id = try await Self.store(req).create(try Self.input(f), by: user)
            return req.redirect(to: "/projects/\(id)", redirectType: .normal)
        }, onErrors: { try await formPage(req, id: nil, values: f, errors: $0, status: .unprocessableEntity) })
    }

    @Sendable func editForm(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let id = try CaseworkRoutes.id(req)
        guard let p = try await Self.store(req).project(id, for: user) else { throw Abort(.notFound) }
        var v: [String: String] = ["programme": p.programme, "name": p.name, "district_id": String(p.district_id), "settlement": p.settlement, "object_type": p.object_type,
                                   "work_type": p.work_type, "starts_on": p.starts_on, "ends_on": p.ends_on, "design_docs": String(p.design_docs), "expertise_passed": String(p.expertise_passed)]
        for (k, t) in zip(Self.moneyFields, [p.cost_national_fund, p.cost_republican, p.cost_local, p.cost_cofinancing]) { v[k] = Money(tiyn: t).decimalString }
        v["domestic_cost"] = p.domestic_cost.map { Money(tiyn: $0).decimalString }
        v["jobs_created"] = p.jobs_created.map(String.init); v["permanent_jobs"] = p.permanent_jobs.map(String.init)
        v["average_wage"] = p.average_wage.map { Money(tiyn: $0).decimalString }
        return try await formPage(req, id: id, values: v, errors: [], status: .ok)
    }

    @Sendable func update(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        return try await Self.handle(req, {
            try await Self.store(req).update(id, try Self.input(f), by: user)
            return req.redirect(to: "/projects/\(id)", redirectType: .normal)
        }, onErrors: { try await formPage(req, id: id, values: f, errors: $0, status: .unprocessableEntity) })
    }
}
