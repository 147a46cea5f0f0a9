import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The public portal (EP2020 §8, the youth labour exchange): open without signing in.
struct PortalRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("portal", use: home)
        routes.get("portal", "vacancies", use: vacancies)
        routes.get("portal", "courses", use: courses)
        routes.get("portal", "measures", use: measures)
        routes.get("portal", "apply", use: applyForm)
        routes.post("portal", "apply", use: apply)
        routes.get("online", ":id", use: online)
    }

    static let submissionsPerHour = 5

    @Sendable func home(req: Request) async throws -> Response {
        let ctx = PageContext(req)
        let tiles: [(String, String, String)] = [
            (ctx.t("portal.vacancies"), ctx.t("portal.vacancies.text"), "/portal/vacancies"),
            (ctx.t("portal.courses"), ctx.t("portal.courses.text"), "/portal/courses"),
            (ctx.t("portal.measures"), ctx.t("portal.measures.text"), "/portal/measures"),
            (ctx.t("portal.apply"), ctx.t("portal.apply.text"), "/portal/apply"),
        ]
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("portal.title"),
            .h1(.text(ctx.t("portal.title"))), .p(.class("lead"), .text(ctx.t("portal.lead"))),
            .ul(.class("tiles"), .forEach(tiles) { t in .li(.a(.href(t.2), .h2(.text(t.0)), .p(.text(t.1)))) }),
            .p(.a(.href("/signin"), .text(ctx.t("portal.staff"))))))
    }

    @Sendable func vacancies(req: Request) async throws -> Response {
        let ctx = PageContext(req)
        let today = CaseStore(store: req.jumys.store).today()
        let region = (try? req.query.get(String.self, at: "region")).flatMap { RegionCode($0)?.iso }
        let isco = (try? req.query.get(String.self, at: "isco"))?.filter(\.isNumber)
        let minWage = (try? req.query.get(String.self, at: "min_wage")).flatMap { Money(string: $0) }
        let rows = try await LabourStore(store: req.jumys.store).vacancies(region: region, iscoPrefix: isco, minWage: minWage, on: today, limit: 200)
        let occupations = try await LabourRoutes.occupations(req)
        let regions = try await RegionRecord.query(on: req.jumys.store.db).sort(\.$id).all()
        let k = FormKit(ctx: ctx, errors: [], values: ["region": region ?? "", "isco": isco ?? "", "min_wage": minWage?.decimalString ?? ""])
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("portal.vacancies"),
            .p(.a(.href("/portal"), .text("← " + ctx.t("portal.title")))),
            .h1(.text(ctx.t("portal.vacancies"))),
            .form(.method(.get), .action("/portal/vacancies"), .class("panel filters"),
                k.select("region", ctx.t("person.region"), options: regions.map { ($0.id!, ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) }),
                k.text("isco", ctx.t("vacancies.isco"), hint: ctx.t("vacancies.isco.hint")), k.text("min_wage", ctx.t("vacancies.min_wage")),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("people.search.button")))),
            rows.isEmpty ? .p(.class("empty"), .text(ctx.t("vacancies.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("vacancies.position"))), .th(.text(ctx.t("vacancies.isco"))), .th(.text(ctx.t("person.region"))), .th(.text(ctx.t("vacancies.wage"))), .th(.text(ctx.t("vacancies.until"))))),
                .tbody(.forEach(rows) { v in
                    .tr(.td(.text(v.title)), .td(.text("\(v.occupation_isco) \(occupations[v.occupation_isco] ?? "")")), .td(.text(v.region_iso)),
                        .td(.class("num"), .text(Money(tiyn: v.wage).formatted())), .td(.text(v.valid_until)))
                })),
            .p(.a(.class("button"), .href("/portal/apply"), .text(ctx.t("portal.apply"))))))
    }

    @Sendable func courses(req: Request) async throws -> Response {
        let ctx = PageContext(req)
        let rows = try await PortalStore(store: req.jumys.store).courses()
        let providers = Dictionary(uniqueKeysWithValues: try await OrganisationRecord.query(on: req.jumys.store.db).filter(\.$kind == OrganisationKind.educationProvider.rawValue).all().map { ($0.id!, $0) })
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("portal.courses"),
            .p(.a(.href("/portal"), .text("← " + ctx.t("portal.title")))),
            .h1(.text(ctx.t("portal.courses"))), .p(.class("lead"), .text(ctx.t("portal.courses.lead"))),
            ctx.user.map { $0.canWrite && ($0.role == .administrator || $0.role == .contractor) } == true ? .p(.a(.class("button"), .href("/courses/new"), .text(ctx.t("courses.new")))) : .empty,
            rows.isEmpty ? .p(.class("empty"), .text(ctx.t("portal.courses.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("contract.provider"))), .th(.text(ctx.t("contract.specialty"))), .th(.text(ctx.t("contract.course_months"))), .th(.text(ctx.t("contract.course_cost"))))),
                .tbody(.forEach(rows) { c in
                    .tr(.td(.text(providers[c.provider_id].map { ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang) } ?? "—")),
                        .td(.text("\(ScopeNames.localized(kk: c.title_kk, ru: c.title_ru, en: c.title_en, ctx.lang)) (\(c.occupation_isco))")),
                        .td(.text(String(c.months))), .td(.class("num"), .text(Money(tiyn: c.cost).formatted())))
                }))))
    }

    /// How the measures work, with today's amounts computed by the rules themselves.
    @Sendable func measures(req: Request) async throws -> Response {
        let ctx = PageContext(req)
        let env = try await req.jumys.rules.current()
        let today = CaseStore(store: req.jumys.store).today()
        let c = env.context(on: today)
        let table = try? SubsidyTable(c)
        func money(_ m: Money?) -> String { m.map { $0.formatted() + " ₸" } ?? "—" }
        let items: [(String, String)] = [
            (ctx.t("measure.training"), ctx.t("portal.measure.training")),
            (ctx.t("measure.youth_practice"), ctx.t("portal.measure.youth_practice", ["amount": money(table?.youthPractice(month: 1))])),
            (ctx.t("measure.social_job"), ctx.t("portal.measure.social_job", ["cap": money(table?.socialJob(wage: Money(tenge: 10_000_000), month: 1))])),
            (ctx.t("measure.vacancy_placement"), ctx.t("portal.measure.vacancy_placement")),
            (ctx.t("measure.infrastructure_referral"), ctx.t("portal.measure.infrastructure_referral")),
            (ctx.t("portal.measure.relocation.title"), ctx.t("portal.measure.relocation", ["amount": money(table?.relocation(move: .otherRegion, familyMembers: 0))])),
        ]
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("portal.measures"),
            .p(.a(.href("/portal"), .text("← " + ctx.t("portal.title")))),
            .h1(.text(ctx.t("portal.measures"))), .p(.class("lead"), .text(ctx.t("portal.measures.lead", ["date": today.iso]))),
            .forEach(items) { i in .group(.h2(.text(i.0)), .p(.text(i.1))) },
            .p(.a(.class("button"), .href("/portal/apply"), .text(ctx.t("portal.apply"))))))
    }

    @Sendable func applyForm(req: Request) async throws -> Response {
        try await form(req, values: [:], errors: [], status: .ok)
    }

    func form(_ req: Request, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus) async throws -> Response {
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let districts = try await DistrictRecord.query(on: req.jumys.store.db).sort(\.$regionISO).sort(\.$id).all()
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("portal.apply"),
            .div(.class("narrow"),
                .p(.a(.href("/portal"), .text("← " + ctx.t("portal.title")))),
                Layout.errorSummary(ctx, errors),
                .h1(.text(ctx.t("portal.apply"))), .p(.class("lead"), .text(ctx.t("portal.apply.lead"))),
                .form(.method(.post), .action("/portal/apply"), ctx.csrfField(),
                    k.text("iin", ctx.t("person.iin"), hint: ctx.t("register.iin.hint")),
                    k.text("last_name", ctx.t("person.last_name")), k.text("first_name", ctx.t("person.first_name")),
                    k.text("phone", ctx.t("person.phone"), hint: ctx.t("register.phone.hint"), type: .tel),
                    k.text("email", ctx.t("person.email"), hint: ctx.t("register.optional"), type: .email),
                    k.select("district_id", ctx.t("portal.apply.district"), options: districts.map { (String($0.id!), $0.regionISO + " · " + ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) }),
                    k.select("measure", ctx.t("application.measure"), options: CaseworkViews.options(ctx, "measure", Measure.self).filter { !(Measure(rawValue: $0.0)?.hasOwnForm ?? false) }),
                    // Left empty by people (it is hidden from them); bots that fill every field give themselves away.
                    .div(.class("hp"), .attribute(named: "aria-hidden", value: "true"),
                         .label(.for("website"), .text("Website")), .input(.type(.text), .id("website"), .name("website"), .attribute(named: "tabindex", value: "-1"), .attribute(named: "autocomplete", value: "off"))),
                    .div(.class("consent"), .p(.text(ctx.t("register.consent.text"))), k.checkbox("consent", ctx.t("portal.apply.consent"), checked: values["consent"] == "true")),
                    .button(.type(.submit), .class("button"), .text(ctx.t("portal.apply.send")))))
        ), status: status)
    }

    @Sendable func apply(req: Request) async throws -> Response {
        let f = try CaseworkRoutes.form(req)
        let ctx = PageContext(req)
        let thanks = HTMLResponse.make(Layout.page(ctx, title: ctx.t("portal.apply.done"),
            .div(.class("narrow"), .div(.class("panel confirmation"), .h1(.text(ctx.t("portal.apply.done"))), .p(.text(ctx.t("portal.apply.next")))),
                 .p(.a(.href("/portal"), .text("← " + ctx.t("portal.title")))))))
        // The honeypot: a person never fills it; answer as if all went well and keep nothing.
        if !(f["website"] ?? "").isEmpty { return thanks }
        let dir = req.jumys.directory
        if let _ = try await dir.countAttempt(keys: [(key: "portal:" + req.clientAddress, limit: Self.submissionsPerHour)], window: 3600, lockFor: 3600) {
            return try await form(req, values: f, errors: [("iin", ctx.t("portal.apply.too_many"))], status: .tooManyRequests)
        }
        do {
            _ = try await PortalStore(store: req.jumys.store).submit(.init(iin: f["iin"] ?? "", lastName: f["last_name"] ?? "", firstName: f["first_name"] ?? "",
                                                                         phone: f["phone"] ?? "", email: f["email"], districtID: f["district_id"].flatMap(Int.init),
                                                                         measure: f["measure"], consent: f["consent"] == "true"), env: try await req.jumys.rules.current())
            return thanks
        } catch let e as FieldErrors {
            return try await form(req, values: f, errors: ctx.messages(e), status: .unprocessableEntity)
        }
    }

    /// An online application as the district's caseworker sees it, with the way to take it into a file.
    @Sendable func online(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self), let o = try await PortalStore(store: req.jumys.store).online(id, scope: user.scope) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let existing = try await PersonRecord.query(on: req.jumys.store.db).filter(\.$iin == o.iin).first()
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("online.title"),
            .h1(.text(ctx.t("online.title"))),
            .dl(.class("summary"),
                .dt(.text(ctx.t("person.name"))), .dd(.text(o.last_name + " " + o.first_name)),
                .dt(.text(ctx.t("person.iin"))), .dd(.class("mono"), .text(o.iin)),
                .dt(.text(ctx.t("person.phone"))), .dd(.text(o.phone)), .dt(.text(ctx.t("person.email"))), .dd(.text(o.email ?? "—")),
                .dt(.text(ctx.t("application.measure"))), .dd(.text(ctx.t("measure.\(o.measure)"))),
                .dt(.text(ctx.t("application.submitted_on"))), .dd(.text(o.submitted_on)),
                .dt(.text(ctx.t("application.deadline"))), .dd(.text(ctx.t("application.decision_due", ["date": o.due_on]))),
                .dt(.text(ctx.t("person.consent"))), .dd(.text(ctx.t("online.consent", ["scope": o.consent_scope])))),
            o.processed_on != nil ? .p(.text(ctx.t("online.processed", ["date": o.processed_on ?? ""]))) :
                (existing != nil ? .form(.method(.post), .action("/online/\(id)/attach"), .class("panel"), ctx.csrfField(),
                                         .p(.text(ctx.t("online.already_registered"))),
                                         .button(.type(.submit), .class("button"), .text(ctx.t("online.attach")))) :
                    .p(.a(.class("button"), .href("/people/new?online=\(id)"), .text(ctx.t("online.register")))))
        ))
    }
}
