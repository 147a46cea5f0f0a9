import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The credit chain on the web (C2, C4–C8): budget credits and bond loans (/credits), loans with their schedule,
/// disbursements, repayments, arrears and the C6 confirmations (/loans), and the C7 loan reports with their due dates.
struct LoanRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("credits", use: creditsPage)
        routes.post("credits", use: grant)
        routes.post("credits", "settle", use: settle)
        routes.post("bonds", use: issueBond)
        routes.get("bonds", ":id", use: bondPage)
        routes.post("bonds", ":id", ":kind", use: bondEvent)
        routes.get("loans", use: list)
        routes.get("loans", "new", use: newForm)
        routes.post("loans", use: create)
        routes.get("loans", "reports", use: reports)
        routes.get("loans", "reports", "c7.xlsx", use: reportFile)
        routes.get("loans", "reports", "c7.csv", use: reportFile)
        routes.get("loans", ":id", use: show)
        routes.post("loans", ":id", ":action", use: act)
    }

    typealias Errors = [(field: String, message: String)]
    static func store(_ req: Request) -> CreditStore { CreditStore(store: req.jumys.store) }
    static func tenge(_ t: Int64?) -> String { ProjectRoutes.tenge(t) }
    static func date(_ f: [String: String], _ k: String) throws -> CivilDate {
        guard let d = LabourMarketRoutes.date(f[k]) else { throw FieldErrors(errors: [FieldError(k, "date_invalid")]) }
        return d
    }
    static func money(_ f: [String: String], _ k: String) throws -> Money {
        guard let m = ProjectRoutes.money(f[k]) else { throw FieldErrors(errors: [FieldError(k, "amount_invalid")]) }
        return m
    }
    static func int(_ f: [String: String], _ k: String) throws -> Int {
        guard let i = LabourMarketRoutes.int(f[k]) else { throw FieldErrors(errors: [FieldError(k, "number_invalid")]) }
        return i
    }

    // MARK: budget credits and bond loans

    @Sendable func creditsPage(req: Request) async throws -> Response {
        let today = req.jumys.store.today()
        return try await credits(req, values: ["year": String(today.year), "transferred_on": today.iso, "issued_on": today.iso, "years": "12", "grace_months": "0"], errors: [], status: .ok)
    }

    func credits(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let store = Self.store(req)
        let rows = try await store.credits(for: user)
        let bonds = try await store.bonds(for: user)
        let orgIDs = Set(rows.map(\.borrower_id) + bonds.map(\.borrower_id))
        let body = try await ProjectStore(store: req.jumys.store).body(of: user)
        let orgs = try await OrganisationRecord.query(on: req.jumys.store.db).filter(\.$kind ~~ [OrganisationKind.akimat.rawValue, OrganisationKind.creditOrganisation.rawValue]).all()
        let names = try await ProjectRoutes.Names.load(req, ctx.lang, organisations: orgIDs.union(orgs.compactMap(\.id)))
        let today = req.jumys.store.today()
        let regionAkimats = orgs.filter { $0.kind == OrganisationKind.akimat.rawValue && $0.districtID == nil && $0.regionISO != nil }.sorted { ($0.regionISO ?? "") < ($1.regionISO ?? "") }
        let lenders = orgs.filter { $0.kind == OrganisationKind.creditOrganisation.rawValue && ($0.regionISO == nil || $0.regionISO == user.regionISO) }
        let parents = rows.filter { $0.levelValue == .localBody && $0.region_iso == user.regionISO && $0.returned_on == nil }
        let table: Node<HTML.BodyContext> = rows.isEmpty ? .p(.class("empty"), .text(ctx.t("credits.none"))) : .table(.class("data"),
            .thead(.tr(.th(.text("№")), .th(.text(ctx.t("credits.level"))), .th(.text(ctx.t("limits.direction"))), .th(.text(ctx.t("credits.borrower"))),
                       .th(.class("num"), .text(ctx.t("limits.amount"))), .th(.text(ctx.t("credits.terms"))), .th(.text(ctx.t("credits.transferred_on"))),
                       .th(.text(ctx.t("credits.use_by"))), .th(.class("num"), .text(ctx.t("credits.used"))), .th(.class("num"), .text(ctx.t("credits.returned"))))),
            .tbody(.forEach(rows) { c in
                .tr(.td(.text(String(c.id) + (c.parent_id.map { " ← \($0)" } ?? ""))), .td(.text(ctx.t("credit_level.\(c.level)"))), .td(.text(ctx.t("direction.\(c.direction)"))),
                    .td(.text(names.org(c.borrower_id) + " · " + names.region(c.region_iso))), .td(.class("num"), .text(Self.tenge(c.amount))),
                    .td(.text(ctx.t("credits.terms.text", ["years": String(c.term_months / 12), "rate": FixedDecimal(units: c.rate).description, "grace": String(c.grace_months)]))),
                    .td(.text(c.transferred_on)),
                    .td(c.unsettled(today: today) ? .span(.class("tag late"), .text(c.use_by)) : .text(c.use_by)),
                    .td(.class("num"), .text(Self.tenge(c.used))), .td(.class("num"), .text(c.returned_on.map { Self.tenge(c.returned) + " · " + $0 } ?? "—")))
            }))
        let ministryForms: Node<HTML.BodyContext> = body != .ministry ? .empty : .group(
            .form(.method(.post), .action("/credits"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("credits.grant_local"))), .p(.class("hint"), .text(ctx.t("credits.grant_local.hint"))),
                .input(.type(.hidden), .name("level"), .value(CreditLevel.localBody.rawValue)),
                k.text("year", ctx.t("funds.year"), width: "narrow"),
                k.select("direction", ctx.t("limits.direction"), options: [FundingDirection.roadmapCredit, .programmeBusiness].map { ($0.rawValue, ctx.t("direction.\($0.rawValue)")) }, blank: false),
                k.select("borrower_id", ctx.t("credits.borrower"), options: regionAkimats.map { (String($0.id!), names.org($0.id!)) }),
                k.text("amount", ctx.t("limits.amount")), k.text("grace_months", ctx.t("credits.grace"), width: "narrow"),
                k.text("transferred_on", ctx.t("credits.transferred_on"), type: .date), k.text("decision", ctx.t("step.decision")),
                .button(.type(.submit), .class("button"), .text(ctx.t("credits.grant.button")))),
            .form(.method(.post), .action("/bonds"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("bonds.issue"))), .p(.class("hint"), .text(ctx.t("bonds.issue.hint"))),
                k.select("bond_borrower_id", ctx.t("credits.borrower"), options: regionAkimats.map { (String($0.id!), names.org($0.id!)) }),
                k.text("bond_amount", ctx.t("limits.amount")), k.text("years", ctx.t("bonds.years"), width: "narrow"),
                k.text("issued_on", ctx.t("bonds.issued_on"), type: .date), k.text("purpose", ctx.t("bonds.purpose")),
                .button(.type(.submit), .class("button"), .text(ctx.t("bonds.issue.button")))),
            .form(.method(.post), .action("/credits/settle"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("credits.settle"))), .p(.class("hint"), .text(ctx.t("credits.settle.hint"))),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("credits.settle.button")))))
        let akimatForm: Node<HTML.BodyContext> = (body != .akimat || user.districtID != nil || parents.isEmpty) ? .empty :
            .form(.method(.post), .action("/credits"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("credits.grant_lender"))), .p(.class("hint"), .text(ctx.t("credits.grant_lender.hint"))),
                .input(.type(.hidden), .name("level"), .value(CreditLevel.creditOrganisation.rawValue)),
                k.select("parent_id", ctx.t("credits.parent"), options: parents.map { (String($0.id), "№\($0.id) · \(ctx.t("direction.\($0.direction)")) · \(Self.tenge($0.amount - $0.used))") }, blank: false),
                k.select("borrower_id", ctx.t("credits.borrower"), options: lenders.map { (String($0.id!), names.org($0.id!)) }),
                k.text("amount", ctx.t("limits.amount")), k.text("grace_months", ctx.t("credits.grace"), width: "narrow"),
                k.text("transferred_on", ctx.t("credits.transferred_on"), type: .date), k.text("decision", ctx.t("step.decision")),
                .button(.type(.submit), .class("button"), .text(ctx.t("credits.grant.button"))))
        let bondTable: Node<HTML.BodyContext> = bonds.isEmpty ? .empty : .table(.class("data"),
            .caption(.text(ctx.t("bonds.title"))),
            .thead(.tr(.th(.text("№")), .th(.text(ctx.t("credits.borrower"))), .th(.class("num"), .text(ctx.t("limits.amount"))), .th(.text(ctx.t("bonds.years"))), .th(.text(ctx.t("bonds.issued_on"))))),
            .tbody(.forEach(bonds) { b in
                .tr(.td(.a(.href("/bonds/\(b.id)"), .text(String(b.id)))), .td(.text(names.org(b.borrower_id) + " · " + names.region(b.region_iso))), .td(.class("num"), .text(Self.tenge(b.amount))),
                    .td(.text(String(b.years))), .td(.text(b.issued_on)))
            }))
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("credits.title"),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("credits.title"))),
            .p(.class("lead"), .text(ctx.t("credits.lead"))),
            .p(.a(.href("/loans"), .text(ctx.t("loans.title"))), .text(" · "), .a(.href("/limits"), .text(ctx.t("limits.title")))),
            table, akimatForm, bondTable, ministryForms
        ), status: status)
    }

    @Sendable func grant(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        return try await ProjectRoutes.handle(req, {
            guard let level = f["level"].flatMap(CreditLevel.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("level", "choose_from_list")]) }
            guard let borrower = LabourMarketRoutes.int(f["borrower_id"]) else { throw FieldErrors(errors: [FieldError("borrower_id", "choose_from_list")]) }
            let amount = try Self.money(f, "amount"), grace = try Self.int(f, "grace_months"), on = try Self.date(f, "transferred_on")
            let env = try await req.jumys.rules.current()
            switch level {
            case .localBody:
                guard let dir = f["direction"].flatMap(FundingDirection.init(rawValue:)), let year = LabourMarketRoutes.int(f["year"]),
                      let org = try await OrganisationRecord.find(borrower, on: req.jumys.store.db), let region = org.regionISO else { throw FieldErrors(errors: [FieldError("borrower_id", "choose_from_list")]) }
                try await Self.store(req).grant(level: .localBody, parent: nil, year: year, direction: dir, region: region, borrower: borrower, amount: amount, graceMonths: grace,
                                                transferredOn: on, decision: f["decision"] ?? "", env: env, by: user)
            case .creditOrganisation:
                try await Self.store(req).grant(level: .creditOrganisation, parent: LabourMarketRoutes.int(f["parent_id"]), year: 0, direction: .roadmapCredit, region: "", borrower: borrower,
                                                amount: amount, graceMonths: grace, transferredOn: on, decision: f["decision"] ?? "", env: env, by: user)
            }
            return req.redirect(to: "/credits", redirectType: .normal)
        }, onErrors: { try await credits(req, values: f, errors: $0, status: .unprocessableEntity) })
    }

    @Sendable func settle(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        guard try await ProjectStore(store: req.jumys.store).body(of: user) == .ministry else { throw Abort(.forbidden) }
        try await Self.store(req).settleDue(by: user.actor)
        return req.redirect(to: "/credits", redirectType: .normal)
    }

    @Sendable func issueBond(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        return try await ProjectRoutes.handle(req, {
            guard let borrower = LabourMarketRoutes.int(f["bond_borrower_id"]), let org = try await OrganisationRecord.find(borrower, on: req.jumys.store.db), let region = org.regionISO else {
                throw FieldErrors(errors: [FieldError("bond_borrower_id", "choose_from_list")])
            }
            let id = try await Self.store(req).issueBond(region: region, borrower: borrower, amount: try Self.money(f, "bond_amount"), years: try Self.int(f, "years"),
                                                         issuedOn: try Self.date(f, "issued_on"), purpose: f["purpose"] ?? "", env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/bonds/\(id)", redirectType: .normal)
        }, onErrors: { errs in try await credits(req, values: f, errors: errs.map { ($0.field == "amount" ? "bond_amount" : $0.field == "borrower_id" ? "bond_borrower_id" : $0.field, $0.message) }, status: .unprocessableEntity) })
    }

    @Sendable func bondPage(req: Request) async throws -> Response { try await bond(req, values: [:], errors: [], status: .ok) }

    func bond(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let id = try CaseworkRoutes.id(req)
        let ctx = PageContext(req)
        let store = Self.store(req)
        guard let b = try await store.bonds(for: user).first(where: { $0.id == id }) else { throw Abort(.notFound) }
        let events = try await store.bondEvents(id)
        let env = try await req.jumys.rules.current()
        let lines = try store.bondSchedule(b, events: events, env: env)
        let names = try await ProjectRoutes.Names.load(req, ctx.lang, organisations: [b.borrower_id])
        let body = try await ProjectStore(store: req.jumys.store).body(of: user)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("bonds.title"),
            .p(.a(.href("/credits"), .text("← " + ctx.t("credits.title")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("bonds.heading", ["id": String(b.id), "borrower": names.org(b.borrower_id)]))),
            .p(.class("lead"), .text(ctx.t("bonds.lead", ["amount": Self.tenge(b.amount), "years": String(b.years), "on": b.issued_on]) + " " + b.purpose)),
            .table(.class("data"), .caption(.text(ctx.t("loans.schedule"))),
                .thead(.tr(.th(.text("№")), .th(.text(ctx.t("loans.due_on"))), .th(.class("num"), .text(ctx.t("loans.principal"))), .th(.class("num"), .text(ctx.t("loans.interest"))), .th(.class("num"), .text(ctx.t("loans.balance"))))),
                .tbody(.forEach(lines) { l in .tr(.td(.text(String(l.n))), .td(.text(l.date.iso)), .td(.class("num"), .text(Self.tenge(l.principal.tiyn))), .td(.class("num"), .text(Self.tenge(l.interest.tiyn))), .td(.class("num"), .text(Self.tenge(l.balance.tiyn)))) })),
            events.isEmpty ? .empty : .table(.class("data"), .caption(.text(ctx.t("bonds.events"))),
                .thead(.tr(.th(.text(ctx.t("limits.when"))), .th(.text(ctx.t("limits.kind"))), .th(.text(ctx.t("bonds.month"))), .th(.class("num"), .text(ctx.t("limits.amount"))), .th(.text(ctx.t("project.note"))))),
                .tbody(.forEach(events) { e in .tr(.td(.text(e.on_date)), .td(.text(ctx.t("bond_event.\(e.kind)"))), .td(.text(e.month ?? "")), .td(.class("num"), .text(Self.tenge(e.amount))), .td(.text(e.note))) })),
            body == .ministry ? .form(.method(.post), .action("/bonds/\(id)/early_repayment"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("bond_event.early_repayment"))), k.text("amount", ctx.t("limits.amount")), k.text("on", ctx.t("limits.when"), type: .date), k.text("note", ctx.t("project.note")),
                .button(.type(.submit), .class("button"), .text(ctx.t("form.save")))) : .empty,
            body == .akimat && user.districtID == nil && user.regionISO == b.region_iso ? .form(.method(.post), .action("/bonds/\(id)/use_report"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("bond_event.use_report"))), k.text("month", ctx.t("bonds.month"), hint: "YYYY-MM", width: "narrow"), k.text("amount", ctx.t("bonds.used")),
                k.text("on", ctx.t("limits.when"), type: .date), k.text("note", ctx.t("project.note")),
                .button(.type(.submit), .class("button"), .text(ctx.t("form.save")))) : .empty
        ), status: status)
    }

    @Sendable func bondEvent(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        guard let kind = req.parameters.get("kind").flatMap(BondEventKind.init(rawValue:)) else { throw Abort(.notFound) }
        let f = try CaseworkRoutes.form(req)
        return try await ProjectRoutes.handle(req, {
            try await Self.store(req).recordBondEvent(id, kind: kind, month: f["month"], amount: try Self.money(f, "amount"), on: try Self.date(f, "on"), note: f["note"] ?? "", by: user)
            return req.redirect(to: "/bonds/\(id)", redirectType: .normal)
        }, onErrors: { try await bond(req, values: f, errors: $0, status: .unprocessableEntity) })
    }

    // MARK: loans

    @Sendable func list(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let store = Self.store(req)
        let state = (try? req.query.get(String.self, at: "state")).flatMap(LoanState.init(rawValue:))
        let flag = (try? req.query.get(String.self, at: "flag")).flatMap { ["arrears", "target_use_overdue", "jobs_overdue", "job_vacant"].contains($0) ? $0 : nil }
        let rows = try await store.loans(for: user, CreditStore.LoanFilter(state: state))
        let today = req.jumys.store.today()
        let standings = try await store.standings(of: rows, today: today)
        let shown = flag.map { f in rows.filter { standings[$0.id]?.flags.contains(f) ?? false } } ?? rows
        let names = try await ProjectRoutes.Names.load(req, ctx.lang, organisations: Set(rows.map(\.lender_id)))
        let flags = ["arrears", "target_use_overdue", "jobs_overdue", "job_vacant"]
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("loans.title"),
            .h1(.text(ctx.t("loans.title"))),
            .p(.class("lead"), .text(ctx.t("loans.lead"))),
            ExportRoutes.links(ctx, .loans, ExportFilter(state: state?.rawValue)),
            .p(user.role == .lender ? .a(.href("/loans/new"), .class("button"), .text(ctx.t("loans.new"))) : .empty, .text(" "),
               .a(.href("/loans/reports"), .text(ctx.t("loans.reports"))), .text(" · "), .a(.href("/credits"), .text(ctx.t("credits.title")))),
            .form(.method(.get), .action("/loans"), .class("filters"),
                .div(.class("field"), .label(.for("f-state"), .text(ctx.t("limits.state"))),
                     .select(.id("f-state"), .attribute(named: "name", value: "state"), .element(named: "option", nodes: [.attribute(named: "value", value: "", ignoreIfValueIsEmpty: false), .text("—")]),
                             .forEach(LoanState.allCases) { s in .element(named: "option", nodes: [.attribute(named: "value", value: s.rawValue), s == state ? .attribute(named: "selected", value: "selected") : .empty, .text(ctx.t("loan_state.\(s.rawValue)"))]) })),
                .div(.class("field"), .label(.for("f-flag"), .text(ctx.t("loans.flag"))),
                     .select(.id("f-flag"), .attribute(named: "name", value: "flag"), .element(named: "option", nodes: [.attribute(named: "value", value: "", ignoreIfValueIsEmpty: false), .text("—")]),
                             .forEach(flags) { s in .element(named: "option", nodes: [.attribute(named: "value", value: s), s == flag ? .attribute(named: "selected", value: "selected") : .empty, .text(ctx.t("loan_flag.\(s)"))]) })),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("filter.apply")))),
            shown.isEmpty ? .p(.class("empty"), .text(ctx.t("loans.none"))) : .table(.class("data"),
                .thead(.tr(.th(.text("№")), .th(.text(ctx.t("loans.kind"))), .th(.text(ctx.t("credits.lender"))), .th(.text(ctx.t("filter.region"))),
                           .th(.class("num"), .text(ctx.t("limits.amount"))), .th(.text(ctx.t("loans.contract_on"))), .th(.text(ctx.t("loans.jobs"))), .th(.text(ctx.t("limits.state"))), .th(.text(ctx.t("loans.flag"))))),
                .tbody(.forEach(shown) { l in
                    let s = standings[l.id]
                    return .tr(.td(.a(.href("/loans/\(l.id)"), .text(l.number))), .td(.text(ctx.t("loan_kind.\(l.kind)"))), .td(.text(names.org(l.lender_id))),
                               .td(.text(names.region(l.region_iso) + " · " + names.district(l.district_id))), .td(.class("num"), .text(Self.tenge(l.amount))), .td(.text(l.contract_on)),
                               .td(.text("\(s?.jobsConfirmed ?? 0) / \(l.jobs_promised)")), .td(.span(.class("tag"), .text(ctx.t("loan_state.\(l.state)")))),
                               .td(.forEach(s?.flags ?? []) { f in .span(.class("tag late"), .text(ctx.t("loan_flag.\(f)"))) }))
                }))
        ))
    }

    @Sendable func newForm(req: Request) async throws -> Response {
        let today = req.jumys.store.today()
        return try await form(req, values: ["contract_on": today.iso, "term_months": "60", "grace_months": "6", "rate_percent": "6", "method": "annuity", "purpose": "investment", "jobs_promised": "1", "tax_registered": "true"],
                              errors: [], status: .ok)
    }

    func form(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        guard user.role == .lender, let org = user.organisationID else { throw Abort(.forbidden) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let credits = try await Self.store(req).credits(for: user).filter { $0.levelValue == .creditOrganisation && $0.borrower_id == org && $0.returned_on == nil }
        let names = try await ProjectRoutes.Names.load(req, ctx.lang)
        let regions = Set(credits.map(\.region_iso))
        let districts = names.districts.values.filter { regions.contains($0.regionISO) }.sorted { names.district($0.id!) < names.district($1.id!) }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("loans.new"),
            .p(.a(.href("/loans"), .text("← " + ctx.t("loans.title")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("loans.new"))),
            .p(.class("lead"), .text(ctx.t("loans.new.lead"))),
            credits.isEmpty ? .p(.class("empty"), .text(ctx.t("loans.no_credit"))) : .form(.method(.post), .action("/loans"), .class("panel"), ctx.csrfField(),
                k.select("credit_id", ctx.t("loans.credit"), options: credits.map { (String($0.id), "№\($0.id) · \(ctx.t("direction.\($0.direction)")) · \(Self.tenge($0.available))") }, blank: false),
                k.select("district_id", ctx.t("filter.district"), options: districts.map { (String($0.id!), names.district($0.id!)) }),
                k.text("borrower_id", ctx.t("loans.borrower_id"), hint: ctx.t("loans.borrower_id.hint")),
                k.text("borrower_name", ctx.t("loans.borrower_name")),
                k.checkbox("tax_registered", ctx.t("loans.tax_registered"), checked: values["tax_registered"] == "true"),
                k.select("purpose", ctx.t("loans.purpose"), options: Rules.LoanPurpose.allCases.map { ($0.rawValue, ctx.t("loan_purpose.\($0.rawValue)")) }, blank: false),
                k.text("purpose_text", ctx.t("loans.purpose_text")),
                k.text("amount", ctx.t("limits.amount")),
                k.text("term_months", ctx.t("loans.term_months"), width: "narrow"),
                k.text("rate_percent", ctx.t("loans.rate_percent"), width: "narrow"),
                k.text("grace_months", ctx.t("credits.grace"), width: "narrow"),
                k.select("method", ctx.t("loans.method"), options: Rules.ScheduleMethod.allCases.map { ($0.rawValue, ctx.t("schedule_method.\($0.rawValue)")) }, blank: false),
                k.text("jobs_promised", ctx.t("loans.jobs_promised"), hint: ctx.t("loans.jobs_promised.hint"), width: "narrow"),
                k.text("contract_on", ctx.t("loans.contract_on"), type: .date),
                .button(.type(.submit), .class("button"), .text(ctx.t("loans.create"))))
        ), status: status)
    }

    /// A loan from the form's (or the API body's) fields.
    static func loanInput(_ f: [String: String]) throws -> LoanInput {
        guard let credit = LabourMarketRoutes.int(f["credit_id"]) else { throw FieldErrors(errors: [FieldError("credit_id", "choose_from_list")]) }
        guard let district = LabourMarketRoutes.int(f["district_id"]) else { throw FieldErrors(errors: [FieldError("district_id", "choose_from_list")]) }
        guard let purpose = f["purpose"].flatMap(Rules.LoanPurpose.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("purpose", "choose_from_list")]) }
        guard let method = f["method"].flatMap(Rules.ScheduleMethod.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("method", "choose_from_list")]) }
        guard let rate = FixedDecimal((f["rate_percent"] ?? "").replacingOccurrences(of: ",", with: ".").trimmingCharacters(in: .whitespaces)) else { throw FieldErrors(errors: [FieldError("rate_percent", "number_invalid")]) }
        return LoanInput(creditID: credit, districtID: district, borrowerID: f["borrower_id"] ?? "", borrowerName: f["borrower_name"] ?? "", taxRegistered: f["tax_registered"] == "true",
                         purpose: purpose, purposeText: f["purpose_text"] ?? "", amount: try Self.money(f, "amount"), termMonths: try Self.int(f, "term_months"), ratePercent: rate,
                         graceMonths: try Self.int(f, "grace_months"), method: method, jobsPromised: try Self.int(f, "jobs_promised"), contractOn: try Self.date(f, "contract_on"))
    }

    @Sendable func create(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        return try await ProjectRoutes.handle(req, {
            let id = try await Self.store(req).createLoan(try Self.loanInput(f), env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/loans/\(id)", redirectType: .normal)
        }, onErrors: { try await form(req, values: f, errors: $0, status: .unprocessableEntity) })
    }

    @Sendable func show(req: Request) async throws -> Response { try await card(req, values: [:], errors: [], status: .ok) }

    func card(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let id = try CaseworkRoutes.id(req)
        let ctx = PageContext(req)
        let store = Self.store(req)
        guard let l = try await store.loan(id, for: user) else { throw Abort(.notFound) }
        let today = req.jumys.store.today()
        let lines = try await store.schedule(of: id), repayments = try await store.repayments(of: id), disbursements = try await store.disbursements(of: id), jobs = try await store.jobs(of: id)
        let s = CreditStore.standing(l, schedule: lines, repayments: repayments, jobs: jobs, today: today)
        let names = try await ProjectRoutes.Names.load(req, ctx.lang, organisations: [l.lender_id])
        let mine = user.role == .lender && user.organisationID == l.lender_id
        let open = l.stateValue != .demanded && l.stateValue != .repaid
        let k = FormKit(ctx: ctx, errors: errors, values: values.isEmpty ? ["on": today.iso, "contract_on": today.iso] : values)
        let explanation = (l.check_explanation.flatMap { try? JSONDecoder().decode([ExplanationStep].self, from: Data($0.utf8)) }) ?? []
        let total = lines.reduce((Int64(0), Int64(0))) { ($0.0 + $1.principal, $0.1 + $1.interest) }
        func dl(_ pairs: [(String, String)]) -> Node<HTML.BodyContext> {
            .dl(.class("summary"), .forEach(pairs) { p in .group(.dt(.text(p.0)), .dd(.text(p.1))) })
        }
        func action(_ name: String, _ title: String, _ fields: [Node<HTML.FormContext>]) -> Node<HTML.BodyContext> {
            .form(.method(.post), .action("/loans/\(id)/\(name)"), .id("loan-\(name)"), .class("panel"), ctx.csrfField(), .h2(.text(title)), .group(fields), .button(.type(.submit), .class("button"), .text(ctx.t("form.save"))))
        }
        let facts = dl([
            (ctx.t("loans.kind"), ctx.t("loan_kind.\(l.kind)")), (ctx.t("credits.lender"), names.org(l.lender_id)),
            (ctx.t("filter.region"), names.region(l.region_iso) + " · " + names.district(l.district_id)),
            (ctx.t("loans.borrower_name"), l.borrower_name), (ctx.t("loans.borrower_id"), l.borrower_id),
            (ctx.t("loans.purpose"), ctx.t("loan_purpose.\(l.purpose)") + " · " + l.purpose_text),
            (ctx.t("limits.amount"), Self.tenge(l.amount)),
            (ctx.t("credits.terms"), ctx.t("loans.terms.text", ["months": String(l.term_months), "rate": FixedDecimal(units: l.rate).description, "grace": String(l.grace_months), "method": ctx.t("schedule_method.\(l.method)")])),
            (ctx.t("loans.contract_on"), l.contract_on), (ctx.t("loans.disbursed"), Self.tenge(l.disbursed) + (l.disbursed_on.map { " · " + $0 } ?? "")),
            (ctx.t("loans.target_use_by"), (l.target_use_by ?? "—") + (l.target_use_confirmed_on.map { " · " + ctx.t("loans.confirmed_on", ["date": $0]) } ?? "")),
            (ctx.t("loans.jobs_by"), (l.jobs_by ?? "—") + " · " + ctx.t("loans.jobs_confirmed", ["n": String(s.jobsConfirmed), "of": String(l.jobs_promised)])),
            (ctx.t("loans.repaid"), Self.tenge(s.repaid.tiyn) + " / " + Self.tenge(s.due.tiyn)),
            (ctx.t("loans.arrears"), s.arrears.tiyn > 0 ? Self.tenge(s.arrears.tiyn) + (s.overdueSince.map { " · " + ctx.t("loans.since", ["date": $0.iso]) } ?? "") : "—"),
            (ctx.t("loans.outstanding"), Self.tenge(s.outstandingPrincipal.tiyn)),
        ])
        let demandBox: Node<HTML.BodyContext> = l.demanded_on == nil ? .empty : .div(.class("notice late"), .attribute(named: "role", value: "status"),
            .h2(.text(ctx.t("loans.demanded"))), .p(.text(ctx.t("loans.demanded.text", ["date": l.demanded_on ?? "", "penalty": Self.tenge(l.penalty)]))), .p(.text(l.demand_reason ?? "")))
        let schedule: Node<HTML.BodyContext> = .details(.summary(.text(ctx.t("loans.schedule") + " (\(lines.count))")),
            .table(.class("data"),
                .thead(.tr(.th(.text("№")), .th(.text(ctx.t("loans.due_on"))), .th(.class("num"), .text(ctx.t("loans.principal"))), .th(.class("num"), .text(ctx.t("loans.interest"))), .th(.class("num"), .text(ctx.t("loans.balance"))))),
                .tbody(.forEach(lines) { r in .tr(.td(.text(String(r.n))), .td(.text(r.due_on)), .td(.class("num"), .text(Self.tenge(r.principal))), .td(.class("num"), .text(Self.tenge(r.interest))), .td(.class("num"), .text(Self.tenge(r.balance)))) }),
                .tfoot(.tr(.th(.text(ctx.t("board.total"))), .td(.text("")), .td(.class("num"), .text(Self.tenge(total.0))), .td(.class("num"), .text(Self.tenge(total.1))), .td(.text(""))))))
        let jobsTable: Node<HTML.BodyContext> = jobs.isEmpty ? .p(.class("empty"), .text(ctx.t("loans.no_jobs"))) : .table(.class("data"), .caption(.text(ctx.t("loans.jobs"))),
            .thead(.tr(.th(.text(ctx.t("loans.slot"))), .th(.text(ctx.t("loans.contract_number"))), .th(.text(ctx.t("loans.contract_on"))), .th(.text(ctx.t("loans.ended_on"))), .th(.span(.class("visually-hidden"), .text(ctx.t("table.action")))))),
            .tbody(.forEach(jobs) { j in
                .tr(.td(.text(String(j.slot))), .td(.text(j.contract_number + (j.seasonal ? " · " + ctx.t("loans.seasonal") : ""))), .td(.text(j.contract_on)), .td(.text(j.ended_on ?? "—")),
                    .td(mine && open && j.ended_on == nil ? .form(.method(.post), .action("/loans/\(id)/job-end"), .class("inline"), ctx.csrfField(),
                        .input(.type(.hidden), .name("job_id"), .value(String(j.id))),
                        .label(.for("ended-\(j.id)"), .class("visually-hidden"), .text(ctx.t("loans.ended_on"))), .input(.type(.date), .id("ended-\(j.id)"), .name("ended_on"), .value(today.iso)),
                        .button(.type(.submit), .class("button secondary"), .text(ctx.t("loans.job_end")))) : .text("")))
            }))
        let money: Node<HTML.BodyContext> = (disbursements.isEmpty && repayments.isEmpty) ? .empty : .details(.summary(.text(ctx.t("loans.payments") + " (\(disbursements.count + repayments.count))")), .table(.class("data"),
            .thead(.tr(.th(.text(ctx.t("limits.when"))), .th(.text(ctx.t("limits.kind"))), .th(.class("num"), .text(ctx.t("limits.amount"))))),
            .tbody(.forEach(disbursements) { e in .tr(.td(.text(e.on_date)), .td(.text(ctx.t("loans.disbursement"))), .td(.class("num"), .text(Self.tenge(e.amount)))) },
                   .forEach(repayments) { e in .tr(.td(.text(e.on_date)), .td(.text(ctx.t("loans.repayment"))), .td(.class("num"), .text(Self.tenge(e.amount)))) })))
        // The lender's steps open on this loan now; the flagged one (a demand) first.
        var steps: [(name: String, title: String, form: Node<HTML.BodyContext>)] = []
        func add(_ name: String, _ title: String, _ fields: [Node<HTML.FormContext>]) { steps.append((name, title, action(name, title, fields))) }
        if mine && open {
            if s.demandable {
                add("demand", ctx.t("loans.demand"), [.p(.class("hint"), .text(ctx.t("loans.demand.hint"))), k.text("penalty", ctx.t("loans.penalty")), k.text("reason", ctx.t("limits.reason")),
                                                               k.text("demand_on", ctx.t("limits.when"), type: .date)])
            }
            if l.disbursed < l.amount { add("disburse", ctx.t("loans.disburse"), [k.text("amount", ctx.t("limits.amount")), k.text("on", ctx.t("limits.when"), type: .date)]) }
            if l.disbursed_on != nil { add("repay", ctx.t("loans.repay"), [k.text("repay_amount", ctx.t("limits.amount")), k.text("repay_on", ctx.t("limits.when"), type: .date)]) }
            if l.disbursed_on != nil && l.target_use_confirmed_on == nil { add("target-use", ctx.t("loans.target_use"), [k.text("use_on", ctx.t("limits.when"), type: .date)]) }
            if l.disbursed_on != nil && l.jobs_promised > 0 {
                add("job", ctx.t("loans.job"), [k.text("contract_number", ctx.t("loans.contract_number")), k.text("contract_on", ctx.t("loans.contract_on"), type: .date),
                                                          k.text("slot", ctx.t("loans.slot"), hint: ctx.t("loans.slot.hint"), width: "narrow"), k.checkbox("seasonal", ctx.t("loans.seasonal"), checked: false)])
            }
        }
        let actions: Node<HTML.BodyContext> = .group(steps.map(\.form))
        // At the top: what is wrong with the loan, and the steps that can be taken (links to their forms below).
        let nextStep: Node<HTML.BodyContext> = s.flags.isEmpty && steps.isEmpty ? .empty : .div(.class(s.flags.isEmpty ? "notice next-step" : "notice late next-step"), .attribute(named: "role", value: "status"),
            s.flags.isEmpty ? .empty : .p(.forEach(s.flags) { f in .span(.class("tag late"), .text(ctx.t("loan_flag.\(f)"))) }),
            steps.isEmpty ? .empty : .p(.strong(.text(ctx.t("loans.next") + " ")), .group(steps.enumerated().map { i, st in
                .group(i == 0 ? .empty : .text(" · "), .a(.href("#loan-\(st.name)"), .text(st.title))) })))
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("loans.card.title", ["number": l.number]),
            .p(.a(.href("/loans"), .text("← " + ctx.t("loans.title")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("loans.card.title", ["number": l.number])), .text(" "), .span(.class("tag"), .text(ctx.t("loan_state.\(l.state)")))),
            nextStep, demandBox, facts, actions, jobsTable, schedule, money,
            explanation.isEmpty ? .empty : .details(.summary(.text(ctx.t("loans.check"))), .ul(.forEach(explanation) { e in .li(.text("\(e.rule): \(e.text)")) }))
        ), status: status)
    }

    @Sendable func act(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let action = req.parameters.get("action") ?? ""
        let f = try CaseworkRoutes.form(req)
        return try await ProjectRoutes.handle(req, {
            try await Self.perform(action, loan: id, f, store: Self.store(req), env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/loans/\(id)", redirectType: .normal)
        }, onErrors: { try await card(req, values: f, errors: $0, status: .unprocessableEntity) })
    }

    /// The lender's steps on a loan, by name, from the form's (or the API body's) fields.
    static func perform(_ action: String, loan id: Int, _ f: [String: String], store: CreditStore, env: RulesEnvironment, by user: UserContext) async throws {
        func renamed(_ e: FieldErrors, _ map: [String: String]) -> FieldErrors { FieldErrors(errors: e.errors.map { FieldError(map[$0.field] ?? $0.field, $0.code, $0.args) }) }
        switch action {
        case "disburse": try await store.disburse(loan: id, amount: try Self.money(f, "amount"), on: try Self.date(f, "on"), env: env, by: user)
        case "repay":
            do { try await store.repay(loan: id, amount: try Self.money(f, "repay_amount"), on: try Self.date(f, "repay_on"), by: user) } catch let e as FieldErrors { throw renamed(e, ["amount": "repay_amount", "on": "repay_on"]) }
        case "target-use":
            do { try await store.confirmTargetUse(loan: id, on: try Self.date(f, "use_on"), by: user) } catch let e as FieldErrors { throw renamed(e, ["on": "use_on"]) }
        case "job":
            let slot = (f["slot"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty ? nil : try Self.int(f, "slot")
            try await store.recordJob(loan: id, slot: slot, contractNumber: f["contract_number"] ?? "", contractOn: try Self.date(f, "contract_on"), seasonal: f["seasonal"] == "true", by: user)
        case "job-end": try await store.endJob(loan: id, job: try Self.int(f, "job_id"), endedOn: try Self.date(f, "ended_on"), by: user)
        case "demand":
            do { try await store.demand(loan: id, penalty: try Self.money(f, "penalty"), reason: f["reason"] ?? "", on: try Self.date(f, "demand_on"), by: user) } catch let e as FieldErrors { throw renamed(e, ["on": "demand_on"]) }
        default: throw Abort(.notFound)
        }
    }

    // MARK: C7 reports

    static func reportMonth(_ req: Request) -> Payroll.Month {
        let prev = req.jumys.store.today().adding(months: -1)
        return (try? req.query.get(String.self, at: "month")).flatMap(Payroll.Month.init) ?? Payroll.Month(String(format: "%04d-%02d", prev.year, prev.month))!
    }

    /// `/loans/reports/c7.xlsx?month=` and `.csv`: the month's C7 figures as a file, a line per region and credit organisation.
    @Sendable func reportFile(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let month = Self.reportMonth(req)
        let rows = try await Self.store(req).report(month: month, for: user)
        let names = try await ProjectRoutes.Names.load(req, ctx.lang, organisations: Set(rows.map(\.lender_id)))
        let table = ReportTable(c7: rows)
        let format = req.url.path.hasSuffix(".xlsx") ? "xlsx" : "csv"
        return try table.file(format: format, sheet: "C7 \(month)", columns: [ctx.t("filter.region") + " · " + ctx.t("credits.lender")] + table.columns.dropFirst().map { ctx.t($0) },
                              place: { key in
                                  let p = key.split(separator: "#")
                                  return names.region(String(p.first ?? "")) + " · " + names.org(p.count > 1 ? Int(p[1]) : nil)
                              }, totalName: ctx.t("board.total"), name: "c7-\(month)", extra: nil)
    }

    @Sendable func reports(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let today = req.jumys.store.today()
        let month = Self.reportMonth(req)
        let rows = try await Self.store(req).report(month: month, for: user)
        let names = try await ProjectRoutes.Names.load(req, ctx.lang, organisations: Set(rows.map(\.lender_id)))
        let env = try await req.jumys.rules.current()
        let calc = env.context(on: today)
        let reportKinds: [Rules.Report] = [.loansIssuedByLender, .loansUseByLender, .loansIssuedByAkimat, .loansUseByAkimat]
        let dues = reportKinds.map { r in (r, (try? Rules.reportDeadline(report: r, periodYear: month.year, periodMonth: month.month, calc).value)?.iso ?? "—") }
        let half = month.month <= 6 ? 1 : 2
        let monitoring = (try? Rules.loanMonitoringDeadline(year: month.year, half: half, calc).value)?.iso ?? "—"
        let sum = rows.reduce((0, Int64(0), 0, Int64(0), 0, 0, 0, 0)) { a, r in (a.0 + r.issued, a.1 + r.issued_amount, a.2 + r.jobs_promised, a.3 + r.disbursed_amount, a.4 + r.use_confirmed, a.5 + r.use_overdue, a.6 + r.jobs_confirmed, a.7 + r.demanded) }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("loans.reports"),
            .p(.a(.href("/loans"), .text("← " + ctx.t("loans.title")))),
            .h1(.text(ctx.t("loans.reports.heading", ["month": month.description]))),
            .p(.class("lead"), .text(ctx.t("loans.reports.lead"))),
            .form(.method(.get), .action("/loans/reports"), .class("filters"),
                .div(.class("field"), .label(.for("f-month"), .text(ctx.t("bonds.month"))), .input(.type(.text), .id("f-month"), .name("month"), .value(month.description), .class("narrow"))),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("filter.apply")))),
            .p(.class("print-links"), .a(.href("/loans/reports/c7.xlsx?month=\(month)"), .text(ctx.t("reports.download.xlsx"))), .text(" · "),
               .a(.href("/loans/reports/c7.csv?month=\(month)"), .text(ctx.t("reports.download.csv")))),
            .table(.class("data"), .caption(.text(ctx.t("loans.reports.due"))),
                .thead(.tr(.th(.text(ctx.t("loans.reports.report"))), .th(.text(ctx.t("loans.due_on"))))),
                .tbody(.forEach(dues) { r, due in .tr(.td(.text(ctx.t("report_kind.\(r.rawValue)"))), .td(.text(due))) },
                       .tr(.td(.text(ctx.t("loans.reports.monitoring", ["half": String(half), "year": String(month.year)]))), .td(.text(monitoring))))),
            rows.isEmpty ? .p(.class("empty"), .text(ctx.t("loans.none"))) : .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("filter.region"))), .th(.text(ctx.t("credits.lender"))), .th(.class("num"), .text(ctx.t("loans.reports.issued"))), .th(.class("num"), .text(ctx.t("limits.amount"))),
                           .th(.class("num"), .text(ctx.t("loans.jobs_promised"))), .th(.class("num"), .text(ctx.t("loans.disbursed"))), .th(.class("num"), .text(ctx.t("loans.reports.use_confirmed"))),
                           .th(.class("num"), .text(ctx.t("loan_flag.target_use_overdue"))), .th(.class("num"), .text(ctx.t("loans.reports.jobs_confirmed"))), .th(.class("num"), .text(ctx.t("loans.demanded"))))),
                .tbody(.forEach(rows) { r in
                    .tr(.td(.text(names.region(r.region_iso))), .td(.text(names.org(r.lender_id))), .td(.class("num"), .text(String(r.issued))), .td(.class("num"), .text(Self.tenge(r.issued_amount))),
                        .td(.class("num"), .text(String(r.jobs_promised))), .td(.class("num"), .text(Self.tenge(r.disbursed_amount))), .td(.class("num"), .text(String(r.use_confirmed))),
                        .td(.class("num"), .text(String(r.use_overdue))), .td(.class("num"), .text(String(r.jobs_confirmed))), .td(.class("num"), .text(String(r.demanded))))
                }),
                .tfoot(.tr(.th(.text(ctx.t("board.total"))), .td(.text("")), .td(.class("num"), .text(String(sum.0))), .td(.class("num"), .text(Self.tenge(sum.1))), .td(.class("num"), .text(String(sum.2))),
                           .td(.class("num"), .text(Self.tenge(sum.3))), .td(.class("num"), .text(String(sum.4))), .td(.class("num"), .text(String(sum.5))), .td(.class("num"), .text(String(sum.6))), .td(.class("num"), .text(String(sum.7))))))
        ))
    }
}
