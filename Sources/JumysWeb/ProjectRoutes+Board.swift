import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The compliance board, the E3 ranking, the printable lists and the year's funds.
extension ProjectRoutes {
    typealias Tally = ProjectStore.Tally

    /// The board's groups named in the page's language and sorted by name.
    static func named(_ summary: ProjectStore.BoardSummary, names: Names?) -> (groups: [(key: String, name: String, region: String, district: Int?, tally: Tally)], total: Tally) {
        let groups = summary.groups.map { g in
            (key: g.key, name: names.map { g.district.map($0.district) ?? $0.region(g.region) } ?? g.key, region: g.region, district: g.district, tally: g.tally)
        }
        return (groups.sorted { $0.name < $1.name }, summary.total)
    }

    /// Per nation (by region), per region (by district) or per district (by project): quota met / at risk /
    /// breached, wage-floor breaches, overdue bonuses and late reports, each number a link to the projects behind it.
    @Sendable func board(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let q = ListQuery(req)
        let store = Self.store(req)
        let names = try await Names.load(req, ctx.lang)
        let summary = try await store.boardSummary(ProjectStore.Filter(region: q.region, district: q.district), byRegion: q.region == nil && q.district == nil,
                                                   for: user, env: try await req.jumys.rules.current(), today: store.today())
        let (groups, total) = Self.named(summary, names: names)
        func cell(_ n: Int, region: String?, district: Int?, status: String? = nil, flag: String? = nil) -> Node<HTML.TableRowContext> {
            .td(.class("num"), n == 0 ? .text("0") : .a(.href(ListQuery.link(region: region, district: district, status: status, flag: flag)), .text(String(n))))
        }
        func row(_ name: Node<HTML.BodyContext>, _ t: Tally, region: String?, district: Int?) -> Node<HTML.TableContext> {
            .tr(.th(.attribute(named: "scope", value: "row"), name),
                cell(t.projects, region: region, district: district, flag: "all"),
                cell(t.met, region: region, district: district, status: "met"), cell(t.atRisk, region: region, district: district, status: "at_risk"),
                cell(t.breached, region: region, district: district, status: "breached"), cell(t.wage, region: region, district: district, flag: "wage"),
                cell(t.bonus, region: region, district: district, flag: "bonus"), cell(t.late, region: region, district: district, flag: "late"))
        }
        let level = q.district.map { names.district($0) } ?? q.region.map { names.region($0) } ?? ctx.t("board.nation")
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("board.title"),
            .p(.a(.href("/projects"), .text("← " + ctx.t("projects.title"))), q.region == nil ? .empty : .group(.text(" · "), .a(.href("/projects/board"), .text(ctx.t("board.nation"))))),
            .h1(.text(ctx.t("board.title") + " — " + level)),
            .p(.class("lead"), .text(ctx.t("board.lead"))),
            total.projects == 0 ? .p(.class("empty"), .text(ctx.t("board.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t(q.region == nil && q.district == nil ? "board.region" : "board.district"))), .th(.text(ctx.t("board.projects"))), .th(.text(ctx.t("quota.met"))),
                           .th(.text(ctx.t("quota.at_risk"))), .th(.text(ctx.t("quota.breached"))), .th(.text(ctx.t("board.wage"))), .th(.text(ctx.t("board.bonus"))), .th(.text(ctx.t("board.late"))))),
                .tbody(.forEach(groups) { g in
                    row(q.region == nil && q.district == nil ? .a(.href("/projects/board?region=\(g.key)"), .text(g.name)) : .text(g.name), g.tally, region: g.region, district: g.district)
                }),
                .tfoot(row(.text(ctx.t("board.total")), total, region: q.region, district: q.district))),
            .p(.class("hint"), .text(ctx.t("board.hint")))
        ))
    }

    /// E3: the projects of a list ranked, with each criterion's figure, points and weight.
    @Sendable func ranking(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        var q = ListQuery(req)
        let store = Self.store(req)
        if q.state == nil { q.state = [.regionalCommission, .coordinator, .akimat].contains(try await store.body(of: user)) ? .compiled : .consolidated }
        let names = try await Names.load(req, ctx.lang)
        let projects = try await store.list(q.filter, for: user, limit: 20_000)
        let env = try await req.jumys.rules.current()
        let ranked = try ProjectStore.ranking(projects, rules: env.context(on: store.today()))
        let byID = Dictionary(uniqueKeysWithValues: projects.map { (String($0.id), $0) })
        func row(_ s: Rules.PriorityScore) -> Node<HTML.TableContext> {
            let p = byID[s.id]!
            return .tr(.td(.class("num"), .text(String(s.rank))), .td(.a(.href("/projects/\(p.id)"), .text(p.number)), .text(" " + p.name), .br(), .span(.class("muted"), .text(names.region(p.region_iso) + " · " + names.district(p.district_id)))),
                       .td(.class("num"), .strong(.text(s.score.description))),
                       .forEach(s.components) { c in .td(.class("num"), .text(c.raw.description), .br(), .span(.class("muted"), .text(ctx.t("ranking.points", ["points": c.points.description])))) })
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("ranking.title"),
            .p(.a(.href("/projects"), .text("← " + ctx.t("projects.title")))),
            .h1(.text(ctx.t("ranking.title"))),
            .p(.class("lead"), .text(ctx.t("ranking.lead", ["state": ctx.t("project_state.\(q.state!.rawValue)")]))),
            .form(.method(.get), .action("/projects/ranking"), .class("inline-form"),
                FormKit(ctx: ctx, errors: [], values: ["state": q.state?.rawValue ?? ""]).select("state", ctx.t("projects.state"), options: CaseworkViews.options(ctx, "project_state", ProjectState.self), blank: false),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("projects.filter")))),
            ranked.map { r in .group(
                .table(.class("data"),
                    .thead(.tr(.th(.text(ctx.t("ranking.rank"))), .th(.text(ctx.t("project.name"))), .th(.text(ctx.t("ranking.score"))),
                               .forEach(Rules.priorityCriteria) { c in .th(.text(ctx.t("criterion.\(c)")), .br(), .span(.class("muted"), .text(ctx.t("ranking.weight", ["w": r.value.first?.components.first { $0.name == c }?.weight.description ?? ""])))) })),
                    .tbody(.forEach(r.value) { row($0) })),
                .p(.class("hint"), .text(ctx.t("ranking.hint")))) } ?? .p(.class("empty"), .text(ctx.t("projects.none")))
        ))
    }

    /// The list of a region (or the nation) at a stage, printable as a document.
    @Sendable func printList(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let q = ListQuery(req)
        let store = Self.store(req)
        let names = try await Names.load(req, ctx.lang)
        let states: [ProjectState] = q.state.map { [$0] } ?? [.regionalApproved, .consolidated, .selected, .approved, .inWorks, .completed]
        let projects = try await store.list(ProjectStore.Filter(region: q.region, states: states), for: user, limit: 20_000)
        let total = projects.reduce(Int64(0)) { $0 + $1.cost_total }, jobs = projects.reduce(0) { $0 + ($1.jobs_created ?? 0) }, quota = projects.reduce(0) { $0 + ($1.referral_quota ?? 0) }
        let scope = q.region.map { names.region($0) } ?? ctx.t("board.nation")
        return PrintViews.document(ctx.lang, title: ctx.t("print.projects.title"),
            .h1(.text(ctx.t("print.projects.title"))),
            .p(.class("doc-meta"), .text(scope + " · " + states.map { ctx.t("project_state.\($0.rawValue)") }.joined(separator: ", ") + " · " + store.today().iso)),
            .table(.class("data"),
                .thead(.tr(.th(.text("№")), .th(.text(ctx.t("project.number"))), .th(.text(ctx.t("project.name"))), .th(.text(ctx.t("project.place"))), .th(.text(ctx.t("project.object_type"))),
                           .th(.text(ctx.t("project.cost"))), .th(.text(ctx.t("project.jobs_created"))), .th(.text(ctx.t("project.permanent_jobs"))), .th(.text(ctx.t("project.referral_quota"))),
                           .th(.text(ctx.t("projects.state"))))),
                .tbody(.forEach(Array(projects.enumerated())) { n, p in
                    .tr(.td(.text(String(n + 1))), .td(.text(p.number)), .td(.text(p.name)), .td(.text(names.region(p.region_iso) + ", " + names.district(p.district_id) + ", " + p.settlement)),
                        .td(.text(ctx.t("object_type.\(p.object_type)") + ", " + ctx.t("work_type.\(p.work_type)"))), .td(.class("num"), .text(Money(tiyn: p.cost_total).formatted())),
                        .td(.class("num"), .text(p.jobs_created.map(String.init) ?? "")), .td(.class("num"), .text(p.permanent_jobs.map(String.init) ?? "")),
                        .td(.class("num"), .text(p.referral_quota.map(String.init) ?? "")), .td(.text(ctx.t("project_state.\(p.state)"))))
                }),
                .tfoot(.tr(.th(.attribute(named: "colspan", value: "5"), .text(ctx.t("board.total") + ": \(projects.count)")), .td(.class("num"), .text(Money(tiyn: total).formatted())),
                           .td(.class("num"), .text(String(jobs))), .td(.text("")), .td(.class("num"), .text(String(quota))), .td(.text(""))))),
            .table(.class("signatures"), .tr(.td(.text(ctx.t("print.projects.signed"))), .td(.class("signature-line"), .text(""))))
        )
    }
}
