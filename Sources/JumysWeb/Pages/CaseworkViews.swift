import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The casework pages (views: data in, HTML out).
enum CaseworkViews {
    static func options<E: RawRepresentable & CaseIterable>(_ ctx: PageContext, _ prefix: String, _: E.Type) -> [(String, String)] where E.RawValue == String {
        E.allCases.map { ($0.rawValue, ctx.t("\(prefix).\($0.rawValue)")) }
    }

    // MARK: registration

    static func registration(_ req: Request, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus, duplicateURL: String? = nil) async throws -> Response {
        let ctx = PageContext(req)
        let user = try req.requireUser()
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        var districtChoice: Node<HTML.FormContext> = .empty
        if case .district = user.scope {} else {
            var q = DistrictRecord.query(on: req.jumys.store.db).sort(\.$regionISO).sort(\.$id)
            if case .region(let r) = user.scope { q = q.filter(\.$regionISO == r.iso) }
            let ds = try await q.all()
            districtChoice = k.select("district_id", ctx.t("person.district"), options: ds.map { (String($0.id!), $0.regionISO + " · " + ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) })
        }
        let checked = Set((values["categories"] ?? "").split(separator: ",").map(String.init))
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("register.title"),
            .div(.class("narrow"),
                Layout.errorSummary(ctx, errors),
                .h1(.text(ctx.t("register.title"))),
                .p(.class("lead"), .text(ctx.t("register.lead"))),
                duplicateURL.map { .p(.a(.href($0), .class("button secondary"), .text(ctx.t("register.open_existing")))) } ?? .empty,
                .form(.method(.post), .action("/people"),
                    ctx.csrfField(),
                    values["online_id"].map { .input(.type(.hidden), .name("online_id"), .value(attr($0))) } ?? .empty,
                    k.text("iin", ctx.t("person.iin"), hint: ctx.t("register.iin.hint")),
                    k.text("last_name", ctx.t("person.last_name")),
                    k.text("first_name", ctx.t("person.first_name")),
                    k.text("middle_name", ctx.t("person.middle_name"), hint: ctx.t("register.optional")),
                    districtChoice,
                    k.text("settlement", ctx.t("person.settlement"), hint: ctx.t("register.optional")),
                    k.radios("rural", ctx.t("person.settlement_kind"), options: [("false", ctx.t("settlement.urban")), ("true", ctx.t("settlement.rural"))]),
                    k.text("phone", ctx.t("person.phone"), hint: ctx.t("register.phone.hint"), type: .tel),
                    k.text("email", ctx.t("person.email"), hint: ctx.t("register.optional"), type: .email),
                    k.select("education", ctx.t("person.education"), options: options(ctx, "education", EducationLevel.self)),
                    k.text("occupation_isco", ctx.t("person.occupation"), hint: ctx.t("register.isco.hint")),
                    k.checkboxes("categories", ctx.t("person.categories"), options: options(ctx, "category", PersonCategory.self), checked: checked),
                    .div(.class("consent"),
                        .h2(.text(ctx.t("register.consent.title"))),
                        .p(.text(ctx.t("register.consent.text"))),
                        k.checkbox("consent", ctx.t("register.consent.label"), checked: values["consent"] == "true")),
                    .button(.type(.submit), .class("button"), .text(ctx.t("register.button")))
                )
            )
        ), status: status)
    }

    // MARK: person card

    static func personCard(_ req: Request, id: Int, errors: [(field: String, message: String)] = [], values: [String: String] = [:], status: HTTPResponseStatus = .ok) async throws -> Response {
        let user = try req.requireUser()
        let cases = CaseStore(store: req.jumys.store)
        guard let p = try await cases.person(id, scope: user.scope), let view = try await req.jumys.registry.person(id: id, scope: user.scope) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let cats = try await cases.categories(of: id)
        let members = try await cases.household(of: id)
        let apps = try await cases.applications(of: id)
        let events = try await cases.timeline(of: id)
        let labour = LabourStore(store: req.jumys.store)
        let referrals = try await labour.referrals(of: id)
        let placements = try await labour.placements(of: id)
        let canCasework = user.canWrite && user.doesCasework
        let suggested = user.doesCasework || user.role == .analyst ? try await labour.vacancies(forPerson: id, scope: user.scope, limit: 10) : []
        let trainingStore = TrainingStore(store: req.jumys.store)
        var trainings: [(TrainingStore.TrainingRow, PortalStore.CourseRow?, (position: String, startsOn: String)?)] = []
        for t in try await trainingStore.referrals(of: id) { trainings.append((t, try await trainingStore.course(t.course_id), try await trainingStore.placementAfter(t))) }
        let courses = canCasework ? try await PortalStore(store: req.jumys.store).courses() : []
        let today = cases.today()
        let canWrite = user.canWrite
        let tsaStatus: String = p.tsa_suspended_on.map { ctx.t("tsa.status.suspended", ["date": $0]) } ?? ctx.t((p.tsa_recipient ?? false) ? "tsa.status.recipient" : "tsa.status.none")
        return HTMLResponse.make(Layout.page(ctx, title: view.fullName,
            .p(.a(.href("/people"), .text("← " + ctx.t("people.title")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(view.fullName)),
            .dl(.class("summary"),
                .dt(.text(ctx.t("person.iin"))), .dd(.class("mono"), .text(view.iin)),
                .dt(.text(ctx.t("person.birth_date"))), .dd(.text(view.birth_date)),
                .dt(.text(ctx.t("person.sex"))), .dd(.text(ctx.t("sex.\(view.sex)"))),
                .dt(.text(ctx.t("person.region"))), .dd(.text(ScopeNames.localized(kk: view.region_name_kk, ru: view.region_name_ru, en: view.region_name_en, ctx.lang))),
                .dt(.text(ctx.t("person.district"))), .dd(.text(ScopeNames.localized(kk: view.district_name_kk, ru: view.district_name_ru, en: view.district_name_en, ctx.lang))),
                .dt(.text(ctx.t("person.settlement"))), .dd(.text((view.settlement ?? "—") + " · " + ctx.t(view.is_rural ? "settlement.rural" : "settlement.urban"))),
                .dt(.text(ctx.t("person.phone"))), .dd(.text(view.phone ?? "—")),
                .dt(.text(ctx.t("person.email"))), .dd(.text(view.email ?? "—")),
                .dt(.text(ctx.t("person.education"))), .dd(.text(p.education.map { ctx.t("education.\($0)") } ?? "—")),
                .dt(.text(ctx.t("person.occupation"))), .dd(.class("mono"), .text(p.occupation_isco ?? "—")),
                .dt(.text(ctx.t("person.consent"))), .dd(.text(p.consent_on.map { ctx.t("person.consent.given", ["date": $0, "by": p.consent_by ?? ""]) } ?? ctx.t("person.consent.none"))),
                .dt(.id("tsa"), .text(ctx.t("tsa.label"))), .dd(.text(tsaStatus))
            ),
            !canWrite || p.consent_on != nil ? .empty : .form(.method(.post), .action("/people/\(id)/consent"), .class("panel"),
                ctx.csrfField(),
                .h2(.text(ctx.t("register.consent.title"))),
                .p(.text(ctx.t("register.consent.text"))),
                k.checkbox("consent", ctx.t("register.consent.label"), checked: false),
                .button(.type(.submit), .class("button"), .text(ctx.t("person.consent.record")))),
            !canWrite ? .empty : .form(.method(.post), .action("/people/\(id)/tsa"), .class("inline-form"),
                ctx.csrfField(),
                .input(.type(.hidden), .name("tsa_recipient"), .value((p.tsa_recipient ?? false) ? "false" : "true")),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t((p.tsa_recipient ?? false) ? "tsa.unmark" : "tsa.mark")))),

            .h2(.id("applications"), .text(ctx.t("applications.title"))),
            apps.isEmpty ? .p(.class("empty"), .text(ctx.t("applications.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("application.measure"))), .th(.text(ctx.t("application.state"))), .th(.text(ctx.t("application.submitted_on"))), .th(.text(ctx.t("application.eligible"))))),
                .tbody(.forEach(apps) { a in
                    .tr(.td(.a(.href("/applications/\(a.id)"), .text(ctx.t("measure.\(a.measure)")))), .td(.span(.class("tag state-\(a.state)"), .text(ctx.t("state.\(a.state)")))),
                        .td(.text(a.submitted_on)), .td(.text(ctx.t(a.eligible ? "yes" : "no"))))
                })),
            !canWrite ? .empty : .form(.method(.post), .action("/people/\(id)/applications"), .class("panel"),
                ctx.csrfField(),
                k.select("measure", ctx.t("applications.new"), options: options(ctx, "measure", Measure.self).filter { !(Measure(rawValue: $0.0)?.hasOwnForm ?? false) }),
                .button(.type(.submit), .class("button"), .text(ctx.t("applications.submit"))),
                .p(.a(.href("/people/\(id)/business/new"), .text(ctx.t("business.new"))), .text(" · "), .a(.href("/people/\(id)/relocation/new"), .text(ctx.t("relocation.new"))))),

            .h2(.id("referrals"), .text(ctx.t("referral.list"))),
            referrals.isEmpty ? .p(.class("empty"), .text(ctx.t("referral.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("referral.number"))), .th(.text(ctx.t("referral.date"))), .th(.text(ctx.t("application.state"))))),
                .tbody(.forEach(referrals) { r in .tr(.td(.a(.href("/referrals/\(r.id)"), .text(r.number))), .td(.text(r.referred_on)), .td(.text(ctx.t("referral.state.\(r.state)")))) })),
            placements.isEmpty ? .empty : .group(
                .h3(.id("placements"), .text(ctx.t("placement.list"))),
                .table(.class("data"),
                    .thead(.tr(.th(.text("№")), .th(.text(ctx.t("application.measure"))), .th(.text(ctx.t("contract.starts_on"))), .th(.text(ctx.t("contract.ends_on"))), .th(.text(ctx.t("vacancies.wage"))), .th(.text("")))),
                    .tbody(.forEach(placements) { pl in
                        .tr(.td(.text(String(pl.id))), .td(.text(ctx.t("measure.\(pl.measure)"))), .td(.text(pl.starts_on)), .td(.text(pl.ends_on ?? "—")), .td(.class("num"), .text(Money(tiyn: pl.wage).formatted())),
                            .td(!canCasework ? .empty : .form(.method(.post), .action("/placements/\(pl.id)/amend"), .class("inline"), ctx.csrfField(),
                                .input(.type(.text), .name("wage"), .value(Money(tiyn: pl.wage).decimalString), .attribute(named: "aria-label", value: ctx.t("vacancies.wage")), .class("short")),
                                .input(.type(.text), .name("ends_on"), .value(pl.ends_on ?? ""), .attribute(named: "placeholder", value: "YYYY-MM-DD"), .attribute(named: "aria-label", value: ctx.t("contract.ends_on")), .class("short")),
                                .button(.type(.submit), .class("button secondary"), .text(ctx.t("placement.amend"))))))
                    }))),
            LabourMarketViews.personSections(ctx, person: id, vacancies: suggested, training: trainings, courses: courses, canCasework: canCasework, k: k),

            .h2(.id("categories"), .text(ctx.t("person.categories"))),
            cats.isEmpty ? .p(.class("empty"), .text(ctx.t("categories.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("categories.category"))), .th(.text(ctx.t("categories.from"))), .th(.text(ctx.t("categories.to"))))),
                .tbody(.forEach(cats) { c in .tr(.td(.text(ctx.t("category.\(c.category)"))), .td(.text(c.from_date)), .td(.text(c.to_date ?? "—"))) })),
            !canWrite ? .empty : .form(.method(.post), .action("/people/\(id)/categories"), .class("panel"),
                ctx.csrfField(),
                k.select("category", ctx.t("categories.category"), options: options(ctx, "category", PersonCategory.self)),
                k.text("from_date", ctx.t("categories.from"), hint: ctx.t("parameters.effective_from.hint")),
                k.text("to_date", ctx.t("categories.to"), hint: ctx.t("register.optional")),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("categories.add")))),

            .h2(.id("household"), .text(ctx.t("household.title"))),
            members.isEmpty ? .p(.class("empty"), .text(ctx.t("household.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("household.name"))), .th(.text(ctx.t("household.relation"))), .th(.text(ctx.t("person.birth_date"))), .th(.text(ctx.t("household.notes"))))),
                .tbody(.forEach(members) { m in
                    .tr(.td(.text(m.full_name)), .td(.text(ctx.t("relation.\(m.relation)"))), .td(.text(m.birth_date)),
                        .td(.text([m.disabled ? ctx.t("household.disabled") : nil, m.ill ? ctx.t("household.ill") : nil].compactMap { $0 }.joined(separator: ", "))))
                })),
            !canWrite ? .empty : .form(.method(.post), .action("/people/\(id)/household"), .class("panel"),
                ctx.csrfField(),
                k.text("member_name", ctx.t("household.name")),
                k.select("relation", ctx.t("household.relation"), options: options(ctx, "relation", HouseholdRelation.self)),
                k.text("member_birth_date", ctx.t("person.birth_date"), hint: ctx.t("parameters.effective_from.hint")),
                k.radios("member_sex", ctx.t("person.sex"), options: [("female", ctx.t("sex.female")), ("male", ctx.t("sex.male"))]),
                k.checkbox("disabled", ctx.t("household.disabled"), checked: false),
                k.checkbox("ill", ctx.t("household.ill"), checked: false),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("household.add")))),

            .h2(.id("timeline"), .text(ctx.t("timeline.title"))),
            timeline(ctx, events),
            .p(.class("muted"), .text(ctx.t("timeline.today", ["date": today.iso])))
        ), status: status)
    }

    /// Words inside event arguments that are themselves codes get translated.
    static func translatedArgs(_ ctx: PageContext, _ args: [String: String]) -> [String: String] {
        var a = args
        for (key, prefix) in [("measure", "measure"), ("from", "state"), ("to", "state"), ("reason", "refusal"), ("category", "category"), ("relation", "relation"),
                              ("event", "tsa_event"), ("party", "party"), ("sanction", "sanction"), ("body", "body"), ("commission", "recommending"),
                              ("decision", "loan_decision"), ("kind", "dwelling")] {
            if let v = a[key], !v.isEmpty { a[key] = ctx.t("\(prefix).\(v)") }
        }
        if let t = a["text"], t.hasPrefix("obligation.") { a["text"] = ctx.t(t) }
        if let c = a["categories"] { a["categories"] = c.isEmpty ? "—" : c.split(separator: ",").map { ctx.t("category.\($0.trimmingCharacters(in: .whitespaces))") }.joined(separator: ", ") }
        if let r = a["reasons"] { a["reasons"] = r.isEmpty ? "—" : r.split(separator: ",").map { ctx.t("reason.\($0.trimmingCharacters(in: .whitespaces))") }.joined(separator: ", ") }
        if let p = a["priorities"] { a["priorities"] = p.isEmpty ? "—" : p.split(separator: ",").map { ctx.t("priority.\($0.trimmingCharacters(in: .whitespaces))") }.joined(separator: ", ") }
        for key in ["eligible", "positive", "recommended"] { if let v = a[key], v == "yes" || v == "no" { a[key] = ctx.t(v) } }
        return a
    }

    static func timeline(_ ctx: PageContext, _ events: [CaseStore.EventRow]) -> Node<HTML.BodyContext> {
        guard !events.isEmpty else { return .p(.class("empty"), .text(ctx.t("timeline.none"))) }
        return .ol(.class("timeline"), .forEach(events) { e in
            let args = (try? JSONDecoder().decode([String: String].self, from: Data(e.args.utf8))) ?? [:]
            let steps = e.explanation.flatMap { try? JSONDecoder().decode([ExplanationStep].self, from: Data($0.utf8)) } ?? []
            var links: [Node<HTML.BodyContext>] = []
            if let a = args["application"] { links.append(.a(.href("/applications/\(a)"), .text(ctx.t("timeline.open_application")))) }
            if let c = args["contract"], !c.isEmpty { links.append(.a(.href("/contracts/\(c)"), .text(ctx.t("timeline.open_contract")))) }
            return .li(
                .p(.strong(.text(e.on_date)), .text(" · "), .text(ctx.t("event.\(e.kind)", translatedArgs(ctx, args))), .span(.class("muted"), .text(" — \(e.actor)"))),
                links.isEmpty ? .empty : .p(.group(links.flatMap { [$0, .text(" ")] })),
                steps.isEmpty ? .empty : explanation(ctx, steps)
            )
        })
    }

    static func explanation(_ ctx: PageContext, _ steps: [ExplanationStep]) -> Node<HTML.BodyContext> {
        .element(named: "details", nodes: [
            .element(named: "summary", nodes: [.text(ctx.t("explanation.title"))]),
            .ul(.class("explanation"), .forEach(steps) { s in
                .li(.span(.class("tag"), .text(s.rule)), .text(" "), .text(s.text))
            }),
        ])
    }

    // MARK: application

    static func application(_ req: Request, id: Int, errors: [(field: String, message: String)], values: [String: String], status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let cases = CaseStore(store: req.jumys.store)
        guard let a = try await cases.application(id, scope: user.scope), let p = try await cases.person(a.person_id, scope: user.scope) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let steps = (try? JSONDecoder().decode([ExplanationStep].self, from: Data(a.eligibility.utf8))) ?? []
        let contract = try await cases.contract(forApplication: id)
        let allowed = user.canWrite ? a.stateValue.allowedActions(measure: a.measureValue) : []
        let orgs = try await OrganisationRecord.query(on: req.jumys.store.db).sort(\.$code).all()
        let employers = orgs.filter { $0.kind == OrganisationKind.contractor.rawValue }.map { (String($0.id!), ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) }
        let providers = orgs.filter { $0.kind == OrganisationKind.educationProvider.rawValue }.map { (String($0.id!), ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) }
        func actionForm(_ action: ApplicationAction) -> Node<HTML.BodyContext> {
            let button = Node<HTML.FormContext>.button(.type(.submit), .class(action == .refuse || action == .terminate ? "button warning" : "button"), .text(ctx.t("action.\(action.rawValue)")))
            switch action {
            case .refuse:
                return .form(.method(.post), .action("/applications/\(id)/actions/refuse"), .class("panel"), ctx.csrfField(),
                             .h3(.text(ctx.t("action.refuse"))),
                             k.select("refusal_reason", ctx.t("application.refusal_reason"), options: options(ctx, "refusal", RefusalReason.self)),
                             k.text("refusal_text", ctx.t("application.refusal_text"), hint: ctx.t("application.refusal_text.hint")), button)
            case .signContract:
                return .form(.method(.post), .action("/applications/\(id)/actions/sign_contract"), .class("panel"), ctx.csrfField(),
                             .h3(.text(ctx.t("action.sign_contract"))),
                             k.text("starts_on", ctx.t("contract.starts_on"), hint: ctx.t("parameters.effective_from.hint")),
                             k.text("ends_on", ctx.t("contract.ends_on"), hint: ctx.t("parameters.effective_from.hint")),
                             k.select("employer_id", ctx.t("contract.employer"), options: employers),
                             k.select("provider_id", ctx.t("contract.provider"), options: providers),
                             k.text("specialty", ctx.t("contract.specialty"), hint: ctx.t("register.optional")),
                             k.text("practice_place", ctx.t("contract.practice_place"), hint: ctx.t("register.optional")),
                             k.text("work_off_months", ctx.t("contract.work_off_months"), hint: ctx.t("register.optional")),
                             k.text("course_months", ctx.t("contract.course_months"), hint: ctx.t("register.optional")),
                             k.text("course_cost", ctx.t("contract.course_cost"), hint: ctx.t("register.optional")),
                             button)
            case .terminate:
                return .form(.method(.post), .action("/applications/\(id)/actions/terminate"), .class("panel"), ctx.csrfField(),
                             .h3(.text(ctx.t("action.terminate"))),
                             k.checkbox("participant_refused", ctx.t("application.participant_refused"), checked: false),
                             k.text("note", ctx.t("application.note"), hint: ctx.t("register.optional")), button)
            default:
                return .form(.method(.post), .action("/applications/\(id)/actions/\(action.rawValue)"), .class("inline-form"), ctx.csrfField(), button)
            }
        }
        let due: String = {
            switch a.stateValue {
            case .submitted, .underReview: return ctx.t("application.decision_due", ["date": a.decision_due])
            case .included: return a.signing_due.map { ctx.t("application.signing_due", ["date": $0]) } ?? ""
            default: return ""
            }
        }()
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("measure.\(a.measure)"),
            .p(.a(.href("/people/\(p.id)"), .text("← " + p.fullName))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("application.title", ["measure": ctx.t("measure.\(a.measure)")]))),
            .dl(.class("summary"),
                .dt(.text(ctx.t("application.state"))), .dd(.span(.class("tag state-\(a.state)"), .text(ctx.t("state.\(a.state)")))),
                .dt(.text(ctx.t("application.submitted_on"))), .dd(.text(a.submitted_on)),
                .dt(.text(ctx.t("application.deadline"))), .dd(.text(due.isEmpty ? "—" : due)),
                .dt(.text(ctx.t("application.eligible"))), .dd(.text(ctx.t(a.eligible ? "yes" : "no"))),
                .dt(.text(ctx.t("application.priorities"))), .dd(.text(a.priorities.isEmpty ? "—" : a.priorities.split(separator: ",").map { ctx.t("priority.\($0)") }.joined(separator: ", "))),
                .dt(.text(ctx.t("application.decided_on"))), .dd(.text(a.decided_on ?? "—")),
                .dt(.text(ctx.t("application.refusal_reason"))), .dd(.text(a.refusal_reason.map { ctx.t("refusal.\($0)") + ((a.refusal_text ?? "").isEmpty ? "" : ": " + (a.refusal_text ?? "")) } ?? "—")),
                .dt(.text(ctx.t("contract.title"))), .dd(contract.map { .a(.href("/contracts/\($0.id)"), .text($0.number)) } ?? .text("—")),
                !a.measureValue.hasOwnForm ? .empty : .group(.dt(.text(ctx.t("application.details"))),
                    .dd(.a(.href(a.measureValue == .entrepreneurship ? "/business/\(id)" : "/relocation/\(id)"), .text(ctx.t("application.details.\(a.measure)")))))
            ),
            explanation(ctx, steps),
            allowed.isEmpty ? .empty : .h2(.text(ctx.t("application.next_steps"))),
            .div(.class("actions"), .forEach(allowed) { actionForm($0) })
        ), status: status)
    }

    // MARK: contract

    static func contract(_ req: Request, id: Int, errors: [(field: String, message: String)], values: [String: String], status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let cases = CaseStore(store: req.jumys.store)
        guard let c = try await cases.contract(id, scope: user.scope), let a = try await cases.application(c.application_id, scope: user.scope),
              let p = try await cases.person(c.person_id, scope: user.scope) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let obligations = try await cases.obligations(of: id)
        let visits = try await cases.monitoring(of: id)
        let breaches = try await cases.breaches(of: id)
        let today = cases.today()
        let running = a.stateValue.isRunning && user.canWrite
        return HTMLResponse.make(Layout.page(ctx, title: c.number,
            .p(.a(.href("/applications/\(a.id)"), .text("← " + ctx.t("application.title", ["measure": ctx.t("measure.\(a.measure)")])))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("contract.title") + " " + c.number)),
            .dl(.class("summary"),
                .dt(.text(ctx.t("contract.participant"))), .dd(.a(.href("/people/\(p.id)"), .text(p.fullName))),
                .dt(.text(ctx.t("application.measure"))), .dd(.text(ctx.t("measure.\(a.measure)"))),
                .dt(.text(ctx.t("application.state"))), .dd(.span(.class("tag state-\(a.state)"), .text(ctx.t("state.\(a.state)")))),
                .dt(.text(ctx.t("contract.signed_on"))), .dd(.text(c.signed_on)),
                .dt(.text(ctx.t("contract.period"))), .dd(.text("\(c.starts_on) — \(c.ends_on)")),
                .dt(.text(ctx.t("contract.next_monitoring"))), .dd(.text(c.next_monitoring))
            ),
            .p(.class("print-links"),
                .a(.href("/contracts/\(id)/print/kk"), .attribute(named: "lang", value: "kk"), .text(ctx.t("contract.print") + " (қазақша)")), .text(" · "),
                .a(.href("/contracts/\(id)/print/ru"), .attribute(named: "lang", value: "ru"), .text(ctx.t("contract.print") + " (на русском)")),
                c.employer_id == nil ? .empty : .group(.text(" · "), .a(.href("/contracts/\(id)/notice/employer/kk"), .text(ctx.t("contract.notice.employer") + " (kk)")), .text(" · "), .a(.href("/contracts/\(id)/notice/employer/ru"), .text(ctx.t("contract.notice.employer") + " (ru)"))),
                c.provider_id == nil ? .empty : .group(.text(" · "), .a(.href("/contracts/\(id)/notice/provider/kk"), .text(ctx.t("contract.notice.provider") + " (kk)")), .text(" · "), .a(.href("/contracts/\(id)/notice/provider/ru"), .text(ctx.t("contract.notice.provider") + " (ru)")))),

            .h2(.id("obligations"), .text(ctx.t("contract.obligations"))),
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("contract.party"))), .th(.text(ctx.t("contract.obligation"))), .th(.text(ctx.t("contract.due"))), .th(.text(ctx.t("contract.fulfilled"))))),
                .tbody(.forEach(obligations) { o in
                    let overdue = o.fulfilled_on == nil && (CivilDate(iso: o.due_on).map { $0 < today } ?? false)
                    return .tr(.td(.text(ctx.t("party.\(o.party)"))), .td(.text(ctx.t(o.text))), .td(.class(overdue ? "overdue" : ""), .text(o.due_on + (overdue ? " — " + ctx.t("worklist.overdue") : ""))),
                        .td(o.fulfilled_on.map { .text($0) } ?? (running ? .form(.method(.post), .action("/contracts/\(id)/obligations/\(o.id)"), .class("inline"), ctx.csrfField(),
                                                                                .button(.type(.submit), .class("button secondary"), .text(ctx.t("contract.mark_fulfilled")))) : .text("—"))))
                })),

            !running ? .empty : .form(.method(.post), .action("/contracts/\(id)/obligations"), .class("panel"), ctx.csrfField(),
                .h3(.text(ctx.t("contract.add_obligation"))),
                k.select("obligation_party", ctx.t("contract.party"), options: options(ctx, "party", ContractParty.self)),
                k.text("obligation_text", ctx.t("contract.obligation")),
                k.text("obligation_due", ctx.t("contract.due"), hint: ctx.t("parameters.effective_from.hint")),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("contract.add_obligation")))),

            .h2(.id("monitoring"), .text(ctx.t("contract.monitoring"))),
            visits.isEmpty ? .p(.class("empty"), .text(ctx.t("contract.monitoring.none"))) :
            .table(.class("data"), .thead(.tr(.th(.text(ctx.t("contract.visited_on"))), .th(.text(ctx.t("contract.note"))), .th(.text(ctx.t("contract.by"))))),
                   .tbody(.forEach(visits) { v in .tr(.td(.text(v.visited_on)), .td(.text(v.note)), .td(.text(v.by_login))) })),
            !running ? .empty : .form(.method(.post), .action("/contracts/\(id)/monitoring"), .class("panel"), ctx.csrfField(),
                k.text("visited_on", ctx.t("contract.visited_on"), hint: ctx.t("parameters.effective_from.hint")),
                k.text("note", ctx.t("contract.note")),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("contract.add_visit")))),

            .h2(.id("breaches"), .text(ctx.t("contract.breaches"))),
            breaches.isEmpty ? .p(.class("empty"), .text(ctx.t("contract.breaches.none"))) :
            .table(.class("data"), .thead(.tr(.th(.text(ctx.t("contract.occurred_on"))), .th(.text(ctx.t("contract.party"))), .th(.text(ctx.t("contract.description"))), .th(.text(ctx.t("contract.sanction"))))),
                   .tbody(.forEach(breaches) { b in .tr(.td(.text(b.occurred_on)), .td(.text(ctx.t("party.\(b.party)"))), .td(.text(b.description)), .td(.text(ctx.t("sanction.\(b.sanction)")))) })),
            !running ? .empty : .form(.method(.post), .action("/contracts/\(id)/breaches"), .class("panel"), ctx.csrfField(),
                k.select("party", ctx.t("contract.party"), options: options(ctx, "party", ContractParty.self)),
                k.text("occurred_on", ctx.t("contract.occurred_on"), hint: ctx.t("parameters.effective_from.hint")),
                k.text("description", ctx.t("contract.description")),
                k.select("sanction", ctx.t("contract.sanction"), options: CaseStore.Sanction.allCases.map { ($0.rawValue, ctx.t("sanction.\($0.rawValue)")) }),
                .p(.class("hint"), .text(ctx.t("contract.breach.hint"))),
                .button(.type(.submit), .class("button warning"), .text(ctx.t("contract.record_breach"))))
        ), status: status)
    }

    // MARK: worklist

    /// `more`: only the earliest this many are shown, of more that are due.
    static func worklist(_ ctx: PageContext, items: [WorklistItem], today: CivilDate, more: Int? = nil) -> Node<HTML.BodyContext> {
        .section(.class("worklist"),
            .h2(.text(ctx.t("worklist.title"))),
            more.map { .p(.class("hint"), .text(ctx.t("worklist.more", ["n": String($0)]))) } ?? .empty,
            items.isEmpty ? .p(.class("empty"), .text(ctx.t("worklist.none"))) :
            .table(.class("data"),
                .caption(.text(ctx.t("worklist.caption", ["date": today.iso]))),
                .thead(.tr(.th(.text(ctx.t("worklist.due"))), .th(.text(ctx.t("worklist.what"))), .th(.text(ctx.t("person.name"))), .th(.text(ctx.t("worklist.detail"))))),
                .tbody(.forEach(items) { i in
                    let href = i.kind == .monitoring || i.kind == .obligation ? "/contracts/\(i.contractID ?? 0)" : (i.kind == .online ? "/online/\(i.applicationID ?? 0)" : "/applications/\(i.applicationID ?? 0)")
                    let detail: String = {
                        switch i.kind {
                        case .obligation:
                            let parts = i.detail.split(separator: "|", maxSplits: 1).map(String.init)
                            return parts.count == 2 ? ctx.t("party.\(parts[0])") + ": " + ctx.t(parts[1]) : i.detail
                        case .monitoring: return i.detail
                        default: return ctx.t("measure.\(i.detail)")
                        }
                    }()
                    return .tr(.td(.class(i.due < today ? "overdue" : (i.due == today ? "due-today" : "")),
                                   .text(i.due.iso + (i.due < today ? " — " + ctx.t("worklist.overdue") : (i.due == today ? " — " + ctx.t("worklist.today") : "")))),
                               .td(.a(.href(href), .text(ctx.t("worklist.kind.\(i.kind.rawValue)")))),
                               .td(i.personID == 0 ? .text(i.personName) : .a(.href("/people/\(i.personID)"), .text(i.personName))),
                               .td(.text(detail)))
                })
            )
        )
    }
}
