import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The Roadmap's plan of measures (G3): each measure with its form of completion, responsible bodies, deadline,
/// status and evidence, the overdue ones flagged; the authorised body records the status.
struct PlanRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("plan", use: show)
        routes.post("plan", ":n", use: update)
    }

    @Sendable func show(req: Request) async throws -> Response { try await page(req, values: [:], errors: [], status: .ok) }

    func page(_ req: Request, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let today = req.jumys.store.today()
        let lines = try await PlanStore(store: req.jumys.store).lines(today: today, env: try await req.jumys.rules.current())
        let mayEdit = try await ProjectStore(store: req.jumys.store).body(of: user) == .ministry
        let lang = ctx.lang.rawValue
        let overdue = lines.filter(\.overdue).count
        func deadline(_ l: PlanStore.Line) -> String {
            if let d = l.measure.deadline { return d.iso }
            if let n = l.nextDue { return ctx.t("plan.monthly", ["date": n.iso]) }
            return ctx.t("plan.continuous")
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("plan.title"),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("plan.title"))),
            .p(.class("lead"), .text(ctx.t("plan.lead"))),
            overdue == 0 ? .empty : .p(.span(.class("tag late"), .text(ctx.t("plan.overdue"))), .text(" \(overdue)")),
            .table(.class("data"),
                .thead(.tr(.th(.text("№")), .th(.text(ctx.t("plan.measure"))), .th(.text(ctx.t("plan.form"))), .th(.text(ctx.t("plan.responsible"))), .th(.text(ctx.t("loans.due_on"))),
                           .th(.text(ctx.t("limits.state"))), .th(.text(ctx.t("plan.evidence"))))),
                .tbody(.forEach(lines) { l in
                    let n = l.measure.n
                    let state: Node<HTML.BodyContext> = .group(
                        .span(.class("tag" + (l.overdue ? " late" : l.status == .done ? " ok" : "")), .text(ctx.t(l.overdue ? "plan.overdue" : "plan_status.\(l.status.rawValue)"))),
                        l.completedOn.map { .text(" " + $0) } ?? .empty)
                    let evidence: Node<HTML.BodyContext> = !mayEdit ? .text(l.evidence) : .form(.method(.post), .action("/plan/\(n)"), .class("inline"), ctx.csrfField(),
                        .label(.for("status_\(n)"), .class("visually-hidden"), .text(ctx.t("limits.state"))),
                        .select(.id("status_\(n)"), .attribute(named: "name", value: "status"), .forEach(PlanStore.Status.allCases) { s in
                            .element(named: "option", nodes: [.attribute(named: "value", value: s.rawValue), s == l.status ? .attribute(named: "selected", value: "selected") : .empty, .text(ctx.t("plan_status.\(s.rawValue)"))])
                        }),
                        .label(.for("evidence_\(n)"), .class("visually-hidden"), .text(ctx.t("plan.evidence"))),
                        .input(.type(.text), .id("evidence_\(n)"), .name("evidence"), .value(values["evidence_\(n)"] ?? l.evidence)),
                        .button(.type(.submit), .class("button secondary"), .text(ctx.t("form.save"))))
                    return .tr(.td(.text(String(n))), .td(.text(l.measure.name[lang] ?? "")), .td(.text(l.measure.form[lang] ?? "")), .td(.text(l.measure.responsible[lang] ?? "")),
                               .td(.text(deadline(l))), .td(state), .td(evidence))
                }))
        ), status: status)
    }

    @Sendable func update(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        guard let n = req.parameters.get("n").flatMap(Int.init) else { throw Abort(.notFound) }
        let f = try CaseworkRoutes.form(req)
        return try await ProjectRoutes.handle(req, {
            guard let status = f["status"].flatMap(PlanStore.Status.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("status_\(n)", "choose_from_list")]) }
            try await PlanStore(store: req.jumys.store).update(n, status: status, evidence: f["evidence"] ?? "", by: user)
            return req.redirect(to: "/plan#status_\(n)", redirectType: .normal)
        }, onErrors: { try await page(req, values: ["evidence_\(n)": f["evidence"] ?? ""], errors: $0, status: .unprocessableEntity) })
    }
}
