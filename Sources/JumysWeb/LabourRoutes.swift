import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// Vacancies, matching, referrals and the payroll pages.
struct LabourRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("vacancies", use: list)
        routes.get("vacancies", "new", use: newVacancy)
        routes.post("vacancies", use: create)
        routes.get("vacancies", ":id", use: show)
        routes.post("vacancies", ":id", "refer", use: refer)
        routes.get("referrals", ":id", use: referral)
        routes.post("referrals", ":id", "outcome", use: outcome)
        routes.get("referrals", ":id", "print", ":lang", use: printReferral)
        routes.get("payroll", use: payroll)
        routes.post("payroll", "run", use: runPayroll)
        routes.get("payroll", ":month", "payments.csv", use: download)
        routes.get("payroll", ":month", "payments.xlsx", use: download)
    }

    static func labour(_ req: Request) -> LabourStore { LabourStore(store: req.jumys.store) }

    static func occupations(_ req: Request) async throws -> [String: String] {
        let lang = req.lang
        var out: [String: String] = [:]
        for o in try await ReferenceData.occupations(req.jumys.store) { out[o.code] = lang == .kk ? (o.title_kk ?? o.title_ru) : (lang == .ru ? o.title_ru : o.title_en) }
        return out
    }

    @Sendable func list(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let today = CaseStore(store: req.jumys.store).today()
        let region = (try? req.query.get(String.self, at: "region")).flatMap { RegionCode($0)?.iso }
        let isco = (try? req.query.get(String.self, at: "isco"))?.filter(\.isNumber)
        let minWage = (try? req.query.get(String.self, at: "min_wage")).flatMap { Money(string: $0) }
        let rows = try await Self.labour(req).vacancies(region: region, iscoPrefix: isco, minWage: minWage, on: today, limit: 200)
        let occupations = try await Self.occupations(req)
        let k = FormKit(ctx: ctx, errors: [], values: ["region": region ?? "", "isco": isco ?? "", "min_wage": minWage?.decimalString ?? ""])
        let canAdd = user.canWrite && (user.role == .caseworker || user.role == .contractor || user.role == .administrator)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("vacancies.title"),
            .h1(.text(ctx.t("vacancies.title"))),
            ExportRoutes.links(ctx, .vacancies, ExportFilter(region: region, state: "open")),
            canAdd ? .p(.a(.class("button"), .href("/vacancies/new"), .text(ctx.t("vacancies.new")))) : .empty,
            .form(.method(.get), .action("/vacancies"), .class("panel filters"),
                k.text("region", ctx.t("person.region"), hint: "KZ-71"), k.text("isco", ctx.t("vacancies.isco"), hint: ctx.t("vacancies.isco.hint")),
                k.text("min_wage", ctx.t("vacancies.min_wage")),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("people.search.button")))),
            rows.isEmpty ? .p(.class("empty"), .text(ctx.t("vacancies.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("vacancies.position"))), .th(.text(ctx.t("vacancies.isco"))), .th(.text(ctx.t("person.region"))), .th(.text(ctx.t("vacancies.wage"))), .th(.text(ctx.t("vacancies.places"))), .th(.text(ctx.t("vacancies.until"))))),
                .tbody(.forEach(rows) { v in
                    .tr(.td(.a(.href("/vacancies/\(v.id)"), .text(v.title))), .td(.text("\(v.occupation_isco) \(occupations[v.occupation_isco] ?? "")")), .td(.text(v.region_iso)),
                        .td(.class("num"), .text(Money(tiyn: v.wage).formatted())), .td(.text(String(v.places))), .td(.text(v.valid_until)))
                }))
        ))
    }

    @Sendable func newVacancy(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.canWrite else { throw Abort(.forbidden, reason: "read-only") }
        return try await vacancyForm(req, values: ["places": "1"], errors: [], status: .ok)
    }

    func vacancyForm(_ req: Request, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus) async throws -> Response {
        let ctx = PageContext(req)
        let user = try req.requireUser()
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let employers = try await OrganisationRecord.query(on: req.jumys.store.db).filter(\.$kind == OrganisationKind.contractor.rawValue).sort(\.$code).all()
        var districts: [(String, String)] = []
        if case .district = user.scope {} else {
            districts = try await DistrictRecord.query(on: req.jumys.store.db).sort(\.$regionISO).all().map { (String($0.id!), $0.regionISO + " · " + ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) }
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("vacancies.new"),
            .div(.class("narrow"), Layout.errorSummary(ctx, errors), .h1(.text(ctx.t("vacancies.new"))),
                .form(.method(.post), .action("/vacancies"), ctx.csrfField(),
                    user.role == .contractor ? .empty : k.select("employer_id", ctx.t("contract.employer"), options: employers.map { (String($0.id!), ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) }),
                    k.text("title", ctx.t("vacancies.position")),
                    k.text("isco", ctx.t("vacancies.isco"), hint: ctx.t("register.isco.hint")),
                    districts.isEmpty ? .empty : k.select("district_id", ctx.t("person.district"), options: districts),
                    k.text("wage", ctx.t("vacancies.wage"), hint: ctx.t("vacancies.wage.hint")),
                    k.text("places", ctx.t("vacancies.places")),
                    k.text("requirements", ctx.t("vacancies.requirements"), hint: ctx.t("register.optional")),
                    k.text("valid_from", ctx.t("vacancies.from"), hint: ctx.t("parameters.effective_from.hint")),
                    k.text("valid_until", ctx.t("vacancies.until"), hint: ctx.t("parameters.effective_from.hint")),
                    .button(.type(.submit), .class("button"), .text(ctx.t("vacancies.save")))))
        ), status: status)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.canWrite else { throw Abort(.forbidden, reason: "read-only") }
        let f = try CaseworkRoutes.form(req)
        let input = VacancyInput(employerID: f["employer_id"].flatMap(Int.init), title: f["title"] ?? "", isco: (f["isco"] ?? "").trimmingCharacters(in: .whitespaces),
                                 districtID: f["district_id"].flatMap(Int.init), wage: f["wage"].flatMap { Money(string: $0.replacingOccurrences(of: " ", with: "")) },
                                 places: f["places"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }, requirements: f["requirements"],
                                 validFrom: f["valid_from"].flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) },
                                 validUntil: f["valid_until"].flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) })
        do {
            let id = try await Self.labour(req).createVacancy(input, by: user)
            return req.redirect(to: "/vacancies/\(id)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await vacancyForm(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        }
    }

    @Sendable func show(req: Request) async throws -> Response {
        let user = try req.requireUser()
        return try await vacancyPage(req, user: user, errors: [])
    }

    func vacancyPage(_ req: Request, user: UserContext, errors: [(field: String, message: String)], status: HTTPResponseStatus = .ok) async throws -> Response {
        guard let id = req.parameters.get("id", as: Int.self), let v = try await Self.labour(req).vacancy(id) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let occupations = try await Self.occupations(req)
        let employer = try await OrganisationRecord.find(v.employer_id, on: req.jumys.store.db)
        let canRefer = user.canWrite && user.role == .caseworker && v.state == "open"
        let candidates = user.role == .caseworker || user.role == .administrator || user.role == .analyst ? try await Self.labour(req).candidates(for: id, scope: user.scope) : []
        let referrals = try await Self.labour(req).referrals(toVacancy: id, scope: user.scope)
        func reason(_ r: MatchReason) -> String {
            ctx.t("match.level.\(r.occupationLevel)") + "; " + ctx.t("match.place.\(r.place.rawValue)") + (r.rank >> 32 > 0 ? "; " + ctx.t("match.priority", ["n": String(r.rank >> 32)]) : "")
                + "; " + ctx.t("match.days", ["n": String(r.rank & 0xFFFF_FFFF)])
        }
        return HTMLResponse.make(Layout.page(ctx, title: v.title,
            .p(.a(.href("/vacancies"), .text("← " + ctx.t("vacancies.title")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(v.title)),
            .dl(.class("summary"),
                .dt(.text(ctx.t("contract.employer"))), .dd(.text(employer.map { ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang) } ?? "—")),
                .dt(.text(ctx.t("vacancies.isco"))), .dd(.text("\(v.occupation_isco) \(occupations[v.occupation_isco] ?? "")")),
                .dt(.text(ctx.t("vacancies.wage"))), .dd(.text(Money(tiyn: v.wage).formatted() + " ₸")),
                .dt(.text(ctx.t("vacancies.places"))), .dd(.text(String(v.places))),
                .dt(.text(ctx.t("vacancies.until"))), .dd(.text("\(v.valid_from) — \(v.valid_until)")),
                .dt(.text(ctx.t("vacancies.requirements"))), .dd(.text(v.requirements ?? "—")),
                .dt(.text(ctx.t("vacancies.source"))), .dd(.text(ctx.t("vacancies.source.\(v.source)")))),
            candidates.isEmpty ? .empty : .group(
                .h2(.text(ctx.t("match.title"))),
                .p(.class("hint"), .text(ctx.t("match.lead"))),
                .table(.class("data"),
                    .thead(.tr(.th(.text("#")), .th(.text(ctx.t("person.name"))), .th(.text(ctx.t("vacancies.isco"))), .th(.text(ctx.t("match.why"))), .th(.span(.class("visually-hidden"), .text(ctx.t("table.action")))))),
                    .tbody(.forEach(Array(candidates.enumerated())) { i, c in
                        .tr(.td(.text(String(i + 1))), .td(.a(.href("/people/\(c.person.id)"), .text(c.person.fullName))), .td(.text(c.person.occupation_isco ?? "—")),
                            .td(.text(reason(c.reason))),
                            .td(canRefer ? .form(.method(.post), .action("/vacancies/\(id)/refer"), .class("inline"), ctx.csrfField(),
                                                 .input(.type(.hidden), .name("person_id"), .value(String(c.person.id))),
                                                 .button(.type(.submit), .class("button secondary"), .text(ctx.t("referral.refer")))) : .empty))
                    }))),
            referrals.isEmpty ? .empty : .group(
                .h2(.text(ctx.t("referral.list"))),
                .table(.class("data"), .thead(.tr(.th(.text(ctx.t("referral.number"))), .th(.text(ctx.t("referral.date"))), .th(.text(ctx.t("application.state"))))),
                       .tbody(.forEach(referrals) { r in .tr(.td(.a(.href("/referrals/\(r.id)"), .text(r.number))), .td(.text(r.referred_on)), .td(.text(ctx.t("referral.state.\(r.state)")))) })))
        ), status: status)
    }

    @Sendable func refer(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.canWrite else { throw Abort(.forbidden, reason: "read-only") }
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        let f = try CaseworkRoutes.form(req)
        do {
            let r = try await Self.labour(req).refer(person: f["person_id"].flatMap(Int.init) ?? 0, vacancy: id, by: user)
            return req.redirect(to: "/referrals/\(r)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await vacancyPage(req, user: user, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    @Sendable func referral(req: Request) async throws -> Response {
        let user = try req.requireUser()
        return try await referralPage(req, user: user, values: [:], errors: [])
    }

    func referralPage(_ req: Request, user: UserContext, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus = .ok) async throws -> Response {
        guard let id = req.parameters.get("id", as: Int.self), let r = try await Self.labour(req).referral(id, scope: user.scope),
              let p = try await CaseStore(store: req.jumys.store).person(r.person_id, scope: user.scope), let v = try await Self.labour(req).vacancy(r.vacancy_id) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let open = r.state == "issued" && user.canWrite
        let contract = r.state == "hired" ? try await Self.labour(req).contract(forReferral: id) : nil
        return HTMLResponse.make(Layout.page(ctx, title: r.number,
            .p(.a(.href("/people/\(p.id)"), .text("← " + p.fullName))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("referral.title") + " " + r.number)),
            contract.map { c in .div(.class("panel confirmation"), .attribute(named: "role", value: "status"),
                .h2(.text(ctx.t("referral.hired.done", ["date": c.starts_on]))),
                .p(.text(ctx.t("referral.hired.next"))),
                .p(.a(.href("/people/\(p.id)"), .text(ctx.t("referral.hired.card"))))) } ?? .empty,
            .dl(.class("summary"),
                .dt(.text(ctx.t("contract.participant"))), .dd(.a(.href("/people/\(p.id)"), .text(p.fullName))),
                .dt(.text(ctx.t("vacancies.position"))), .dd(.a(.href("/vacancies/\(v.id)"), .text(v.title))),
                .dt(.text(ctx.t("referral.date"))), .dd(.text(r.referred_on)),
                .dt(.text(ctx.t("application.state"))), .dd(.text(ctx.t("referral.state.\(r.state)") + (r.reason.map { ": " + $0 } ?? "")))),
            contract.map { c in .group(.h2(.text(ctx.t("referral.contract"))), .dl(.class("summary"),
                .dt(.text(ctx.t("vacancies.position"))), .dd(.text(c.position)),
                .dt(.text(ctx.t("contract.starts_on"))), .dd(.text(c.starts_on)),
                .dt(.text(ctx.t("contract.ends_on"))), .dd(.text(c.ends_on ?? "—")),
                .dt(.text(ctx.t("vacancies.wage"))), .dd(.text(Money(tiyn: c.wage).formatted() + " ₸")))) } ?? .empty,
            .p(.class("print-links"), .a(.href("/referrals/\(id)/print/kk"), .text(ctx.t("referral.print") + " (қазақша)")), .text(" · "),
               .a(.href("/referrals/\(id)/print/ru"), .text(ctx.t("referral.print") + " (на русском)"))),
            !open ? .empty : .group(
                .form(.method(.post), .action("/referrals/\(id)/outcome"), .class("panel"), ctx.csrfField(),
                    .h2(.text(ctx.t("referral.hired"))),
                    .input(.type(.hidden), .name("outcome"), .value("hired")),
                    k.text("position", ctx.t("vacancies.position")),
                    k.text("starts_on", ctx.t("contract.starts_on"), hint: ctx.t("parameters.effective_from.hint")),
                    k.text("ends_on", ctx.t("contract.ends_on"), hint: ctx.t("register.optional")),
                    k.text("wage", ctx.t("vacancies.wage"), hint: ctx.t("vacancies.wage.hint")),
                    k.select("subsidised", ctx.t("referral.subsidised"), options: [(Measure.socialJob.rawValue, ctx.t("measure.social_job")), (Measure.youthPractice.rawValue, ctx.t("measure.youth_practice"))]),
                    .button(.type(.submit), .class("button"), .text(ctx.t("referral.record_hire")))),
                .form(.method(.post), .action("/referrals/\(id)/outcome"), .class("panel"), ctx.csrfField(),
                    .h2(.text(ctx.t("referral.state.refused_by_employer"))),
                    .input(.type(.hidden), .name("outcome"), .value("refused")),
                    k.text("reason", ctx.t("referral.reason")),
                    .button(.type(.submit), .class("button warning"), .text(ctx.t("referral.record_refusal")))),
                .form(.method(.post), .action("/referrals/\(id)/outcome"), .class("inline-form"), ctx.csrfField(),
                    .input(.type(.hidden), .name("outcome"), .value("no_show")),
                    .button(.type(.submit), .class("button secondary"), .text(ctx.t("referral.record_no_show")))))
        ), status: status)
    }

    @Sendable func outcome(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.canWrite else { throw Abort(.forbidden, reason: "read-only") }
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        let f = try CaseworkRoutes.form(req)
        do {
            let o: ReferralOutcome
            switch f["outcome"] {
            case "hired":
                var errors: [FieldError] = []
                let starts = f["starts_on"].flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) }; if starts == nil { errors.append(FieldError("starts_on", "date_invalid")) }
                let endsText = f["ends_on"]?.trimmingCharacters(in: .whitespaces) ?? ""
                let ends = endsText.isEmpty ? nil : CivilDate(iso: endsText); if !endsText.isEmpty && ends == nil { errors.append(FieldError("ends_on", "date_invalid")) }
                let wage = f["wage"].flatMap { Money(string: $0.replacingOccurrences(of: " ", with: "")) }; if wage == nil { errors.append(FieldError("wage", "amount_invalid")) }
                // Blank is "not subsidised"; a measure the list does not have is refused, not read as blank.
                let subsidisedText = f["subsidised"]?.trimmingCharacters(in: .whitespaces) ?? ""
                let subsidised = Measure(rawValue: subsidisedText)
                if !subsidisedText.isEmpty && subsidised == nil { errors.append(FieldError("subsidised", "choose_from_list")) }
                guard errors.isEmpty, let starts, let wage else { throw FieldErrors(errors: errors) }
                o = .hired(position: f["position"] ?? "", startsOn: starts, endsOn: ends, wage: wage, subsidised: subsidised)
            case "refused": o = .refusedByEmployer(reason: f["reason"] ?? "")
            case "no_show": o = .noShow
            default: throw FieldErrors(errors: [FieldError("outcome", "choose_from_list")])
            }
            try await Self.labour(req).recordOutcome(referral: id, o, env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/referrals/\(id)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await referralPage(req, user: user, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    @Sendable func printReferral(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let lang = req.parameters.get("lang").flatMap(Lang.init(rawValue:)), lang != .en, let id = req.parameters.get("id", as: Int.self),
              let r = try await Self.labour(req).referral(id, scope: user.scope), let p = try await CaseStore(store: req.jumys.store).person(r.person_id, scope: user.scope),
              let v = try await Self.labour(req).vacancy(r.vacancy_id) else { throw Abort(.notFound) }
        let db = req.jumys.store.db
        let employer = try await OrganisationRecord.find(r.employer_id, on: db)
        let centre = try await OrganisationRecord.query(on: db).filter(\.$kind == OrganisationKind.employmentCentre.rawValue).filter(\.$districtID == r.district_id).first()
        let tr = req.jumys.translator
        func t(_ k: String, _ a: [String: String] = [:]) -> String { tr.t(k, lang, a) }
        return PrintViews.document(lang, title: t("referral.title") + " " + r.number,
            .p(.class("doc-ref"), .text(PrintViews.name(centre, lang))),
            .h1(.text(t("referral.title") + " № " + r.number)),
            .p(.class("doc-meta"), .text(t("print.place_date", ["date": r.referred_on]))),
            .p(.text(t("referral.print.text", ["centre": PrintViews.name(centre, lang), "person": p.fullName, "iin": p.iin, "employer": PrintViews.name(employer, lang), "position": v.title]))),
            .table(.class("doc-fields"),
                .tr(.th(.text(t("vacancies.isco"))), .td(.text(v.occupation_isco))),
                .tr(.th(.text(t("vacancies.wage"))), .td(.text(Money(tiyn: v.wage).formatted() + " ₸"))),
                .tr(.th(.text(t("referral.print.valid"))), .td(.text(v.valid_until)))),
            .p(.text(t("referral.print.return"))),
            .table(.class("signatures"), .tr(.td(.text(t("party.centre"))), .td(.text(PrintViews.name(centre, lang))), .td(.class("signature-line"), .text(""))),
                   .tr(.td(.text(t("party.employer"))), .td(.text(t("referral.print.employer_mark"))), .td(.class("signature-line"), .text(""))))
        )
    }

    // MARK: payroll

    @Sendable func payroll(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let today = CaseStore(store: req.jumys.store).today()
        let month = (try? req.query.get(String.self, at: "month")).flatMap(Payroll.Month.init) ?? Payroll.Month(String(format: "%04d-%02d", today.year, today.month))!
        var lines: [Payroll.PaymentLine] = []
        try await Payroll(store: req.jumys.store).lines(month: month, scope: user.scope) { page in if lines.count < 500 { lines += page.prefix(500 - lines.count) } }
        let total = lines.reduce(Money.zero) { $0 + Money(tiyn: $1.amount) }
        // The month's latest run: still going (a link to its progress), or what it held back for want of limits.
        let run = user.role == .administrator ? try await JobStore(store: req.jumys.store).latest(.payroll, subject: month.description) : nil
        let held = run.flatMap { $0.state == "done" ? Int($0.figures["held"] ?? "") : nil } ?? 0
        let names = try await ProjectRoutes.Names.load(req, ctx.lang)
        let heldRegions = (run?.figures["held_regions"] ?? "").split(separator: ",").compactMap { RegionCode(String($0))?.iso }.map(names.region).joined(separator: ", ")
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("payroll.title"),
            .h1(.text(ctx.t("payroll.title") + " " + month.description)),
            .p(.class("lead"), .text(ctx.t("payroll.lead"))),
            run.map { r in r.isFinished ? .empty : .div(.class("notice"), .attribute(named: "role", value: "status"),
                .p(.a(.href("/jobs/\(r.id)"), .text(ctx.t("jobs.payroll.running", ["percent": String(r.percent)]))))) } ?? .empty,
            held > 0 ? .div(.class("notice late"), .attribute(named: "role", value: "status"),
                            .p(.text(ctx.t("payroll.held", ["count": String(held), "regions": heldRegions]))),
                            .p(.a(.href("/limits?year=\(month.year)&direction=ep_training"), .text(ctx.t("limits.title"))))) : .empty,
            .form(.method(.get), .action("/payroll"), .class("inline-form"), .label(.for("payroll-month"), .text(ctx.t("report.month"))), .input(.type(.text), .id("payroll-month"), .name("month"), .value(month.description), .class("narrow")), .button(.type(.submit), .class("button secondary"), .text(ctx.t("payroll.show")))),
            user.role != .administrator ? .empty : .form(.method(.post), .action("/payroll/run"), .class("inline-form"), ctx.csrfField(), .input(.type(.hidden), .name("month"), .value(month.description)),
                                                          .button(.type(.submit), .class("button"), .text(ctx.t("payroll.run")))),
            user.role != .administrator ? .empty : .form(.method(.post), .action("/payroll/correct"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("payroll.correct"))), .p(.class("hint"), .text(ctx.t("payroll.correct.hint"))),
                .input(.type(.hidden), .name("month"), .value(month.description)),
                .div(.class("field"), .label(.for("placement_id"), .text(ctx.t("payroll.correct.placement"))), .input(.type(.text), .id("placement_id"), .name("placement_id"))),
                .div(.class("field"), .label(.for("reason"), .text(ctx.t("payroll.correct.reason"))), .input(.type(.text), .id("reason"), .name("reason"))),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("payroll.correct")))),
            .p(.class("print-links"), .a(.href("/payroll/\(month)/payments.xlsx"), .text(ctx.t("payroll.download.xlsx"))), .text(" · "), .a(.href("/payroll/\(month)/payments.csv"), .text(ctx.t("payroll.download.csv")))),
            lines.isEmpty ? .p(.class("empty"), .text(ctx.t("payroll.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("person.name"))), .th(.text(ctx.t("application.measure"))), .th(.text(ctx.t("payroll.col.month_index"))), .th(.text(ctx.t("payroll.col.amount"))), .th(.text(ctx.t("explanation.title"))))),
                .tbody(.forEach(lines) { l in
                    .tr(.td(.a(.href("/people/\(l.person_id)"), .text(l.last_name + " " + l.first_name))), .td(.text(ctx.t("measure.\(l.measure)") + (l.kind == "correction" ? " · " + ctx.t("payroll.kind.correction") : ""))), .td(.text(String(l.month_index))),
                        .td(.class("num"), .text(Money(tiyn: l.amount).formatted())), .td(CaseworkViews.explanation(ctx, (try? JSONDecoder().decode([ExplanationStep].self, from: Data(l.explanation.utf8))) ?? [])))
                }),
                .tbody(.tr(.th(.text(ctx.t("payroll.total"))), .td(.text("")), .td(.text(String(lines.count))), .td(.class("num"), .strong(.text(total.formatted()))), .td(.text("")))))
        ))
    }

    @Sendable func runPayroll(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.role == .administrator else { throw Abort(.forbidden) }
        let f = try CaseworkRoutes.form(req)
        guard let m = f["month"].flatMap(Payroll.Month.init) else { throw Abort(.unprocessableEntity) }
        // A month the rules are not in force in is refused now (422), not in the background.
        _ = try SubsidyTable(try await req.jumys.rules.current().context(on: m.first))
        // The run goes on in the background; its page shows the progress and then what was paid and held.
        return try await JobRoutes.start(req, .payroll, subject: m.description)
    }

    @Sendable func download(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let m = req.parameters.get("month").flatMap(Payroll.Month.init) else { throw Abort(.notFound) }
        let xlsx = req.url.path.hasSuffix(".xlsx")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("payments-\(UUID().uuidString).\(xlsx ? "xlsx" : "csv")")
        defer { try? FileManager.default.removeItem(at: file) }
        let lang: Lang = req.lang == .kk ? .kk : .ru
        try await PaymentList.write(month: m, scope: user.scope, store: req.jumys.store, translator: req.jumys.translator, lang: lang, csv: xlsx ? nil : file, xlsx: xlsx ? file : nil)
        let data = try Data(contentsOf: file)
        var headers = HTTPHeaders()
        headers.contentType = xlsx ? HTTPMediaType(type: "application", subType: "vnd.openxmlformats-officedocument.spreadsheetml.sheet") : HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"payments-\(m).\(xlsx ? "xlsx" : "csv")\"")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}
