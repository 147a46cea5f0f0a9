import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// Direction 3 (D1–D6) on the web: settlement lists, the relocation application with the commission's
/// recommendation and the subsidy, the payment list, service housing and youth hostel rooms, employer co-financing.
struct RelocationRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("people", ":id", "relocation", "new", use: newForm)
        routes.post("people", ":id", "relocation", use: create)
        routes.get("relocation", ":id", use: show)
        routes.post("relocation", ":id", "recommendation", use: recommend)
        routes.post("relocation", ":id", "allocate", use: allocateFamily)
        routes.get("settlements", use: settlements)
        routes.post("settlements", use: addSettlement)
        routes.post("settlements", ":id", "delist", use: delist)
        routes.get("housing", use: housing)
        routes.post("housing", "dwellings", use: addDwelling)
        routes.post("housing", "cofinancing", use: addCofinancing)
        routes.post("housing", ":id", "allocate", use: allocateRoom)
        routes.post("allocations", ":id", "release", use: release)
        routes.get("payments", use: payments)
    }

    typealias Errors = [(field: String, message: String)]
    static func store(_ req: Request) -> RelocationStore { RelocationStore(store: req.jumys.store) }
    static func settlementName(_ s: RelocationStore.SettlementRow?, _ lang: Lang) -> String { s.map { lang == .kk ? $0.name_kk : $0.name_ru } ?? "—" }
    static func date(_ f: [String: String], _ name: String, default d: CivilDate? = nil) throws -> CivilDate {
        let s = (f[name] ?? "").trimmingCharacters(in: .whitespaces)
        if s.isEmpty, let d { return d }
        guard let v = CivilDate(iso: s) else { throw FieldErrors(errors: [FieldError(name, "date_invalid")]) }
        return v
    }

    // MARK: the application

    @Sendable func newForm(req: Request) async throws -> Response {
        try await formPage(req, values: [:], errors: [], status: .ok)
    }

    func formPage(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let cases = CaseStore(store: req.jumys.store)
        guard user.doesCasework, let p = try await cases.person(try CaseworkRoutes.id(req), scope: user.scope) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let today = cases.today()
        let listed = try await Self.store(req).settlements().filter { $0.listed(on: today) }
        let members = try await cases.household(of: p.id)
        let employers = try await OrganisationRecord.query(on: req.jumys.store.db).filter(\.$kind == OrganisationKind.contractor.rawValue).sort(\.$code).all()
        func options(_ potential: SettlementPotential) -> [(String, String)] {
            listed.filter { $0.potential == potential.rawValue }.map { (String($0.id), "\(Self.settlementName($0, ctx.lang)) (\($0.region_iso))") }
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("relocation.new"),
            .p(.a(.href("/people/\(p.id)"), .text("← " + p.fullName))),
            .div(.class("narrow"),
                .h1(.text(ctx.t("relocation.new"))),
                .p(.class("lead"), .text(ctx.t("relocation.lead"))),
                Layout.errorSummary(ctx, errors),
                .form(.method(.post), .action("/people/\(p.id)/relocation"), ctx.csrfField(),
                    k.select("origin_id", ctx.t("relocation.origin"), options: options(.low) + options(.high)),
                    k.text("lived_since", ctx.t("relocation.lived_since"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"),
                    k.select("destination_id", ctx.t("relocation.destination"), options: options(.high)),
                    k.checkbox("skills_match", ctx.t("relocation.skills_match"), checked: values["skills_match"] == "true"),
                    k.checkbox("employment_at_destination", ctx.t("relocation.employment_at_destination"), checked: values["employment_at_destination"] == "true"),
                    k.checkbox("employer_relocated", ctx.t("relocation.employer_relocated"), checked: values["employer_relocated"] == "true"),
                    k.select("employer_id", ctx.t("contract.employer"), options: employers.map { (String($0.id!), LabourMarketRoutes.orgName($0, ctx.lang)) }),
                    members.isEmpty ? .p(.class("hint"), .text(ctx.t("relocation.no_members"))) :
                        k.checkboxes("members", ctx.t("relocation.members"), options: members.map { (String($0.id), "\($0.full_name) (\(ctx.t("relation.\($0.relation)")), \($0.birth_date))") },
                                     checked: Set((values["members"] ?? "").split(separator: ",").map(String.init))),
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
            let origin = LabourMarketRoutes.int(f["origin_id"]), destination = LabourMarketRoutes.int(f["destination_id"])
            if origin == nil { errors.append(FieldError("origin_id", "choose_from_list")) }
            if destination == nil { errors.append(FieldError("destination_id", "choose_from_list")) }
            let livedText = (f["lived_since"] ?? "").trimmingCharacters(in: .whitespaces)
            if !livedText.isEmpty && CivilDate(iso: livedText) == nil { errors.append(FieldError("lived_since", "date_invalid")) }
            let onText = (f["submitted_on"] ?? "").trimmingCharacters(in: .whitespaces)
            if !onText.isEmpty && CivilDate(iso: onText) == nil { errors.append(FieldError("submitted_on", "date_invalid")) }
            let members = (f["members"] ?? "").split(separator: ",").compactMap { Int($0) }
            guard errors.isEmpty, let origin, let destination else { throw FieldErrors(errors: errors) }
            let input = RelocationInput(originID: origin, destinationID: destination, livedSince: CivilDate(iso: livedText), skillsMatch: f["skills_match"] == "true",
                                        employerRelocated: f["employer_relocated"] == "true", employerID: LabourMarketRoutes.int(f["employer_id"]),
                                        employmentAtDestination: f["employment_at_destination"] == "true", memberIDs: members, submittedOn: CivilDate(iso: onText))
            let app = try await Self.store(req).apply(person: id, input, env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/relocation/\(app)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await formPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    @Sendable func show(req: Request) async throws -> Response {
        try await page(req, values: [:], errors: [], status: .ok)
    }

    func page(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let id = try CaseworkRoutes.id(req)
        let cases = CaseStore(store: req.jumys.store)
        let store = Self.store(req)
        guard let r = try await store.relocation(id, scope: user.scope), let a = try await cases.application(id, scope: user.scope),
              let p = try await cases.person(r.person_id, scope: user.scope) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let origin = try await store.settlement(r.origin_id), destination = try await store.settlement(r.destination_id)
        let recommendations = try await store.recommendations(of: id)
        let payment = try await store.payment(forApplication: id)
        let household = try await cases.household(of: p.id)
        let memberIDs = Set(r.members.split(separator: ",").compactMap { Int($0) })
        let allocations = try await store.allocations(ofPerson: p.id)
        let current = allocations.first { $0.released_on == nil }
        let included = [ApplicationState.included, .contractSigned, .active].contains(a.stateValue)
        let canAct = user.canWrite && user.doesCasework
        let mayRecommend = user.canWrite && [ApplicationState.submitted, .underReview].contains(a.stateValue)
            && (r.body == RecommendingBody.programmeOperator.rawValue ? user.role == .administrator : (user.doesCasework || user.role == .commissionMember))
        let dwellings = included && current == nil && canAct ? try await store.dwellings(region: destination?.region_iso) : []
        let taken = try await store.openAllocations(dwellings: dwellings.map(\.id))
        let free = dwellings.filter { taken[$0.id] == nil && $0.kind != DwellingKind.youthHostelRoom.rawValue }
        let steps = payment.flatMap { try? JSONDecoder().decode([ExplanationStep].self, from: Data($0.explanation.utf8)) } ?? []
        func recRow(_ x: RelocationStore.RecommendationRow) -> Node<HTML.TableContext> {
            .tr(.td(.text(ctx.t("recommending.\(x.body)"))), .td(.text(x.on_date)), .td(.text(x.protocol_no)),
                .td(.span(.class(x.recommended ? "tag ok" : "tag late"), .text(ctx.t(x.recommended ? "relocation.recommended" : "relocation.not_recommended")))), .td(.text(x.note)))
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("relocation.title"),
            .p(.a(.href("/people/\(p.id)"), .text("← " + p.fullName)), .text(" · "), .a(.href("/applications/\(id)"), .text(ctx.t("business.application_link")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("relocation.title"))),
            .dl(.class("summary"),
                .dt(.text(ctx.t("application.state"))), .dd(.span(.class("tag state-\(a.state)"), .text(ctx.t("state.\(a.state)")))),
                .dt(.text(ctx.t("relocation.origin"))), .dd(.text("\(Self.settlementName(origin, ctx.lang)) (\(origin?.region_iso ?? ""))")),
                .dt(.text(ctx.t("relocation.destination"))), .dd(.text("\(Self.settlementName(destination, ctx.lang)) (\(destination?.region_iso ?? ""))")),
                .dt(.text(ctx.t("relocation.move"))), .dd(.text(ctx.t("move.\(r.move)"))),
                .dt(.text(ctx.t("relocation.body"))), .dd(.text(ctx.t("recommending.\(r.body)"))),
                .dt(.text(ctx.t("relocation.family"))), .dd(.text(([p.fullName] + household.filter { memberIDs.contains($0.id) }.map(\.full_name)).joined(separator: ", ") + " (\(r.family_size))")),
                .dt(.text(ctx.t("relocation.lived_since"))), .dd(.text(r.lived_since ?? "—")),
                .dt(.text(ctx.t("application.eligible"))), .dd(.text(ctx.t(a.eligible ? "yes" : "no"))),
                .dt(.text(ctx.t("application.decided_on"))), .dd(.text(a.decided_on ?? "—")),
                .dt(.text(ctx.t("relocation.subsidy"))), .dd(.text(payment.map { Money(tiyn: $0.amount).formatted() + " ₸ · " + ctx.t("relocation.payment_month", ["month": $0.month]) } ?? "—"))),
            CaseworkViews.explanation(ctx, (try? JSONDecoder().decode([ExplanationStep].self, from: Data(a.eligibility.utf8))) ?? []),
            steps.isEmpty ? .empty : .group(.h3(.text(ctx.t("relocation.subsidy"))), CaseworkViews.explanation(ctx, steps)),

            .h2(.id("recommendations"), .text(ctx.t("relocation.recommendations"))),
            recommendations.isEmpty ? .p(.class("empty"), .text(ctx.t("relocation.recommendations.none", ["body": ctx.t("recommending.\(r.body)")]))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("relocation.body"))), .th(.text(ctx.t("relocation.rec_date"))), .th(.text(ctx.t("relocation.protocol"))), .th(.text(ctx.t("conclusion.answer"))), .th(.text(ctx.t("application.note"))))),
                .tbody(.forEach(recommendations) { recRow($0) })),
            !mayRecommend ? .empty : .form(.method(.post), .action("/relocation/\(id)/recommendation"), .class("panel"), ctx.csrfField(),
                .h3(.text(ctx.t("relocation.record_recommendation", ["body": ctx.t("recommending.\(r.body)")]))),
                k.radios("recommended", ctx.t("conclusion.answer"), options: [("true", ctx.t("relocation.recommended")), ("false", ctx.t("relocation.not_recommended"))]),
                k.text("on_date", ctx.t("relocation.rec_date"), hint: "YYYY-MM-DD"),
                k.text("protocol", ctx.t("relocation.protocol")),
                k.text("note", ctx.t("application.note"), hint: ctx.t("relocation.note.hint")),
                .button(.type(.submit), .class("button"), .text(ctx.t("relocation.record")))),

            .h2(.id("housing"), .text(ctx.t("housing.title"))),
            .p(.text(current.map { c in ctx.t("housing.allocated", ["id": String(c.dwelling_id), "date": c.allocated_on, "republican": Money(tiyn: c.republican_cost).formatted(), "excess": Money(tiyn: c.excess).formatted()]) }
                     ?? ctx.t(included ? "housing.none" : "housing.after_inclusion"))),
            free.isEmpty ? .empty : .form(.method(.post), .action("/relocation/\(id)/allocate"), .class("panel"), ctx.csrfField(),
                .h3(.text(ctx.t("housing.allocate"))),
                .p(.class("hint"), .text(ctx.t("housing.allocate.hint", ["n": String(r.family_size)]))),
                k.select("dwelling_id", ctx.t("housing.dwelling"), options: free.map { (String($0.id), Self.dwellingLabel(ctx, $0)) }),
                .button(.type(.submit), .class("button"), .text(ctx.t("housing.allocate"))))
        ), status: status)
    }

    static func dwellingLabel(_ ctx: PageContext, _ d: RelocationStore.DwellingRow) -> String {
        "\(d.address) · \(ctx.t("dwelling.\(d.kind)")) · \(d.areaValue) m² · \(d.rooms) \(ctx.t("housing.rooms_short")) · \(Money(tiyn: d.cost_per_m2).formatted()) ₸/m²"
    }

    @Sendable func recommend(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        do {
            guard let v = f["recommended"], v == "true" || v == "false" else { throw FieldErrors(errors: [FieldError("recommended", "choose_from_list")]) }
            try await Self.store(req).recommend(application: id, recommended: v == "true", on: try Self.date(f, "on_date"), protocolNo: f["protocol"] ?? "", note: f["note"] ?? "", by: user)
            return req.redirect(to: "/relocation/\(id)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await page(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    @Sendable func allocateFamily(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        do {
            guard let r = try await Self.store(req).relocation(id, scope: user.scope) else { throw StoreError.notFound }
            guard let d = LabourMarketRoutes.int(f["dwelling_id"]) else { throw FieldErrors(errors: [FieldError("dwelling_id", "choose_from_list")]) }
            _ = try await Self.store(req).allocate(dwelling: d, person: r.person_id, env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/relocation/\(id)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await page(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    // MARK: settlement lists

    @Sendable func settlements(req: Request) async throws -> Response {
        try await settlementsPage(req, values: [:], errors: [], status: .ok)
    }

    func settlementsPage(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let rows = try await Self.store(req).settlements()
        let districts = try await DistrictRecord.query(on: req.jumys.store.db).sort(\.$regionISO).sort(\.$kato).all()
        let districtName = Dictionary(uniqueKeysWithValues: districts.map { ($0.id!, ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) })
        let today = CaseStore(store: req.jumys.store).today()
        let admin = user.role == .administrator
        func row(_ s: RelocationStore.SettlementRow) -> Node<HTML.TableContext> {
            .tr(.td(.text(Self.settlementName(s, ctx.lang))), .td(.text(s.region_iso + " · " + (districtName[s.district_id] ?? ""))),
                .td(.span(.class(s.potential == "high" ? "tag ok" : "tag"), .text(ctx.t("potential.\(s.potential)")))),
                .td(.text(s.listed_from + " — " + (s.listed_to ?? ""))), .td(.text(s.basis)),
                .td(!(admin && s.listed_to == nil && s.listed(on: today)) ? .empty : .form(.method(.post), .action("/settlements/\(s.id)/delist"), .class("inline"), ctx.csrfField(),
                    .input(.type(.text), .name("listed_to"), .class("short"), .attribute(named: "placeholder", value: "YYYY-MM-DD"), .attribute(named: "aria-label", value: ctx.t("settlements.listed_to"))),
                    .button(.type(.submit), .class("button secondary"), .text(ctx.t("settlements.delist")))))
            )
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("settlements.title"),
            .h1(.text(ctx.t("settlements.title"))),
            .p(.class("lead"), .text(ctx.t("settlements.lead"))),
            Layout.errorSummary(ctx, errors),
            rows.isEmpty ? .p(.class("empty"), .text(ctx.t("settlements.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("settlements.name"))), .th(.text(ctx.t("person.district"))), .th(.text(ctx.t("settlements.potential"))),
                           .th(.text(ctx.t("settlements.listed"))), .th(.text(ctx.t("settlements.basis"))), .th(.span(.class("visually-hidden"), .text(ctx.t("table.action")))))),
                .tbody(.forEach(rows) { row($0) })),
            !admin ? .empty : .form(.method(.post), .action("/settlements"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("settlements.add"))),
                k.select("district_id", ctx.t("person.district"), options: districts.map { (String($0.id!), "\($0.regionISO) · " + (districtName[$0.id!] ?? "")) }),
                k.text("name_kk", ctx.t("settlements.name_kk")), k.text("name_ru", ctx.t("settlements.name_ru")),
                k.select("potential", ctx.t("settlements.potential"), options: CaseworkViews.options(ctx, "potential", SettlementPotential.self)),
                k.text("listed_from", ctx.t("settlements.listed_from"), hint: "YYYY-MM-DD"),
                k.text("basis", ctx.t("settlements.basis"), hint: ctx.t("settlements.basis.hint")),
                .button(.type(.submit), .class("button"), .text(ctx.t("settlements.add"))))
        ), status: status)
    }

    @Sendable func addSettlement(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        do {
            guard let potential = f["potential"].flatMap(SettlementPotential.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("potential", "choose_from_list")]) }
            _ = try await Self.store(req).addSettlement(districtID: LabourMarketRoutes.int(f["district_id"]) ?? 0, nameKk: f["name_kk"] ?? "", nameRu: f["name_ru"] ?? "",
                                                        potential: potential, listedFrom: try Self.date(f, "listed_from"), basis: f["basis"] ?? "", by: user)
            return req.redirect(to: "/settlements", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await settlementsPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        }
    }

    @Sendable func delist(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        do {
            try await Self.store(req).delist(settlement: try CaseworkRoutes.id(req), on: try Self.date(f, "listed_to"), by: user)
            return req.redirect(to: "/settlements", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await settlementsPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    // MARK: service housing

    @Sendable func housing(req: Request) async throws -> Response {
        try await housingPage(req, values: [:], errors: [], status: .ok)
    }

    func housingPage(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        // The housing stock is the local bodies' and the centres' business, not an outside organisation's.
        guard user.scope != .organisation(Int64(user.organisationID ?? -1)) else { throw Abort(.forbidden) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let store = Self.store(req)
        let region: String? = { if case .region(let r) = user.scope { return r.iso }; return user.regionISO }()
        let dwellings = try await store.dwellings(region: user.scope == .national ? nil : region)
        let taken = try await store.openAllocations(dwellings: dwellings.map(\.id))
        let cofinancing = try await store.cofinancings(region: user.scope == .national ? nil : region)
        let db = req.jumys.store.db
        let districts = try await DistrictRecord.query(on: db).sort(\.$regionISO).sort(\.$kato).all().filter { user.scope == .national || $0.regionISO == region }
        let employers = try await OrganisationRecord.query(on: db).filter(\.$kind == OrganisationKind.contractor.rawValue).sort(\.$code).all()
        let manage = user.canWrite && (user.role == .administrator || ([.regionalCoordinator, .akimatOfficer].contains(user.role) && region != nil))
        let canAllocate = user.canWrite && user.doesCasework
        func row(_ d: RelocationStore.DwellingRow) -> Node<HTML.TableContext> {
            let a = taken[d.id]
            return .tr(.td(.text(String(d.id))), .td(.text(d.region_iso)), .td(.text(d.address)), .td(.text(ctx.t("dwelling.\(d.kind)"))), .td(.class("num"), .text(d.areaValue.description)),
                       .td(.class("num"), .text(String(d.rooms))), .td(.class("num"), .text(Money(tiyn: d.cost_per_m2).formatted())),
                       .td(.text(ctx.t("funded.\(d.funded_by)") + (d.excess_paid_by.map { " · " + ctx.t("housing.excess_by.\($0)") } ?? ""))),
                       .td(a.map { al in .group(.text(ctx.t("housing.occupied", ["date": al.allocated_on])),
                                                 !canAllocate ? .empty : .form(.method(.post), .action("/allocations/\(al.id)/release"), .class("inline"), ctx.csrfField(),
                                                                               .button(.type(.submit), .class("button secondary"), .text(ctx.t("housing.release"))))) }
                           ?? (canAllocate && d.kind == DwellingKind.youthHostelRoom.rawValue
                               ? .form(.method(.post), .action("/housing/\(d.id)/allocate"), .class("inline"), ctx.csrfField(),
                                       .input(.type(.text), .name("person_id"), .class("short"), .attribute(named: "placeholder", value: ctx.t("housing.person_id")), .attribute(named: "aria-label", value: ctx.t("housing.person_id"))),
                                       .label(.class("inline-label"), .input(.type(.checkbox), .name("in_housing_savings"), .value("true")), .text(" " + ctx.t("housing.savings"))),
                                       .button(.type(.submit), .class("button secondary"), .text(ctx.t("housing.allocate"))))
                               : .text(ctx.t("housing.free")))))
        }
        func coRow(_ c: RelocationStore.CofinancingRow) -> Node<HTML.TableContext> {
            .tr(.td(.text(String(c.id))), .td(.text(c.name)), .td(.text(LabourMarketRoutes.orgName(employers.first { $0.id == c.employer_id }, ctx.lang))),
                .td(.class("num"), .text(Money(tiyn: c.total_cost).formatted())), .td(.class("num"), .text(Money(tiyn: c.employer_cost).formatted())),
                .td(.text(ctx.t("housing.split", ["employer": String(c.employer_dwellings), "state": String(c.state_dwellings)]))),
                .td(.span(.class(c.eligible ? "tag ok" : "tag late"), .text(ctx.t(c.eligible ? "housing.cofinancing.ok" : "housing.cofinancing.not_ok")))))
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("housing.title"),
            .h1(.text(ctx.t("housing.title"))),
            .p(.class("lead"), .text(ctx.t("housing.lead"))),
            Layout.errorSummary(ctx, errors),
            dwellings.isEmpty ? .p(.class("empty"), .text(ctx.t("housing.stock.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text("№")), .th(.text(ctx.t("person.region"))), .th(.text(ctx.t("housing.address"))), .th(.text(ctx.t("housing.kind"))), .th(.text(ctx.t("housing.area"))),
                           .th(.text(ctx.t("housing.rooms"))), .th(.text(ctx.t("housing.cost_per_m2"))), .th(.text(ctx.t("housing.funded_by"))), .th(.text(ctx.t("housing.occupant"))))),
                .tbody(.forEach(dwellings) { row($0) })),
            !manage ? .empty : .form(.method(.post), .action("/housing/dwellings"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("housing.add"))),
                k.select("district_id", ctx.t("person.district"), options: districts.map { (String($0.id!), "\($0.regionISO) · " + ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) }),
                k.text("address", ctx.t("housing.address")),
                k.select("kind", ctx.t("housing.kind"), options: CaseworkViews.options(ctx, "dwelling", DwellingKind.self), blank: false),
                k.text("area", ctx.t("housing.area"), hint: ctx.t("housing.area.hint")), k.text("rooms", ctx.t("housing.rooms")),
                k.text("cost_per_m2", ctx.t("housing.cost_per_m2")),
                k.select("employer_id", ctx.t("housing.employer"), options: employers.map { (String($0.id!), LabourMarketRoutes.orgName($0, ctx.lang)) }),
                k.select("cofinancing_id", ctx.t("housing.cofinancing"), options: cofinancing.filter(\.eligible).map { (String($0.id), $0.name) }),
                k.select("excess_paid_by", ctx.t("housing.excess_paid_by"), options: [("local_budget", ctx.t("housing.excess_by.local_budget")), ("employer", ctx.t("housing.excess_by.employer"))]),
                .button(.type(.submit), .class("button"), .text(ctx.t("housing.add")))),
            .h2(.text(ctx.t("housing.cofinancing"))),
            cofinancing.isEmpty ? .p(.class("empty"), .text(ctx.t("housing.cofinancing.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text("№")), .th(.text(ctx.t("housing.cofinancing.name"))), .th(.text(ctx.t("housing.employer"))), .th(.text(ctx.t("housing.cofinancing.total"))),
                           .th(.text(ctx.t("housing.cofinancing.employer_cost"))), .th(.text(ctx.t("housing.cofinancing.split"))), .th(.span(.class("visually-hidden"), .text(ctx.t("table.action")))))),
                .tbody(.forEach(cofinancing) { coRow($0) })),
            !manage ? .empty : .form(.method(.post), .action("/housing/cofinancing"), .class("panel"), ctx.csrfField(),
                .h3(.text(ctx.t("housing.cofinancing.add"))),
                user.scope == .national ? k.select("region_iso", ctx.t("person.region"), options: RegionCode.known.sorted().map { ($0, $0) }) : .input(.type(.hidden), .name("region_iso"), .value(region ?? "")),
                k.text("name", ctx.t("housing.cofinancing.name")),
                k.select("co_employer_id", ctx.t("housing.employer"), options: employers.map { (String($0.id!), LabourMarketRoutes.orgName($0, ctx.lang)) }),
                k.text("total_cost", ctx.t("housing.cofinancing.total")), k.text("employer_cost", ctx.t("housing.cofinancing.employer_cost")),
                k.text("dwellings", ctx.t("housing.cofinancing.dwellings")),
                k.text("decided_on", ctx.t("housing.cofinancing.date"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("housing.cofinancing.add"))))
        ), status: status)
    }

    @Sendable func addDwelling(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        do {
            var errors: [FieldError] = []
            let area = (f["area"] ?? "").replacingOccurrences(of: ",", with: ".").trimmingCharacters(in: .whitespaces)
            let areaValue = FixedDecimal(area)
            if areaValue == nil { errors.append(FieldError("area", "area_invalid")) }
            let cost = BusinessRoutes.money(f["cost_per_m2"])
            if cost == nil { errors.append(FieldError("cost_per_m2", "amount_invalid")) }
            let rooms = LabourMarketRoutes.int(f["rooms"])
            if rooms == nil { errors.append(FieldError("rooms", "rooms_invalid")) }
            let kind = f["kind"].flatMap(DwellingKind.init(rawValue:))
            if kind == nil { errors.append(FieldError("kind", "choose_from_list")) }
            let employer = CaseworkRoutes.optionalInt(f, "employer_id", &errors, code: "choose_from_list")
            let cofinancing = CaseworkRoutes.optionalInt(f, "cofinancing_id", &errors, code: "choose_from_list")
            guard errors.isEmpty, let areaValue, let cost, let rooms, let kind else { throw FieldErrors(errors: errors) }
            let excess = (f["excess_paid_by"] ?? "").isEmpty ? nil : f["excess_paid_by"]
            _ = try await Self.store(req).addDwelling(DwellingInput(districtID: LabourMarketRoutes.int(f["district_id"]) ?? 0, address: f["address"] ?? "",
                                                                    kind: kind, area: areaValue, rooms: rooms, costPerM2: cost,
                                                                    employerID: employer, cofinancingID: cofinancing, excessPaidBy: excess), by: user)
            return req.redirect(to: "/housing", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await housingPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        }
    }

    @Sendable func addCofinancing(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        do {
            guard let total = BusinessRoutes.money(f["total_cost"]) else { throw FieldErrors(errors: [FieldError("total_cost", "amount_invalid")]) }
            guard let part = BusinessRoutes.money(f["employer_cost"]) else { throw FieldErrors(errors: [FieldError("employer_cost", "amount_invalid")]) }
            let today = CaseStore(store: req.jumys.store).today()
            _ = try await Self.store(req).addCofinancing(region: f["region_iso"] ?? "", employerID: LabourMarketRoutes.int(f["co_employer_id"]) ?? 0, name: f["name"] ?? "",
                                                         totalCost: total, employerCost: part, dwellings: LabourMarketRoutes.int(f["dwellings"]) ?? 0,
                                                         on: try Self.date(f, "decided_on", default: today), env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/housing", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await housingPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        }
    }

    @Sendable func allocateRoom(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        do {
            guard let person = LabourMarketRoutes.int(f["person_id"]) else { throw FieldErrors(errors: [FieldError("person_id", "choose_from_list")]) }
            _ = try await Self.store(req).allocate(dwelling: try CaseworkRoutes.id(req), person: person, inHousingSavings: f["in_housing_savings"] == "true",
                                                   env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/housing", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await housingPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound {
            return try await housingPage(req, values: f, errors: PageContext(req).messages(FieldErrors(errors: [FieldError("person_id", "choose_from_list")])), status: .unprocessableEntity)
        }
    }

    @Sendable func release(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        do {
            try await Self.store(req).release(allocation: try CaseworkRoutes.id(req), on: try Self.date(f, "released_on", default: CaseStore(store: req.jumys.store).today()), by: user)
            return req.redirect(to: "/housing", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await housingPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    // MARK: the payment list

    @Sendable func payments(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.scope != .organisation(Int64(user.organisationID ?? -1)) else { throw Abort(.forbidden) }
        let ctx = PageContext(req)
        let today = CaseStore(store: req.jumys.store).today()
        let asked = (try? req.query.get(String.self, at: "month")) ?? ""
        let month = Payroll.Month(asked) ?? Payroll.Month(String(format: "%04d-%02d", today.year, today.month))!
        let rows = try await Self.store(req).payments(month: month.description, scope: user.scope)
        let people = try await CaseStore(store: req.jumys.store).persons(rows.map(\.person_id), scope: user.scope)
        let names = Dictionary(uniqueKeysWithValues: people.map { ($0.id, $0.fullName) })
        let total = rows.reduce(Money.zero) { $0 + Money(tiyn: $1.amount) }
        func row(_ p: RelocationStore.PaymentRow) -> Node<HTML.TableContext> {
            .tr(.td(.a(.href("/people/\(p.person_id)"), .text(names[p.person_id] ?? "—"))), .td(.text(ctx.t("payment.\(p.kind)"))), .td(.a(.href("/relocation/\(p.application_id)"), .text(String(p.application_id)))),
                .td(.text(p.decided_on)), .td(.class("num"), .text(Money(tiyn: p.amount).formatted())))
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("paylist.title"),
            .h1(.text(ctx.t("paylist.title") + " · " + month.description)),
            .p(.class("lead"), .text(ctx.t("paylist.lead"))),
            .form(.method(.get), .action("/payments"), .class("inline-form"), .input(.type(.text), .name("month"), .value(month.description), .attribute(named: "aria-label", value: ctx.t("payroll.month"))),
                  .button(.type(.submit), .class("button secondary"), .text(ctx.t("payroll.show")))),
            rows.isEmpty ? .p(.class("empty"), .text(ctx.t("paylist.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("contract.participant"))), .th(.text(ctx.t("paylist.kind"))), .th(.text(ctx.t("paylist.application"))), .th(.text(ctx.t("application.decided_on"))), .th(.text(ctx.t("paylist.amount"))))),
                .tbody(.forEach(rows) { row($0) }),
                .tfoot(.tr(.th(.attribute(named: "colspan", value: "4"), .text(ctx.t("paylist.total"))), .td(.class("num"), .text(total.formatted())))))
        ))
    }
}
