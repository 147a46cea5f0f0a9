import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// Direction 2 (C1–C3) on the web: the business application, requests for conclusions and the addressees' inbox,
/// the notification of the decision (printable in Kazakh and Russian), training, plan, loan decision, support.
struct BusinessRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("people", ":id", "business", "new", use: newForm)
        routes.post("people", ":id", "business", use: create)
        routes.get("business", ":id", use: show)
        routes.post("business", ":id", ":step", use: step)
        routes.get("business", ":id", "notification", ":lang", use: notification)
        routes.get("conclusions", use: inbox)
        routes.get("conclusions", ":id", use: request)
        routes.post("conclusions", ":id", "answer", use: answer)
    }

    typealias Errors = [(field: String, message: String)]
    static func store(_ req: Request) -> BusinessStore { BusinessStore(store: req.jumys.store) }
    static func orgName(_ o: OrganisationRecord?, _ lang: Lang) -> String { LabourMarketRoutes.orgName(o, lang) }
    static func money(_ s: String?) -> Money? { s.flatMap { Money(string: $0.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: ",", with: ".")) } }

    /// A late or overdue tag for a conclusion: what both the centre and the addressee see.
    static func conclusionTag(_ ctx: PageContext, _ r: BusinessStore.ConclusionRow, today: CivilDate) -> Node<HTML.BodyContext> {
        let late = r.daysLate(today: today)
        if let on = r.answered_on {
            let text = ctx.t(r.positive == true ? "conclusion.positive" : "conclusion.negative") + " · " + on
            return .span(.class(late > 0 ? "tag late" : "tag ok"), .text(late > 0 ? text + " · " + ctx.t("conclusion.answered_late", ["n": String(late)]) : text))
        }
        return late > 0 ? .span(.class("tag late"), .text(ctx.t("conclusion.overdue", ["n": String(late), "date": r.due_on])))
                        : .span(.class("tag"), .text(ctx.t("conclusion.waiting", ["date": r.due_on])))
    }

    // MARK: the application form

    @Sendable func newForm(req: Request) async throws -> Response {
        try await formPage(req, values: ["place": "rural", "sector": "agriculture"], errors: [], status: .ok)
    }

    func formPage(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        guard user.doesCasework, let p = try await CaseStore(store: req.jumys.store).person(try CaseworkRoutes.id(req), scope: user.scope) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let lenders = try await OrganisationRecord.query(on: req.jumys.store.db).filter(\.$kind == OrganisationKind.creditOrganisation.rawValue).sort(\.$code).all()
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("business.new"),
            .p(.a(.href("/people/\(p.id)"), .text("← " + p.fullName))),
            .div(.class("narrow"),
                .h1(.text(ctx.t("business.new"))),
                .p(.class("lead"), .text(ctx.t("business.lead"))),
                Layout.errorSummary(ctx, errors),
                .form(.method(.post), .action("/people/\(p.id)/business"), ctx.csrfField(),
                    k.radios("start_or_expand", ctx.t("business.start_or_expand"), options: [("start", ctx.t("business.start")), ("expand", ctx.t("business.expand"))]),
                    k.text("settlement", ctx.t("business.settlement")),
                    k.select("place", ctx.t("business.place"), options: CaseworkViews.options(ctx, "place", BusinessPlace.self), blank: false),
                    k.checkbox("support_settlement", ctx.t("business.support_settlement"), checked: values["support_settlement"] == "true"),
                    k.textarea("idea", ctx.t("business.idea"), rows: 4),
                    k.select("sector", ctx.t("business.sector"), options: BusinessStore.sectors.map { ($0, ctx.t("sector.\($0)")) }, blank: false),
                    k.text("amount_asked", ctx.t("business.amount_asked"), hint: ctx.t("business.amount.hint")),
                    k.checkbox("needs_infrastructure", ctx.t("business.needs_infrastructure"), checked: values["needs_infrastructure"] == "true"),
                    k.select("lender_id", ctx.t("business.lender"), options: lenders.map { (String($0.id!), Self.orgName($0, ctx.lang)) }),
                    k.text("submitted_on", ctx.t("application.submitted_on"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"),
                    .button(.type(.submit), .class("button"), .text(ctx.t("applications.submit")))))
        ), status: status)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        do {
            var errors: [FieldError] = []
            let amount = Self.money(f["amount_asked"])
            if amount == nil { errors.append(FieldError("amount_asked", "amount_invalid")) }
            let place = f["place"].flatMap(BusinessPlace.init(rawValue:))
            if place == nil { errors.append(FieldError("place", "choose_from_list")) }
            let lender = LabourMarketRoutes.int(f["lender_id"])
            if lender == nil { errors.append(FieldError("lender_id", "choose_from_list")) }
            let onText = (f["submitted_on"] ?? "").trimmingCharacters(in: .whitespaces)
            if !onText.isEmpty && CivilDate(iso: onText) == nil { errors.append(FieldError("submitted_on", "date_invalid")) }
            guard errors.isEmpty, let amount, let place, let lender else { throw FieldErrors(errors: errors) }
            let input = BusinessInput(settlement: f["settlement"] ?? "", place: place, supportSettlement: f["support_settlement"] == "true", expand: f["start_or_expand"] == "expand",
                                      idea: f["idea"] ?? "", sector: f["sector"] ?? "", amountAsked: amount, needsInfrastructure: f["needs_infrastructure"] == "true",
                                      lenderID: lender, submittedOn: CivilDate(iso: onText))
            let app = try await Self.store(req).apply(person: id, input, env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/business/\(app)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await formPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    // MARK: the application's page

    @Sendable func show(req: Request) async throws -> Response {
        try await page(req, values: [:], errors: [], status: .ok)
    }

    func page(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let id = try CaseworkRoutes.id(req)
        let cases = CaseStore(store: req.jumys.store)
        let store = Self.store(req)
        guard let b = try await store.business(id, scope: user.scope), let a = try await cases.application(id, scope: user.scope),
              let p = try await cases.person(b.person_id, scope: user.scope) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let today = cases.today()
        let db = req.jumys.store.db
        let orgs = try await OrganisationRecord.query(on: db).sort(\.$code).all()
        let orgByID = Dictionary(uniqueKeysWithValues: orgs.map { ($0.id!, $0) })
        let conclusions = try await store.conclusions(of: id)
        let attendance = try await store.attendance(of: id)
        let visits = try await store.visits(of: id)
        let canAct = user.canWrite && user.doesCasework
        let open = [ApplicationState.submitted, .underReview].contains(a.stateValue)
        let running = a.stateValue.isRunning
        let decided = a.decided_on != nil
        let bodies = BusinessStore.requiredBodies(b)
        func choices(_ body: ConclusionBody) -> [(String, String)] {
            orgs.filter { $0.kind == BusinessStore.kind(of: body).rawValue && ($0.regionISO == nil || $0.regionISO == b.region_iso) }.map { (String($0.id!), Self.orgName($0, ctx.lang)) }
        }
        func conclusionRow(_ r: BusinessStore.ConclusionRow) -> Node<HTML.TableContext> {
            .tr(.td(.text(ctx.t("body.\(r.body)"))), .td(.text(Self.orgName(orgByID[r.organisation_id], ctx.lang))), .td(.text(r.requested_on)), .td(.text(r.due_on)),
                .td(Self.conclusionTag(ctx, r, today: today)), .td(.text(r.reason ?? "")))
        }
        let notificationState: Node<HTML.BodyContext> = {
            guard let due = b.notification_due else { return .text("—") }
            if let sent = b.notified_on { return .span(.class(sent > due ? "tag late" : "tag ok"), .text(ctx.t("business.notified", ["date": sent, "due": due]))) }
            return .span(.class(today.iso > due ? "tag late" : "tag"), .text(ctx.t(today.iso > due ? "business.notification_overdue" : "business.notification_due", ["date": due])))
        }()
        let visitLate = BusinessStore.visitOverdue(b, today: today)
        let asked = Set(conclusions.map(\.body))
        let missing = bodies.filter { !asked.contains($0.rawValue) }
        let present = attendance.filter(\.present).count
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("business.title"),
            .p(.a(.href("/people/\(p.id)"), .text("← " + p.fullName)), .text(" · "), .a(.href("/applications/\(id)"), .text(ctx.t("business.application_link")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("business.title"))),
            // What to do next, once the conclusions are asked for: wait for them, then decide on the application.
            !(canAct && open && missing.isEmpty) ? .empty : {
                let waiting = conclusions.filter { $0.answered_on == nil }
                return .div(.class("notice"), .attribute(named: "role", value: "status"),
                    .p(.text(waiting.isEmpty ? ctx.t("business.next.decide")
                                             : ctx.t("business.next.waiting", ["count": String(waiting.count), "date": waiting.map(\.due_on).max() ?? ""]))),
                    .p(.a(.class(waiting.isEmpty ? "button" : "button secondary"), .href("/applications/\(id)"), .text(ctx.t("business.next.decide.link")))))
            }(),
            .dl(.class("summary"),
                .dt(.text(ctx.t("application.state"))), .dd(.span(.class("tag state-\(a.state)"), .text(ctx.t("state.\(a.state)")))),
                .dt(.text(ctx.t("business.start_or_expand"))), .dd(.text(ctx.t("business.\(b.start_or_expand)"))),
                .dt(.text(ctx.t("business.settlement"))), .dd(.text(b.settlement + " · " + ctx.t("place.\(b.place)") + (b.support_settlement ? " · " + ctx.t("business.support_settlement") : ""))),
                .dt(.text(ctx.t("business.idea"))), .dd(.text(b.idea)),
                .dt(.text(ctx.t("business.sector"))), .dd(.text(ctx.t("sector.\(b.sector)"))),
                .dt(.text(ctx.t("business.amount_asked"))), .dd(.text(Money(tiyn: b.amount_asked).formatted() + " ₸")),
                .dt(.text(ctx.t("business.lender"))), .dd(.text(Self.orgName(orgByID[b.lender_id], ctx.lang))),
                .dt(.text(ctx.t("business.needs_infrastructure"))), .dd(.text(ctx.t(b.needs_infrastructure ? "yes" : "no"))),
                .dt(.text(ctx.t("application.eligible"))), .dd(.text(ctx.t(a.eligible ? "yes" : "no"))),
                .dt(.text(ctx.t("application.decided_on"))), .dd(.text(a.decided_on ?? "—")),
                .dt(.text(ctx.t("business.notification"))), .dd(notificationState)),
            CaseworkViews.explanation(ctx, (try? JSONDecoder().decode([ExplanationStep].self, from: Data(a.eligibility.utf8))) ?? []),

            .h2(.id("conclusions"), .text(ctx.t("conclusion.title"))),
            conclusions.isEmpty ? .p(.class("empty"), .text(ctx.t("conclusion.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("conclusion.body"))), .th(.text(ctx.t("conclusion.organisation"))), .th(.text(ctx.t("conclusion.requested_on"))),
                           .th(.text(ctx.t("conclusion.due_on"))), .th(.text(ctx.t("conclusion.answer"))), .th(.text(ctx.t("conclusion.reason"))))),
                .tbody(.forEach(conclusions) { conclusionRow($0) })),
            !(canAct && open && !missing.isEmpty) ? .empty : .form(.method(.post), .action("/business/\(id)/conclusions"), .class("panel"), ctx.csrfField(),
                .h3(.text(ctx.t("conclusion.request"))),
                .p(.class("hint"), .text(ctx.t("conclusion.request.hint"))),
                .forEach(missing.filter { $0 != .lender }) { body in k.select(body.rawValue, ctx.t("body.\(body.rawValue)"), options: choices(body)) },
                missing.contains(.lender) ? .p(.text(ctx.t("body.lender") + ": " + Self.orgName(orgByID[b.lender_id], ctx.lang))) : .empty,
                k.text("requested_on", ctx.t("conclusion.requested_on"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"),
                .button(.type(.submit), .class("button"), .text(ctx.t("conclusion.send")))),

            .h2(.id("notification"), .text(ctx.t("business.notification"))),
            !decided ? .p(.class("empty"), .text(ctx.t("business.notification.after_decision"))) : .group(
                .p(.a(.href("/business/\(id)/notification/kk"), .text(ctx.t("print.kk"))), .text(" · "), .a(.href("/business/\(id)/notification/ru"), .text(ctx.t("print.ru")))),
                !(canAct && b.notified_on == nil) ? .empty : .form(.method(.post), .action("/business/\(id)/notified"), .class("inline-form"), ctx.csrfField(),
                    k.text("sent_on", ctx.t("business.sent_on"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"),
                    .button(.type(.submit), .class("button secondary"), .text(ctx.t("business.record_sent"))))),

            .h2(.id("training"), .text(ctx.t("business.training"))),
            .p(.text(b.training_starts.map { ctx.t("business.training.dates", ["from": $0, "to": b.training_ends ?? ""]) + " · " + ctx.t("business.training.attendance", ["present": String(present), "days": String(attendance.count)])
                + (b.training_completed_on.map { " · " + ctx.t("business.training.completed", ["date": $0]) } ?? "") } ?? ctx.t("business.training.none"))),
            !(canAct && running) ? .empty : .group(
                b.training_starts != nil ? .empty : .form(.method(.post), .action("/business/\(id)/training"), .class("panel"), ctx.csrfField(),
                    k.text("starts_on", ctx.t("contract.starts_on"), hint: "YYYY-MM-DD"), k.text("ends_on", ctx.t("contract.ends_on"), hint: ctx.t("business.training.hint")),
                    .button(.type(.submit), .class("button secondary"), .text(ctx.t("business.training.schedule")))),
                b.training_starts == nil || b.training_completed_on != nil ? .empty : .group(
                    .form(.method(.post), .action("/business/\(id)/attendance"), .class("inline-form"), ctx.csrfField(),
                        k.text("on_date", ctx.t("business.attendance.day"), hint: "YYYY-MM-DD"),
                        k.select("present", ctx.t("business.attendance.mark"), options: [("true", ctx.t("business.attendance.present")), ("false", ctx.t("business.attendance.absent"))], blank: false),
                        .button(.type(.submit), .class("button secondary"), .text(ctx.t("business.attendance.record")))),
                    .form(.method(.post), .action("/business/\(id)/training_complete"), .class("inline-form"), ctx.csrfField(),
                        k.text("completed_on", ctx.t("training.outcome_on"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"),
                        .button(.type(.submit), .class("button secondary"), .text(ctx.t("training.complete")))))),

            .h2(.id("plan"), .text(ctx.t("business.plan"))),
            .p(.text(b.plan_submitted_on.map { ctx.t("business.plan.submitted", ["date": $0]) + ": " + (b.plan_summary ?? "") } ?? ctx.t("business.plan.none"))),
            !(canAct && running && b.plan_submitted_on == nil) ? .empty : .form(.method(.post), .action("/business/\(id)/plan"), .class("panel"), ctx.csrfField(),
                k.text("plan_on", ctx.t("business.plan.date"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"), k.textarea("plan_summary", ctx.t("business.plan.summary"), rows: 3),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("business.plan.record")))),

            .h2(.id("loan"), .text(ctx.t("business.loan"))),
            .p(.text(b.loan_decision.map { d in
                ctx.t("business.loan.\(d)", ["date": b.loan_decided_on ?? "", "amount": b.loan_amount.map { Money(tiyn: $0).formatted() } ?? "", "months": b.loan_term_months.map(String.init) ?? "", "grace": b.loan_grace_months.map(String.init) ?? ""])
                    + ((b.loan_reason ?? "").isEmpty ? "" : ": " + (b.loan_reason ?? ""))
            } ?? ctx.t("business.loan.none"))),

            .h2(.id("support"), .text(ctx.t("business.support"))),
            .p(.text(b.support_from.map { ctx.t("business.support.dates", ["from": $0, "to": b.support_to ?? ""]) } ?? ctx.t("business.support.none")),
               b.next_visit_due.map { .span(.class(visitLate ? "tag late" : "tag"), .text(ctx.t(visitLate ? "business.visit_overdue" : "business.visit_due", ["date": $0]))) } ?? .empty),
            visits.isEmpty ? .empty : .ul(.forEach(visits) { v in .li(.text("\(v.visited_on): \(v.note) — \(v.by_login)")) }),
            !(canAct && running) ? .empty : (b.support_from == nil
                ? .form(.method(.post), .action("/business/\(id)/support"), .class("panel"), ctx.csrfField(),
                        k.text("support_from", ctx.t("contract.starts_on"), hint: "YYYY-MM-DD"), k.text("support_to", ctx.t("contract.ends_on"), hint: ctx.t("business.support.hint")),
                        .button(.type(.submit), .class("button secondary"), .text(ctx.t("business.support.start"))))
                : .form(.method(.post), .action("/business/\(id)/visits"), .class("panel"), ctx.csrfField(),
                        k.text("visited_on", ctx.t("monitoring.visited_on"), hint: "YYYY-MM-DD"), k.text("note", ctx.t("monitoring.note")),
                        .button(.type(.submit), .class("button secondary"), .text(ctx.t("business.visit.record"))))),

            !b.needs_infrastructure ? .empty : .group(
                .h2(.id("infrastructure"), .text(ctx.t("business.infrastructure"))),
                .p(.text(b.infra_contract_number.map { ctx.t("business.infrastructure.contract", ["number": $0, "date": b.infra_contract_on ?? "", "cost": Money(tiyn: b.infra_cost ?? 0).formatted(), "design": Money(tiyn: b.infra_design_cost ?? 0).formatted()]) + " · " + (b.infra_description ?? "") }
                         ?? ctx.t("business.infrastructure.none"))),
                !(canAct && b.infra_contract_number == nil) ? .empty : .form(.method(.post), .action("/business/\(id)/infrastructure"), .class("panel"), ctx.csrfField(),
                    k.textarea("infra_description", ctx.t("business.infrastructure.description"), rows: 3),
                    k.text("infra_cost", ctx.t("business.infrastructure.cost"), hint: ctx.t("business.infrastructure.cost.hint")),
                    k.text("infra_design_cost", ctx.t("business.infrastructure.design_cost"), hint: ctx.t("register.optional")),
                    k.text("infra_contract_number", ctx.t("business.infrastructure.number")),
                    k.text("infra_contract_on", ctx.t("business.infrastructure.date"), hint: "YYYY-MM-DD"),
                    .button(.type(.submit), .class("button secondary"), .text(ctx.t("business.infrastructure.record")))))
        ), status: status)
    }

    /// One of the page's forms; errors come back on the page with the values kept.
    @Sendable func step(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        let store = Self.store(req)
        let today = CaseStore(store: req.jumys.store).today()
        func date(_ name: String, optional: Bool = false) throws -> CivilDate {
            let s = (f[name] ?? "").trimmingCharacters(in: .whitespaces)
            if s.isEmpty && optional { return today }
            guard let d = CivilDate(iso: s) else { throw FieldErrors(errors: [FieldError(name, "date_invalid")]) }
            return d
        }
        do {
            let env = try await req.jumys.rules.current()
            switch req.parameters.get("step") ?? "" {
            case "conclusions":
                var orgs: [ConclusionBody: Int] = [:]
                for body in ConclusionBody.allCases { if let v = LabourMarketRoutes.int(f[body.rawValue]) { orgs[body] = v } }
                guard let b = try await store.business(id, scope: user.scope) else { throw StoreError.notFound }
                let asked = Set(try await store.conclusions(of: id).map(\.body))
                let missing = BusinessStore.requiredBodies(b).filter { $0 != .lender && !asked.contains($0.rawValue) && orgs[$0] == nil }
                if !missing.isEmpty { throw FieldErrors(errors: missing.map { FieldError($0.rawValue, "choose_from_list") }) }
                try await store.requestConclusions(application: id, organisations: orgs, on: try date("requested_on", optional: true), env: env, by: user)
            case "notified": try await store.recordNotification(application: id, sentOn: try date("sent_on", optional: true), by: user)
            case "training": try await store.scheduleTraining(application: id, starts: try date("starts_on"), ends: try date("ends_on"), env: env, by: user)
            case "attendance": try await store.markAttendance(application: id, on: try date("on_date"), present: f["present"] != "false", by: user)
            case "training_complete": try await store.completeTraining(application: id, on: try date("completed_on", optional: true), by: user)
            case "plan": try await store.submitPlan(application: id, on: try date("plan_on", optional: true), summary: f["plan_summary"] ?? "", by: user)
            case "support": try await store.startSupport(application: id, from: try date("support_from"), to: try date("support_to"), env: env, by: user)
            case "visits": try await store.addVisit(application: id, on: try date("visited_on"), note: f["note"] ?? "", env: env, by: user)
            case "infrastructure":
                guard let cost = Self.money(f["infra_cost"]) else { throw FieldErrors(errors: [FieldError("infra_cost", "amount_invalid")]) }
                let designText = (f["infra_design_cost"] ?? "").trimmingCharacters(in: .whitespaces)
                guard let design = designText.isEmpty ? Money.zero : Self.money(designText) else { throw FieldErrors(errors: [FieldError("infra_design_cost", "amount_invalid")]) }
                try await store.recordInfrastructure(application: id, description: f["infra_description"] ?? "", cost: cost, designCost: design,
                                                     contractNumber: f["infra_contract_number"] ?? "", contractOn: try date("infra_contract_on"), env: env, by: user)
            case "loan":
                return try await loanDecision(req, f: f, user: user, env: env)
            default: throw Abort(.notFound)
            }
            return req.redirect(to: "/business/\(id)", redirectType: .normal)
        } catch let e as FieldErrors {
            if req.parameters.get("step") == "loan" { return try await requestPage(req, id: try await loanRequestID(req, id), values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity) }
            return try await page(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    /// The lender's request for this application (the loan decision is entered from it).
    func loanRequestID(_ req: Request, _ applicationID: Int) async throws -> Int {
        guard let r = try await Self.store(req).conclusions(of: applicationID).first(where: { $0.body == ConclusionBody.lender.rawValue }) else { throw Abort(.notFound) }
        return r.id
    }

    func loanDecision(_ req: Request, f: [String: String], user: UserContext, env: RulesEnvironment) async throws -> Response {
        let id = try CaseworkRoutes.id(req)
        let approved = f["loan_decision"] == "approved"
        guard f["loan_decision"] == "approved" || f["loan_decision"] == "refused" else { throw FieldErrors(errors: [FieldError("loan_decision", "choose_from_list")]) }
        let on = (f["loan_decided_on"] ?? "").trimmingCharacters(in: .whitespaces)
        guard let date = on.isEmpty ? CaseStore(store: req.jumys.store).today() : CivilDate(iso: on) else { throw FieldErrors(errors: [FieldError("loan_decided_on", "date_invalid")]) }
        // An approval's amount, term and grace period: each entered (grace may be left empty for none) and each a number, or
        // refused by name; a value that is not a number is not read as nothing.
        var errors: [FieldError] = []
        /// A whole number of months, `empty` when the field is left empty (nil: it must be entered).
        func months(_ name: String, empty: Int?) -> Int? {
            let text = (f[name] ?? "").trimmingCharacters(in: .whitespaces)
            guard let n = text.isEmpty ? empty : LabourMarketRoutes.int(text), n >= 0 else { errors.append(FieldError(name, "number_invalid")); return nil }
            return n
        }
        var amount: Money? = nil, term: Int? = nil, grace = 0
        if approved {
            amount = Self.money((f["loan_amount"] ?? "").trimmingCharacters(in: .whitespaces))
            if amount == nil { errors.append(FieldError("loan_amount", "amount_invalid")) }
            term = months("loan_term_months", empty: nil)
            grace = months("loan_grace_months", empty: 0) ?? 0
        }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await Self.store(req).recordLoanDecision(application: id, approved: approved, amount: amount, termMonths: term,
                                                     graceMonths: grace, reason: f["loan_reason"] ?? "", on: date, env: env, by: user)
        return req.redirect(to: "/conclusions/\(try await loanRequestID(req, id))", redirectType: .normal)
    }

    // MARK: the notification (C3), printable

    @Sendable func notification(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let lang = req.parameters.get("lang").flatMap(Lang.init(rawValue:)), lang != .en else { throw Abort(.notFound) }
        let id = try CaseworkRoutes.id(req)
        let cases = CaseStore(store: req.jumys.store)
        guard let b = try await Self.store(req).business(id, scope: user.scope), let a = try await cases.application(id, scope: user.scope),
              let p = try await cases.person(b.person_id, scope: user.scope), let decided = a.decided_on else { throw Abort(.notFound) }
        let db = req.jumys.store.db
        let centre = try await OrganisationRecord.query(on: db).filter(\.$kind == OrganisationKind.employmentCentre.rawValue).filter(\.$districtID == b.district_id).first()
        let tr = req.jumys.translator
        func t(_ k: String, _ a: [String: String] = [:]) -> String { tr.t(k, lang, a) }
        let included = a.stateValue != .refused
        let reason = a.refusal_reason.map { t("refusal.\($0)") + ((a.refusal_text ?? "").isEmpty ? "" : ": " + (a.refusal_text ?? "")) } ?? ""
        return PrintViews.document(lang, title: t("print.business.title"),
            .p(.class("doc-ref"), .text(t("print.business.form"))),
            .h1(.text(t("print.business.title"))),
            .p(.class("doc-meta"), .text(t("print.place_date", ["date": b.notified_on ?? cases.today().iso]))),
            .p(.text(t("print.business.to", ["person": p.fullName]))),
            .p(.text(t("print.business.text", ["centre": PrintViews.name(centre, lang), "date": a.submitted_on, "idea": b.idea, "settlement": b.settlement, "decided": decided]))),
            .p(.strong(.text(t(included ? "print.business.included" : "print.business.refused", ["reason": reason])))),
            included ? .p(.text(t("print.business.next"))) : .p(.text(t("print.business.appeal"))),
            .table(.class("signatures"), .tr(.td(.text(t("party.centre"))), .td(.text(PrintViews.name(centre, lang))), .td(.class("signature-line"), .text(""))))
        )
    }

    // MARK: the addressee's inbox

    @Sendable func inbox(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let today = CaseStore(store: req.jumys.store).today()
        let items = try await Self.store(req).inbox(for: user)
        let overdue = items.filter { $0.request.answered_on == nil && $0.request.daysLate(today: today) > 0 }.count
        func row(_ i: BusinessStore.InboxItem) -> Node<HTML.TableContext> {
            .tr(.td(.a(.href("/conclusions/\(i.request.id)"), .text(i.applicantName))), .td(.text(ctx.t("body.\(i.request.body)"))), .td(.text(i.business.settlement)),
                .td(.class("num"), .text(Money(tiyn: i.business.amount_asked).formatted())), .td(.text(i.request.requested_on)), .td(Self.conclusionTag(ctx, i.request, today: today)))
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("conclusion.inbox"),
            .h1(.text(ctx.t("conclusion.inbox"))),
            .p(.class("lead"), .text(ctx.t("conclusion.inbox.lead"))),
            overdue == 0 ? .empty : .div(.class("panel warning-panel"), .p(.span(.class("tag late"), .text(ctx.t("conclusion.inbox.overdue", ["n": String(overdue)]))))),
            items.isEmpty ? .p(.class("empty"), .text(ctx.t("conclusion.inbox.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("conclusion.applicant"))), .th(.text(ctx.t("conclusion.body"))), .th(.text(ctx.t("business.settlement"))),
                           .th(.text(ctx.t("business.amount_asked"))), .th(.text(ctx.t("conclusion.requested_on"))), .th(.text(ctx.t("conclusion.answer"))))),
                .tbody(.forEach(items) { row($0) }))
        ))
    }

    @Sendable func request(req: Request) async throws -> Response {
        try await requestPage(req, id: try CaseworkRoutes.id(req), values: [:], errors: [], status: .ok)
    }

    func requestPage(_ req: Request, id: Int, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        guard let item = try await Self.store(req).request(id, for: user) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let today = CaseStore(store: req.jumys.store).today()
        let r = item.request, b = item.business
        let app = try await CaseStore(store: req.jumys.store).application(b.application_id, scope: .national)
        let loanOpen = user.role == .lender && r.body == ConclusionBody.lender.rawValue && b.loan_decision == nil && b.plan_submitted_on != nil
            && (app?.stateValue.isRunning ?? false)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("conclusion.request_title"),
            .p(.a(.href("/conclusions"), .text("← " + ctx.t("conclusion.inbox")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("conclusion.request_title"))),
            r.answered_on.map { on in .div(.class("panel confirmation"), .attribute(named: "role", value: "status"),
                .h2(.text(ctx.t("conclusion.recorded", ["date": on]))),
                .p(.text(ctx.t(r.body == ConclusionBody.lender.rawValue && b.loan_decision == nil ? "conclusion.recorded.next_lender" : "conclusion.recorded.next")))) } ?? .empty,
            .dl(.class("summary"),
                .dt(.text(ctx.t("conclusion.applicant"))), .dd(.text(item.applicantName)),
                .dt(.text(ctx.t("conclusion.body"))), .dd(.text(ctx.t("body.\(r.body)"))),
                .dt(.text(ctx.t("conclusion.question"))), .dd(.text(ctx.t("conclusion.question.\(r.body)"))),
                .dt(.text(ctx.t("business.start_or_expand"))), .dd(.text(ctx.t("business.\(b.start_or_expand)"))),
                .dt(.text(ctx.t("business.settlement"))), .dd(.text(b.settlement + " · " + ctx.t("place.\(b.place)"))),
                .dt(.text(ctx.t("business.idea"))), .dd(.text(b.idea)),
                .dt(.text(ctx.t("business.sector"))), .dd(.text(ctx.t("sector.\(b.sector)"))),
                .dt(.text(ctx.t("business.amount_asked"))), .dd(.text(Money(tiyn: b.amount_asked).formatted() + " ₸")),
                .dt(.text(ctx.t("conclusion.requested_on"))), .dd(.text(r.requested_on)),
                .dt(.text(ctx.t("conclusion.answer"))), .dd(Self.conclusionTag(ctx, r, today: today), .text(r.reason.map { $0.isEmpty ? "" : " " + $0 } ?? ""))),
            !(user.canWrite && r.answered_on == nil) ? .empty : .form(.method(.post), .action("/conclusions/\(id)/answer"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("conclusion.give"))),
                k.radios("positive", ctx.t("conclusion.answer"), options: [("true", ctx.t("conclusion.positive")), ("false", ctx.t("conclusion.negative"))]),
                k.textarea("reason", ctx.t("conclusion.reason"), hint: ctx.t("conclusion.reason.hint"), rows: 3),
                k.text("answered_on", ctx.t("conclusion.answered_on"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"),
                .button(.type(.submit), .class("button"), .text(ctx.t("conclusion.send_answer")))),
            r.body != ConclusionBody.lender.rawValue ? .empty : .group(
                .h2(.text(ctx.t("business.loan"))),
                .p(.text(b.loan_decision.map { ctx.t("business.loan.\($0)", ["date": b.loan_decided_on ?? "", "amount": b.loan_amount.map { Money(tiyn: $0).formatted() } ?? "", "months": b.loan_term_months.map(String.init) ?? "", "grace": b.loan_grace_months.map(String.init) ?? ""]) }
                         ?? ctx.t(b.plan_submitted_on == nil ? "business.loan.waiting_plan" : "business.loan.none"))),
                !loanOpen ? .empty : .form(.method(.post), .action("/business/\(b.application_id)/loan"), .class("panel"), ctx.csrfField(),
                    k.radios("loan_decision", ctx.t("business.loan.decision"), options: [("approved", ctx.t("business.loan.approve")), ("refused", ctx.t("business.loan.refuse"))]),
                    k.text("loan_amount", ctx.t("business.loan.amount")), k.text("loan_term_months", ctx.t("business.loan.term")), k.text("loan_grace_months", ctx.t("business.loan.grace"), hint: ctx.t("register.optional")),
                    k.text("loan_reason", ctx.t("conclusion.reason"), hint: ctx.t("register.optional")),
                    k.text("loan_decided_on", ctx.t("business.loan.date"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"),
                    .button(.type(.submit), .class("button"), .text(ctx.t("business.loan.record")))))
        ), status: status)
    }

    @Sendable func answer(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        do {
            guard let v = f["positive"], v == "true" || v == "false" else { throw FieldErrors(errors: [FieldError("positive", "choose_from_list")]) }
            let on = (f["answered_on"] ?? "").trimmingCharacters(in: .whitespaces)
            if !on.isEmpty && CivilDate(iso: on) == nil { throw FieldErrors(errors: [FieldError("answered_on", "date_invalid")]) }
            try await Self.store(req).answer(request: id, positive: v == "true", reason: f["reason"] ?? "", on: CivilDate(iso: on), by: user)
            return req.redirect(to: "/conclusions/\(id)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await requestPage(req, id: id, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }
}
