import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Vapor

/// `/api/v1` for infrastructure projects: the registry, the pipeline's steps, monthly progress, each project's
/// quota status and the compliance board — scoped and refused like the pages.
struct ProjectAPIRoutes: RouteCollection {
    typealias API = CaseworkAPIRoutes
    typealias L = LabourAPIRoutes

    func boot(routes: any RoutesBuilder) throws {
        let v1 = routes.grouped("api", "v1")
        v1.get("projects", use: list)
        v1.post("projects", use: create)
        v1.get("projects", "board", use: board)
        v1.get("projects", ":id", use: get)
        v1.post("projects", ":id", "steps", use: step)
        v1.post("projects", ":id", "reports", use: report)
    }

    /// A store call with its refusals as 403 (or 404 when the project is not the caller's to see).
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await API.run(body) } catch let e as ProjectRefused { throw Abort(e.visible ? .forbidden : .notFound) }
    }

    static func projectJSON(_ p: ProjectStore.ProjectRow) -> [(String, RuleOutput)] {
        var kv: [(String, RuleOutput)] = [
            ("id", .count(p.id)), ("number", .text(p.number)), ("programme", .text(p.programme)), ("year", .count(p.year)), ("region", .text(p.region_iso)),
            ("district_id", .count(p.district_id)), ("settlement", .text(p.settlement)), ("name", .text(p.name)), ("object_type", .text(p.object_type)), ("work_type", .text(p.work_type)),
            ("state", .text(p.state)), ("cost_total", .money(Money(tiyn: p.cost_total))), ("cost_national_fund", .money(Money(tiyn: p.cost_national_fund))),
            ("cost_republican", .money(Money(tiyn: p.cost_republican))), ("cost_local", .money(Money(tiyn: p.cost_local))), ("cost_cofinancing", .money(Money(tiyn: p.cost_cofinancing))),
            ("design_docs", .bool(p.design_docs)), ("expertise_passed", .bool(p.expertise_passed)), ("starts_on", .text(p.starts_on)), ("ends_on", .text(p.ends_on)), ("version", .count(p.version)),
        ]
        let optional: [(String, RuleOutput?)] = [
            ("domestic_cost", p.domestic_cost.map { .money(Money(tiyn: $0)) }), ("jobs_created", p.jobs_created.map { .count($0) }), ("permanent_jobs", p.permanent_jobs.map { .count($0) }),
            ("average_wage", p.average_wage.map { .money(Money(tiyn: $0)) }), ("contractor_id", p.contractor_id.map { .count($0) }), ("referral_quota", p.referral_quota.map { .count($0) }),
            ("permanent_quota", p.permanent_quota.map { .count($0) }), ("participant_max", p.participant_max.map { .count($0) }), ("replaces_id", p.replaces_id.map { .count($0) }),
            ("replaced_by_id", p.replaced_by_id.map { .count($0) }), ("started_on", p.started_on.map { .text($0) }), ("completed_on", p.completed_on.map { .text($0) }),
            ("final_cost", p.final_cost.map { .money(Money(tiyn: $0)) }),
        ]
        kv += optional.compactMap { k, v in v.map { (k, $0) } }
        return kv
    }

    static func complianceJSON(_ c: ProjectStore.Compliance) -> RuleOutput {
        var kv: [(String, RuleOutput)] = [("referred", .count(c.referred)), ("status", .text(c.status.rawValue)), ("permanent_referred", .count(c.permanentReferred)),
                                          ("permanent_status", .text(c.permanentStatus.rawValue)), ("wage_breaches", .count(c.wageBreaches)), ("bonuses_overdue", .count(c.bonusesOverdue)),
                                          ("late_reports", .count(c.lateReports))]
        if let q = c.quota { kv.insert(("quota", .count(q)), at: 0) }
        if let q = c.permanentQuota { kv.append(("permanent_quota", .count(q))) }
        kv.append(("parties", .list(c.parties.map { .object([("organisation_id", .count($0.organisationID)), ("role", .text($0.role)), ("jobs", .count($0.jobs)), ("quota", .count($0.quota)),
                                                             ("referred", .count($0.referred)), ("status", .text($0.status.rawValue))]) })))
        return .object(kv)
    }

    static func filter(_ req: Request) throws -> ProjectStore.Filter {
        var f = ProjectStore.Filter()
        if let r = try? req.query.get(String.self, at: "region") { guard let c = RegionCode(r), c.isKnown else { throw L.bad("region", "choose_from_list") }; f.region = c.iso }
        if let d = try? req.query.get(String.self, at: "district_id") { guard let n = Int(d) else { throw L.bad("district_id", "choose_from_list") }; f.district = n }
        if let s = try? req.query.get(String.self, at: "state") { guard let v = ProjectState(rawValue: s) else { throw L.bad("state", "choose_from_list") }; f.state = v }
        if let s = try? req.query.get(String.self, at: "programme") { guard let v = ProjectProgramme(rawValue: s) else { throw L.bad("programme", "choose_from_list") }; f.programme = v }
        if let y = try? req.query.get(String.self, at: "year") { guard let v = Int(y) else { throw L.bad("year", "year_invalid") }; f.year = v }
        return f
    }

    @Sendable func list(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let f = try Self.filter(req)
        let limit = try L.limit(req), after = try L.cursor(req)
        let status = try (try? req.query.get(String.self, at: "status")).map { s throws -> QuotaStatus in
            guard let v = QuotaStatus(rawValue: s) else { throw L.bad("status", "choose_from_list") }
            return v
        }
        let store = ProjectStore(store: req.jumys.store)
        if let status {
            // Quota status is computed, not stored: the board's lines, filtered, by id.
            let lines = try await store.board(f, for: user, env: try await req.jumys.rules.current(), today: store.today())
                .filter { $0.compliance.status == status && $0.project.id > (after ?? 0) }
            let page = Array(lines.prefix(limit))
            return L.page(page.map { .object(Self.projectJSON($0.project) + [("compliance", Self.complianceJSON($0.compliance))]) }, next: lines.count > limit ? String(page.last!.project.id) : nil)
        }
        let rows = try await store.list(f, for: user, limit: limit + 1, after: after)
        let page = Array(rows.prefix(limit))
        return L.page(page.map { .object(Self.projectJSON($0)) }, next: rows.count > limit ? String(page.last!.id) : nil)
    }

    @Sendable func get(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let store = ProjectStore(store: req.jumys.store)
        guard let id = req.parameters.get("id", as: Int.self), let p = try await store.project(id, for: user) else { throw Abort(.notFound) }
        let c = try await store.compliance(of: p, env: try await req.jumys.rules.current(), today: store.today())
        return Versions.tag(JSONText.response(RuleOutput.object(Self.projectJSON(p) + [("compliance", Self.complianceJSON(c))]).json), p.version)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        var form: [String: String] = [:]
        for (k, v) in o { form[k] = RuleInputs.text(fromJSON: v) }
        let store = ProjectStore(store: req.jumys.store)
        let id = try await Self.run { try await store.create(try ProjectRoutes.input(form), by: user) }
        guard let p = try await store.project(id, for: user) else { throw Abort(.notFound) }
        return L.created(.object(Self.projectJSON(p)), "/api/v1/projects/\(id)")
    }

    /// `{"step": "approve_regional", "on", "decision", "note", "referral_quota", "replacement_id", "final_cost", …}`.
    @Sendable func step(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        guard let s = API.text(o, "step").flatMap(ProjectStep.init(rawValue:)) else { throw L.bad("step", "choose_from_list") }
        var form: [String: String] = [:]
        for (k, v) in o { form[k] = RuleInputs.text(fromJSON: v) }
        let env = try await req.jumys.rules.current()
        let store = ProjectStore(store: req.jumys.store)
        if let before = try await store.project(id, for: user) { try Versions.check(req, current: before.version) }
        try await Self.run { _ = try await store.act(id, s, try ProjectRoutes.stepInput(form), env: env, by: user) }
        guard let p = try await store.project(id, for: user) else { throw Abort(.notFound) }
        return Versions.tag(JSONText.response(RuleOutput.object(Self.projectJSON(p)).json), p.version)
    }

    /// `{"month": "2021-04", "work_done_percent", "work_done_amount", "jobs_filled", "jobs_by_referral", "referred_avg_wage"}`.
    @Sendable func report(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        guard let pct = API.text(o, "work_done_percent").flatMap({ FixedDecimal($0) }) else { throw L.bad("work_done_percent", "project_percent_invalid") }
        guard let amount = L.money(o, "work_done_amount") else { throw L.bad("work_done_amount", "amount_invalid") }
        guard let filled = L.int(o, "jobs_filled") else { throw L.bad("jobs_filled", "project_jobs_invalid") }
        guard let referred = L.int(o, "jobs_by_referral") else { throw L.bad("jobs_by_referral", "project_jobs_invalid") }
        guard let wage = L.money(o, "referred_avg_wage") ?? (o["referred_avg_wage"] == nil ? .zero : nil) else { throw L.bad("referred_avg_wage", "amount_invalid") }
        let env = try await req.jumys.rules.current()
        let store = ProjectStore(store: req.jumys.store)
        try await Self.run {
            try await store.submitReport(project: id, month: API.text(o, "month") ?? "", ProjectStore.Progress(workDonePercent: pct, workDoneAmount: amount, jobsFilled: filled,
                                                                                                              jobsByReferral: referred, referredAverageWage: wage), env: env, by: user)
        }
        let res = JSONText.response(RuleOutput.object([("reports", .list(try await store.reports(of: id).map { .object([("month", .text($0.month)), ("state", .text($0.state)), ("due_on", .text($0.due_on))]) }))]).json, status: .created)
        return res
    }

    /// `?region=KZ-35` gives the region's districts; none gives the regions; each line with its counts.
    @Sendable func board(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let f = try Self.filter(req)
        let store = ProjectStore(store: req.jumys.store)
        let byRegion = f.region == nil && f.district == nil
        let (groups, total) = ProjectRoutes.named(try await store.boardSummary(f, byRegion: byRegion, for: user, env: try await req.jumys.rules.current(), today: store.today()), names: nil)
        func json(_ t: ProjectRoutes.Tally) -> [(String, RuleOutput)] {
            [("projects", .count(t.projects)), ("met", .count(t.met)), ("at_risk", .count(t.atRisk)), ("breached", .count(t.breached)),
             ("wage_breaches", .count(t.wage)), ("bonuses_overdue", .count(t.bonus)), ("late_reports", .count(t.late))]
        }
        let level = byRegion ? "region" : "district"
        return JSONText.response(RuleOutput.object([("level", .text(level)),
                                                    ("rows", .list(groups.map { .object([(level, .text($0.key))] + json($0.tally)) })),
                                                    ("total", .object(json(total)))]).json)
    }
}
