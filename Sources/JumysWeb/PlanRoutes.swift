import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The plans of measures (G3): the Roadmap's (`/plan`) and the Programme 2020's (`/plan?plan=programme`), each
/// measure with its form of completion, responsible bodies, deadline, status and evidence, the overdue ones flagged;
/// the authorised body records the status.
struct PlanRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("plan", use: show)
        routes.post("plan", ":plan", ":n", use: update)
    }

    @Sendable func show(req: Request) async throws -> Response {
        let plan = (try? req.query.get(String.self, at: "plan")).flatMap(PlanStore.Plan.init(rawValue:)) ?? .roadmap
        return try await page(req, plan: plan, values: [:], errors: [], status: .ok)
    }

    func page(_ req: Request, plan: PlanStore.Plan, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let today = req.jumys.store.today()
        let lines = try await PlanStore(store: req.jumys.store).lines(plan, today: today, env: try await req.jumys.rules.current())
        let mayEdit = try await ProjectStore(store: req.jumys.store).body(of: user) == .ministry
        let lang = ctx.lang.rawValue
        let overdue = lines.filter(\.overdue).count
        func deadline(_ l: PlanStore.Line) -> String {
            if let d = l.measure.deadline { return d.iso }
            if let n = l.nextDue { return ctx.t("plan.monthly", ["date": n.iso]) }
            if l.measure.afterLaw { return ctx.t("plan.after_law") }
            return ctx.t("plan.continuous")
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("plan.title"),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("plan.title.\(plan.rawValue)"))),
            .p(.class("lead"), .text(ctx.t("plan.lead", ["count": String(lines.count)]))),
            .nav(.class("tabs"), .attribute(named: "aria-label", value: ctx.t("plan.title")), .ul(.forEach(PlanStore.Plan.allCases) { p in
                .li(p == plan ? .strong(.attribute(named: "aria-current", value: "page"), .text(ctx.t("plan.title.\(p.rawValue)"))) : .a(.href("/plan?plan=\(p.rawValue)"), .text(ctx.t("plan.title.\(p.rawValue)"))))
            })),
            overdue == 0 ? .empty : .p(.span(.class("tag late"), .text(ctx.t("plan.overdue"))), .text(" \(overdue)")),
            .table(.class("data"),
                .thead(.tr(.th(.text("№")), .th(.text(ctx.t("plan.measure"))), .th(.text(ctx.t("plan.form"))), .th(.text(ctx.t("plan.responsible"))), .th(.text(ctx.t("loans.due_on"))),
                           .th(.text(ctx.t("limits.state"))), .th(.text(ctx.t("plan.evidence"))))),
                .tbody(.forEach(lines) { l in
                    let n = l.measure.n, id = PlanStore.fieldID(n)
                    let state: Node<HTML.BodyContext> = .group(
                        .span(.class("tag" + (l.overdue ? " late" : l.status == .done ? " ok" : "")), .text(ctx.t(l.overdue ? "plan.overdue" : "plan_status.\(l.status.rawValue)"))),
                        l.completedOn.map { .text(" " + $0) } ?? .empty)
                    let evidence: Node<HTML.BodyContext> = !mayEdit ? .text(l.evidence) : .form(.method(.post), .action("/plan/\(plan.rawValue)/\(n)"), .class("inline"), ctx.csrfField(),
                        .label(.for("status_\(id)"), .class("visually-hidden"), .text(ctx.t("limits.state"))),
                        .select(.id("status_\(id)"), .attribute(named: "name", value: "status"), .forEach(PlanStore.Status.allCases) { s in
                            .element(named: "option", nodes: [.attribute(named: "value", value: s.rawValue), s == l.status ? .attribute(named: "selected", value: "selected") : .empty, .text(ctx.t("plan_status.\(s.rawValue)"))])
                        }),
                        .label(.for("evidence_\(id)"), .class("visually-hidden"), .text(ctx.t("plan.evidence"))),
                        .input(.type(.text), .id("evidence_\(id)"), .name("evidence"), .value(values["evidence_\(id)"] ?? l.evidence)),
                        .button(.type(.submit), .class("button secondary"), .text(ctx.t("form.save"))))
                    return .tr(.td(.text(String(n))), .td(.text(l.measure.name[lang] ?? "")), .td(.text(l.measure.form[lang] ?? "")), .td(.text(l.measure.responsible[lang] ?? "")),
                               .td(.text(deadline(l)), l.measure.cost.map { .div(.class("hint"), .text(ctx.t("plan.cost") + ": " + $0)) } ?? .empty), .td(state), .td(evidence))
                }))
        ), status: status)
    }

    @Sendable func update(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        guard let plan = req.parameters.get("plan").flatMap(PlanStore.Plan.init(rawValue:)), let n = req.parameters.get("n"),
              try PlanStore.measures(plan).contains(where: { $0.n == n }) else { throw Abort(.notFound) }
        let id = PlanStore.fieldID(n)
        let f = try CaseworkRoutes.form(req)
        return try await ProjectRoutes.handle(req, {
            guard let status = f["status"].flatMap(PlanStore.Status.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("status_\(id)", "choose_from_list")]) }
            try await PlanStore(store: req.jumys.store).update(plan, n, status: status, evidence: f["evidence"] ?? "", by: user)
            return req.redirect(to: "/plan?plan=\(plan.rawValue)#status_\(id)", redirectType: .normal)
        }, onErrors: { try await page(req, plan: plan, values: ["evidence_\(id)": f["evidence"] ?? ""], errors: $0, status: .unprocessableEntity) })
    }
}
