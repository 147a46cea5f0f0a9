import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// Parameter pages (history, and an administrator's dated value) and the working-day calendar with its exceptions.
struct ParameterRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("parameters", use: list)
        routes.get("parameters", ":name", use: show)
        routes.post("parameters", ":name", use: addValue)
        routes.get("calendar", use: calendar)
        routes.post("calendar", use: addException)
        routes.post("calendar", ":date", "delete", use: removeException)
    }

    static func today(_ req: Request) -> CivilDate {
        req.jumys.store.today()
    }

    @Sendable func list(req: Request) async throws -> Response {
        _ = try req.requireUser()
        let env = try await req.jumys.rules.current()
        let today = Self.today(req)
        let ctx = PageContext(req)
        let params = env.parameters.parameters.values.sorted { $0.name < $1.name }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("parameters.title"),
            .h1(.text(ctx.t("parameters.title"))),
            .p(.class("lead"), .text(ctx.t("parameters.lead"))),
            .table(.class("data"),
                .caption(.text(ctx.t("parameters.caption", ["date": today.iso]))),
                .thead(.tr(.th(.text(ctx.t("parameters.name"))), .th(.text(ctx.t("parameters.value"))), .th(.text(ctx.t("parameters.unit"))), .th(.text(ctx.t("parameters.reference"))))),
                .tbody(.forEach(params) { p in
                    .tr(.td(.a(.href("/parameters/\(p.name)"), .text(p.name)), .p(.class("hint"), .text(p.description))),
                        .td(.class("mono"), .text(p.value(at: today).map { $0.value.description } ?? "—")),
                        .td(.text(ctx.t("unit.\(p.unit.rawValue)"))),
                        .td(.text(p.reference)))
                })
            )
        ))
    }

    @Sendable func show(req: Request) async throws -> Response {
        _ = try req.requireUser()
        return try await page(req, form: [:], errors: [], status: .ok)
    }

    private func page(_ req: Request, form: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus) async throws -> Response {
        let env = try await req.jumys.rules.current()
        guard let name = req.parameters.get("name"), let p = env.parameters[name] else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let isAdmin = ctx.user?.role == .administrator
        func err<C: HTML.BodyContext>(_ f: String) -> Node<C> {
            guard let e = errors.first(where: { $0.field == f }) else { return .empty }
            return .p(.class("field-error"), .text(e.message))
        }
        func field<C: HTML.BodyContext>(_ n: String, _ label: String, hint: String) -> Node<C> {
            .div(.class(errors.contains { $0.field == n } ? "field has-error" : "field"),
                 .label(.for(n), .text(label)), .p(.class("hint"), .text(hint)), err(n),
                 .input(.type(.text), .id(n), .name(n), .value(attr(form[n] ?? ""))))
        }
        let addForm: Node<HTML.BodyContext> = !isAdmin ? .empty : .div(.class("narrow"),
            .h2(.text(ctx.t("parameters.add"))),
            Layout.errorSummary(ctx, errors),
            .form(.method(.post), .action("/parameters/\(p.name)"),
                ctx.csrfField(),
                field("effective_from", ctx.t("parameters.effective_from"), hint: ctx.t("parameters.effective_from.hint")),
                field("value", ctx.t("parameters.value"), hint: ctx.t("parameters.value.hint", ["unit": ctx.t("unit.\(p.unit.rawValue)")])),
                field("reference", ctx.t("parameters.value_reference"), hint: ctx.t("parameters.value_reference.hint")),
                .button(.type(.submit), .class("button"), .text(ctx.t("parameters.add.button")))
            )
        )
        return HTMLResponse.make(Layout.page(ctx, title: p.name,
            .p(.a(.href("/parameters"), .text("← " + ctx.t("parameters.title")))),
            .h1(.class("mono"), .text(p.name)),
            .p(.class("lead"), .text(p.description)),
            .dl(.class("summary"),
                .dt(.text(ctx.t("parameters.unit"))), .dd(.text(ctx.t("unit.\(p.unit.rawValue)"))),
                .dt(.text(ctx.t("parameters.reference"))), .dd(.text(p.reference))
            ),
            .table(.class("data"),
                .caption(.text(ctx.t("parameters.history"))),
                .thead(.tr(.th(.text(ctx.t("parameters.effective_from"))), .th(.text(ctx.t("parameters.value"))), .th(.text(ctx.t("parameters.value_reference"))), .th(.text(ctx.t("parameters.source"))))),
                .tbody(.forEach(p.values.reversed()) { v in
                    .tr(.td(.text(v.effectiveFrom.iso)), .td(.class("mono"), .text(v.value.description)), .td(.text(v.reference ?? "—")),
                        .td(.text({ switch v.source {
                            case .file(let f): return ctx.t("parameters.source.file", ["file": f])
                            case .administrator(let login, let at): return ctx.t("parameters.source.admin", ["login": login, "at": at])
                        } }())))
                })
            ),
            addForm
        ), status: status)
    }

    struct ValueForm: Content { var effective_from: String?; var value: String?; var reference: String? }

    @Sendable func addValue(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.role == .administrator else { throw Abort(.forbidden) }
        let env = try await req.jumys.rules.current()
        guard let name = req.parameters.get("name"), let p = env.parameters[name] else { throw Abort(.notFound) }
        let f = try req.content.decode(ValueForm.self)
        var errors: [(field: String, message: String)] = []
        let date = CivilDate(iso: (f.effective_from ?? "").trimmingCharacters(in: .whitespaces))
        if date == nil { errors.append(("effective_from", req.t("parameters.error.date"))) }
        let value = FixedDecimal((f.value ?? "").replacingOccurrences(of: ",", with: ".").replacingOccurrences(of: " ", with: ""))
        if value == nil || (value?.units ?? -1) < 0 { errors.append(("value", req.t("parameters.error.value"))) }
        let reference = (f.reference ?? "").trimmingCharacters(in: .whitespaces)
        if reference.isEmpty || reference.count > 300 { errors.append(("reference", req.t("parameters.error.reference"))) }
        guard errors.isEmpty, let date, let value else {
            return try await page(req, form: ["effective_from": f.effective_from ?? "", "value": f.value ?? "", "reference": f.reference ?? ""], errors: errors, status: .unprocessableEntity)
        }
        try await RulesStore(store: req.jumys.store).addValue(name: p.name, effectiveFrom: date, value: value, reference: reference, by: user.actor)
        try await req.jumys.rules.reload()
        return req.redirect(to: "/parameters/\(p.name)", redirectType: .normal)
    }

    // MARK: calendar

    @Sendable func calendar(req: Request) async throws -> Response {
        _ = try req.requireUser()
        return try await calendarPage(req, form: [:], errors: [], status: .ok)
    }

    private func calendarPage(_ req: Request, form: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus) async throws -> Response {
        let env = try await req.jumys.rules.current()
        let ctx = PageContext(req)
        let year = (try? req.query.get(Int.self, at: "year")).flatMap { (1991...2100).contains($0) ? $0 : nil } ?? Self.today(req).year
        let legal = env.calendar.legalDaysOff(year: year).sorted { $0.key < $1.key }
        let exceptions = env.calendar.exceptions.values.filter { $0.date.year == year }.sorted { $0.date < $1.date }
        let isAdmin = ctx.user?.role == .administrator
        func err<C: HTML.BodyContext>(_ f: String) -> Node<C> {
            guard let e = errors.first(where: { $0.field == f }) else { return .empty }
            return .p(.class("field-error"), .text(e.message))
        }
        func reason(_ r: WorkCalendar.DayOff) -> String {
            switch r {
            case .holiday(let en): return ctx.t("calendar.holiday", ["name": holidayName(en, env.calendar, ctx.lang)])
            case .transferred(let en): return ctx.t("calendar.transferred", ["name": holidayName(en, env.calendar, ctx.lang)])
            case .weekend: return ctx.t("calendar.weekend")
            case .exception(let note): return note
            }
        }
        let addForm: Node<HTML.BodyContext> = !isAdmin ? .empty : .div(.class("narrow"),
            .h2(.text(ctx.t("calendar.add"))),
            Layout.errorSummary(ctx, errors),
            .form(.method(.post), .action("/calendar"),
                ctx.csrfField(),
                .div(.class(errors.contains { $0.field == "date" } ? "field has-error" : "field"),
                     .label(.for("date"), .text(ctx.t("calendar.date"))), .p(.class("hint"), .text(ctx.t("parameters.effective_from.hint"))), err("date"),
                     .input(.type(.text), .id("date"), .name("date"), .value(attr(form["date"] ?? "")))),
                .fieldset(.class("field"),
                    .element(named: "legend", nodes: [.text(ctx.t("calendar.kind"))]),
                    .div(.input(.type(.radio), .id("working-no"), .name("working"), .value("false"), .attribute(named: "checked", value: "checked")),
                         .label(.for("working-no"), .class("inline-label"), .text(ctx.t("calendar.kind.off")))),
                    .div(.input(.type(.radio), .id("working-yes"), .name("working"), .value("true")),
                         .label(.for("working-yes"), .class("inline-label"), .text(ctx.t("calendar.kind.working"))))
                ),
                .div(.class(errors.contains { $0.field == "note" } ? "field has-error" : "field"),
                     .label(.for("note"), .text(ctx.t("calendar.note"))), .p(.class("hint"), .text(ctx.t("calendar.note.hint"))), err("note"),
                     .input(.type(.text), .id("note"), .name("note"), .value(attr(form["note"] ?? "")))),
                .button(.type(.submit), .class("button"), .text(ctx.t("calendar.add.button")))
            )
        )
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("calendar.title"),
            .h1(.text(ctx.t("calendar.title") + " \(year)")),
            .p(.class("lead"), .text(ctx.t("calendar.lead"))),
            .p(.a(.href("/calendar?year=\(year - 1)"), .text("← \(year - 1)")), .text(" · "), .a(.href("/calendar?year=\(year + 1)"), .text("\(year + 1) →"))),
            .table(.class("data"),
                .caption(.text(ctx.t("calendar.legal"))),
                .thead(.tr(.th(.text(ctx.t("calendar.date"))), .th(.text(ctx.t("calendar.reason"))))),
                .tbody(.forEach(legal) { d, r in .tr(.td(.text(d.iso)), .td(.text(reason(r)))) })
            ),
            .table(.class("data"),
                .caption(.text(ctx.t("calendar.exceptions"))),
                .thead(.tr(.th(.text(ctx.t("calendar.date"))), .th(.text(ctx.t("calendar.kind"))), .th(.text(ctx.t("calendar.note"))), .th(.span(.class("visually-hidden"), .text(ctx.t("table.action")))))),
                .tbody(.forEach(exceptions) { e in
                    .tr(.td(.text(e.date.iso)), .td(.text(ctx.t(e.working ? "calendar.kind.working" : "calendar.kind.off"))), .td(.text(e.note)),
                        .td(isAdmin ? .form(.method(.post), .action("/calendar/\(e.date.iso)/delete"), .class("inline"), ctx.csrfField(),
                                            .button(.type(.submit), .class("button secondary"), .text(ctx.t("calendar.remove")))) : .empty))
                })
            ),
            addForm
        ), status: status)
    }

    func holidayName(_ en: String, _ cal: WorkCalendar, _ lang: Lang) -> String {
        guard let h = cal.holidays.first(where: { $0.names.en == en }) else { return en }
        return ScopeNames.localized(kk: h.names.kk, ru: h.names.ru, en: h.names.en, lang)
    }

    struct ExceptionForm: Content { var date: String?; var working: String?; var note: String? }

    @Sendable func addException(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.role == .administrator else { throw Abort(.forbidden) }
        let f = try req.content.decode(ExceptionForm.self)
        var errors: [(field: String, message: String)] = []
        let date = CivilDate(iso: (f.date ?? "").trimmingCharacters(in: .whitespaces))
        if date == nil { errors.append(("date", req.t("parameters.error.date"))) }
        let note = (f.note ?? "").trimmingCharacters(in: .whitespaces)
        if note.isEmpty || note.count > 200 { errors.append(("note", req.t("calendar.error.note"))) }
        guard errors.isEmpty, let date else {
            return try await calendarPage(req, form: ["date": f.date ?? "", "note": f.note ?? ""], errors: errors, status: .unprocessableEntity)
        }
        try await RulesStore(store: req.jumys.store).setException(CalendarException(date: date, working: f.working == "true", note: note), by: user.actor)
        try await req.jumys.rules.reload()
        return req.redirect(to: "/calendar?year=\(date.year)", redirectType: .normal)
    }

    @Sendable func removeException(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.role == .administrator else { throw Abort(.forbidden) }
        guard let date = req.parameters.get("date").flatMap({ CivilDate(iso: $0) }) else { throw Abort(.notFound) }
        try await RulesStore(store: req.jumys.store).removeException(date, by: user.actor)
        try await req.jumys.rules.reload()
        return req.redirect(to: "/calendar?year=\(date.year)", redirectType: .normal)
    }
}
