import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// Forecast needs (G6), courses and training referrals (B4), the employer's hires file, placement amendments,
/// payroll corrections and taking an online application into an existing file.
struct LabourMarketRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("needs", use: needs)
        routes.post("needs", "local", use: submitLocal)
        routes.post("needs", "central", use: submitCentral)
        routes.get("courses", "new", use: newCourse)
        routes.post("courses", use: createCourse)
        routes.post("people", ":id", "training", use: referToTraining)
        routes.get("training", ":id", use: training)
        routes.post("training", ":id", "outcome", use: trainingOutcome)
        routes.get("referrals", "import", use: importForm)
        routes.post("referrals", "import", use: importHires)
        routes.post("placements", ":id", "amend", use: amendPlacement)
        routes.post("payroll", "correct", use: correctPayroll)
        routes.post("online", ":id", "attach", use: attachOnline)
    }

    static func orgName(_ o: OrganisationRecord?, _ lang: Lang) -> String { o.map { ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, lang) } ?? "—" }
    static func int(_ s: String?) -> Int? { s.flatMap { Int($0.replacingOccurrences(of: " ", with: "").trimmingCharacters(in: .whitespaces)) } }
    static func date(_ s: String?) -> CivilDate? { s.flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) } }

    // MARK: forecast needs (G6)

    /// Rows of a pasted table: cells separated by `;`, tabs or commas, blank lines skipped.
    static func rows(_ text: String?) -> [[String]] {
        (text ?? "").split(whereSeparator: \.isNewline).map { line in
            line.split(whereSeparator: { $0 == ";" || $0 == "\t" || $0 == "," }).map { $0.trimmingCharacters(in: .whitespaces) }
        }.filter { !$0.isEmpty && !($0.count == 1 && $0[0].isEmpty) }
    }

    @Sendable func needs(req: Request) async throws -> Response {
        try await needsPage(req, values: [:], errors: [])
    }

    func needsPage(_ req: Request, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus = .ok) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let today = CaseStore(store: req.jumys.store).today()
        let asked = try? req.query.get(Int.self, at: "year")
        let year = asked.flatMap { (2011...today.year + 1).contains($0) ? $0 : nil } ?? today.year
        let store = NeedsStore(store: req.jumys.store)
        let env = try await req.jumys.rules.current()
        let central = (try? await store.centralStatus(year: year, env: env)) ?? []
        let region: String? = { if case .region(let r) = user.scope { return r.iso }; return nil }()
        let specialties = try await store.bySpecialty(year: year, region: region, limit: 50)
        let locals = try await store.reports(year: year, level: "local").filter { region == nil || $0.region_iso == region }
        let orgs = Dictionary(uniqueKeysWithValues: try await OrganisationRecord.query(on: req.jumys.store.db).filter(\.$kind ~~ [OrganisationKind.ministry.rawValue, OrganisationKind.akimat.rawValue]).all().map { ($0.id!, $0) })
        let occupations = try await LabourRoutes.occupations(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values.merging(["year": String(year)]) { a, _ in a })
        let canLocal = user.canWrite && [.akimatOfficer, .regionalCoordinator].contains(user.role) && user.regionISO != nil
        let canCentral = user.canWrite && user.role == .administrator
        func centralState(_ c: NeedsStore.CentralStatus) -> String {
            if let r = c.report { return r.daysLate > 0 ? ctx.t("needs.late", ["n": String(r.daysLate), "date": r.received_on]) : ctx.t("needs.on_time", ["date": r.received_on]) }
            return c.overdue(today: today) ? ctx.t("needs.overdue") : ctx.t("needs.waiting")
        }
        func centralRow(_ c: NeedsStore.CentralStatus) -> Node<HTML.TableContext> {
            let late = c.report.map { $0.daysLate > 0 } ?? c.overdue(today: today)
            let tag = late ? "tag late" : (c.report == nil ? "tag" : "tag ok")
            return .tr(.td(.text(Self.orgName(c.organisation, ctx.lang))), .td(.span(.class(tag), .text(centralState(c)))))
        }
        func specialtyRow(_ s: NeedsStore.SpecialtyNeed) -> Node<HTML.TableContext> {
            .tr(.td(.text("\(s.occupation_isco) \(occupations[s.occupation_isco] ?? "")")), .td(.class("num"), .text(String(s.current))), .td(.class("num"), .text(String(s.forecast))), .td(.class("num"), .text(String(s.central))))
        }
        func localRow(_ r: NeedsStore.ReportRow) -> Node<HTML.TableContext> {
            .tr(.td(.text(Self.orgName(orgs[r.organisation_id], ctx.lang))), .td(.text(r.region_iso ?? "—")), .td(.text(r.received_on)))
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("needs.title"),
            .h1(.text(ctx.t("needs.title") + " · " + String(year))),
            .p(.class("lead"), .text(ctx.t("needs.lead"))),
            Layout.errorSummary(ctx, errors),
            .form(.method(.get), .action("/needs"), .class("inline-form"), .label(.for("needs-year"), .text(ctx.t("funds.year"))), .input(.type(.text), .id("needs-year"), .name("year"), .value(String(year)), .class("narrow")), .button(.type(.submit), .class("button secondary"), .text(ctx.t("payroll.show")))),
            .h2(.text(ctx.t("needs.central"))),
            .p(.class("hint"), .text(ctx.t("needs.central.due", ["date": central.first?.due.iso ?? "—"]))),
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("needs.body"))), .th(.text(ctx.t("needs.status"))))),
                .tbody(.forEach(central) { c in centralRow(c) })),
            .h2(.text(ctx.t("needs.by_specialty"))),
            specialties.isEmpty ? .p(.class("empty"), .text(ctx.t("needs.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("vacancies.isco"))), .th(.text(ctx.t("needs.current"))), .th(.text(ctx.t("needs.forecast", ["year": String(year + 1)]))), .th(.text(ctx.t("needs.central_year", ["year": String(year)]))))),
                .tbody(.forEach(specialties) { specialtyRow($0) })),
            locals.isEmpty ? .empty : .group(
                .h2(.text(ctx.t("needs.local"))),
                .table(.class("data"), .thead(.tr(.th(.text(ctx.t("needs.body"))), .th(.text(ctx.t("person.region"))), .th(.text(ctx.t("needs.received"))))),
                       .tbody(.forEach(Array(locals.reversed())) { localRow($0) }))),
            !canLocal ? .empty : .form(.method(.post), .action("/needs/local"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("needs.local.submit"))),
                .input(.type(.hidden), .name("year"), .value(String(year))),
                k.textarea("lines", ctx.t("needs.lines"), hint: ctx.t("needs.local.hint")),
                .button(.type(.submit), .class("button"), .text(ctx.t("needs.send")))),
            !canCentral ? .empty : .form(.method(.post), .action("/needs/central"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("needs.central.submit"))),
                k.select("organisation_id", ctx.t("needs.body"), options: central.map { (String($0.organisation.id!), Self.orgName($0.organisation, ctx.lang)) }),
                k.text("year", ctx.t("needs.year")),
                k.text("received_on", ctx.t("needs.received"), hint: ctx.t("needs.received.hint")),
                k.textarea("forecast", ctx.t("needs.forecast_lines"), hint: ctx.t("needs.central.hint")),
                k.textarea("created", ctx.t("needs.created_lines"), hint: ctx.t("needs.created.hint"), rows: 4),
                .button(.type(.submit), .class("button"), .text(ctx.t("needs.send"))))
        ), status: status)
    }

    @Sendable func submitLocal(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let f = try CaseworkRoutes.form(req)
        var bad: [FieldError] = []
        let lines: [NeedsStore.LocalLine] = Self.rows(f["lines"]).enumerated().compactMap { n, c in
            guard c.count == 3, let cur = Self.int(c[1]), let fc = Self.int(c[2]) else { bad.append(FieldError("lines", "line_shape", ["line": String(n + 1), "n": "3"])); return nil }
            return .init(isco: c[0], current: cur, forecast: fc)
        }
        do {
            if !bad.isEmpty { throw FieldErrors(errors: bad) }
            _ = try await NeedsStore(store: req.jumys.store).submitLocal(year: Self.int(f["year"]) ?? 0, lines: lines, by: user)
            return req.redirect(to: "/needs?year=\(Self.int(f["year"]) ?? 0)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await needsPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        }
    }

    @Sendable func submitCentral(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let f = try CaseworkRoutes.form(req)
        var bad: [FieldError] = []
        let forecast: [NeedsStore.CentralLine] = Self.rows(f["forecast"]).enumerated().compactMap { n, c in
            let counts = c.dropFirst(2).compactMap { Self.int($0) }
            guard c.count >= 3, counts.count == c.count - 2 else { bad.append(FieldError("forecast", "line_shape", ["line": String(n + 1), "n": "5"])); return nil }
            return .init(isco: c[0], region: c[1].uppercased(), counts: counts)
        }
        let created: [(region: String, count: Int)] = Self.rows(f["created"]).enumerated().compactMap { n, c in
            guard c.count == 2, let v = Self.int(c[1]) else { bad.append(FieldError("created", "line_shape", ["line": String(n + 1), "n": "2"])); return nil }
            return (c[0].uppercased(), v)
        }
        let receivedText = f["received_on"]?.trimmingCharacters(in: .whitespaces) ?? ""
        if !receivedText.isEmpty && Self.date(receivedText) == nil { bad.append(FieldError("received_on", "date_invalid")) }
        do {
            if !bad.isEmpty { throw FieldErrors(errors: bad) }
            let year = Self.int(f["year"]) ?? 0
            _ = try await NeedsStore(store: req.jumys.store).submitCentral(organisation: Self.int(f["organisation_id"]) ?? 0, year: year, receivedOn: Self.date(receivedText),
                                                                          forecast: forecast, created: created, env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/needs?year=\(year)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await needsPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        }
    }

    // MARK: courses

    @Sendable func newCourse(req: Request) async throws -> Response {
        try await courseForm(req, values: ["months": "3"], errors: [], status: .ok)
    }

    func courseForm(_ req: Request, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        guard user.canWrite, user.role == .administrator || user.role == .contractor else { throw Abort(.forbidden) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let providers = try await OrganisationRecord.query(on: req.jumys.store.db).filter(\.$kind == OrganisationKind.educationProvider.rawValue).sort(\.$code).all()
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("courses.new"),
            .div(.class("narrow"), Layout.errorSummary(ctx, errors), .h1(.text(ctx.t("courses.new"))),
                .form(.method(.post), .action("/courses"), ctx.csrfField(),
                    user.role == .contractor ? .empty : k.select("provider_id", ctx.t("courses.provider"), options: providers.map { (String($0.id!), Self.orgName($0, ctx.lang)) }),
                    k.text("title_kk", ctx.t("courses.title_kk")), k.text("title_ru", ctx.t("courses.title_ru")), k.text("title_en", ctx.t("courses.title_en")),
                    k.text("isco", ctx.t("vacancies.isco"), hint: ctx.t("register.isco.hint")),
                    k.text("months", ctx.t("courses.months")),
                    k.text("cost", ctx.t("courses.cost"), hint: ctx.t("vacancies.wage.hint")),
                    .button(.type(.submit), .class("button"), .text(ctx.t("vacancies.save")))))
        ), status: status)
    }

    @Sendable func createCourse(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let f = try CaseworkRoutes.form(req)
        do {
            _ = try await TrainingStore(store: req.jumys.store).createCourse(CourseInput(providerID: Self.int(f["provider_id"]), titleKk: f["title_kk"] ?? "", titleRu: f["title_ru"] ?? "", titleEn: f["title_en"] ?? "",
                                                                                     isco: (f["isco"] ?? "").trimmingCharacters(in: .whitespaces), months: Self.int(f["months"]),
                                                                                     cost: f["cost"].flatMap { Money(string: $0.replacingOccurrences(of: " ", with: "")) }), by: user)
            return req.redirect(to: "/portal/courses", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await courseForm(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        }
    }

    // MARK: training referrals (B4)

    @Sendable func referToTraining(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        do {
            let t = try await TrainingStore(store: req.jumys.store).refer(person: id, course: Self.int(f["course_id"]) ?? 0, by: user)
            return req.redirect(to: "/training/\(t)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await CaseworkViews.personCard(req, id: id, errors: PageContext(req).messages(e), values: f, status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    @Sendable func training(req: Request) async throws -> Response {
        try await trainingPage(req, values: [:], errors: [])
    }

    func trainingPage(_ req: Request, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus = .ok) async throws -> Response {
        let user = try req.requireUser()
        let store = TrainingStore(store: req.jumys.store)
        guard let id = req.parameters.get("id", as: Int.self), let t = try await store.referral(id, scope: user.scope),
              let p = try await CaseStore(store: req.jumys.store).person(t.person_id, scope: user.scope), let course = try await store.course(t.course_id) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let provider = try await OrganisationRecord.find(course.provider_id, on: req.jumys.store.db)
        let placed = try await store.placementAfter(t)
        let open = t.state == "issued" && user.canWrite && user.doesCasework
        let suggestions = t.state == "completed" && placed == nil ? try await LabourStore(store: req.jumys.store).vacancies(forPerson: p.id, scope: user.scope, limit: 10) : []
        let title = ctx.lang == .kk ? course.title_kk : (ctx.lang == .ru ? course.title_ru : course.title_en)
        return HTMLResponse.make(Layout.page(ctx, title: t.number,
            .p(.a(.href("/people/\(p.id)"), .text("← " + p.fullName))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("training.title") + " " + t.number)),
            .dl(.class("summary"),
                .dt(.text(ctx.t("contract.participant"))), .dd(.a(.href("/people/\(p.id)"), .text(p.fullName))),
                .dt(.text(ctx.t("training.course"))), .dd(.text("\(title) (\(course.occupation_isco)), \(course.months) " + ctx.t("courses.months_short"))),
                .dt(.text(ctx.t("courses.provider"))), .dd(.text(Self.orgName(provider, ctx.lang))),
                .dt(.text(ctx.t("referral.date"))), .dd(.text(t.referred_on)),
                .dt(.text(ctx.t("training.demand"))), .dd(.text(Self.demandText(ctx, t.demand))),
                .dt(.text(ctx.t("application.state"))), .dd(.text(ctx.t("training.state.\(t.state)") + (t.outcome_on.map { " · " + $0 } ?? "") + (t.note.map { ": " + $0 } ?? ""))),
                .dt(.text(ctx.t("training.placed"))), .dd(.text(placed.map { ctx.t("training.placed.yes", ["position": $0.position, "date": $0.startsOn]) } ?? "—"))),
            !open ? .empty : .group(
                .form(.method(.post), .action("/training/\(id)/outcome"), .class("panel"), ctx.csrfField(),
                    .h2(.text(ctx.t("training.complete"))),
                    .input(.type(.hidden), .name("outcome"), .value("completed")),
                    k.text("outcome_on", ctx.t("training.outcome_on"), hint: ctx.t("parameters.effective_from.hint")),
                    .button(.type(.submit), .class("button"), .text(ctx.t("training.complete")))),
                .form(.method(.post), .action("/training/\(id)/outcome"), .class("panel"), ctx.csrfField(),
                    .h2(.text(ctx.t("training.drop"))),
                    .input(.type(.hidden), .name("outcome"), .value("dropped")),
                    k.text("note", ctx.t("training.note")),
                    .button(.type(.submit), .class("button warning"), .text(ctx.t("training.drop"))))),
            suggestions.isEmpty ? .empty : .group(
                .h2(.text(ctx.t("training.vacancies"))),
                Self.vacancyTable(ctx, suggestions, person: p.id, canRefer: user.canWrite && user.doesCasework))
        ), status: status)
    }

    static func demandText(_ ctx: PageContext, _ raw: String) -> String {
        var v = "0", d = "0"
        for part in raw.split(separator: ";") {
            let kv = part.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2 { if kv[0] == "vacancies" { v = kv[1] } else if kv[0] == "declared" { d = kv[1] } }
        }
        return ctx.t("training.demand.text", ["vacancies": v, "declared": d])
    }

    static func vacancyTable(_ ctx: PageContext, _ rows: [(vacancy: LabourStore.VacancyRow, reason: MatchReason)], person: Int, canRefer: Bool) -> Node<HTML.BodyContext> {
        .table(.class("data"),
            .thead(.tr(.th(.text(ctx.t("vacancies.position"))), .th(.text(ctx.t("vacancies.isco"))), .th(.text(ctx.t("vacancies.wage"))), .th(.text(ctx.t("match.why"))), .th(.span(.class("visually-hidden"), .text(ctx.t("table.action")))))),
            .tbody(.forEach(rows) { r in
                .tr(.td(.a(.href("/vacancies/\(r.vacancy.id)"), .text(r.vacancy.title))), .td(.text(r.vacancy.occupation_isco)), .td(.class("num"), .text(Money(tiyn: r.vacancy.wage).formatted())),
                    .td(.text(ctx.t("match.level.\(r.reason.occupationLevel)") + "; " + ctx.t("match.place.\(r.reason.place.rawValue)"))),
                    .td(canRefer ? .form(.method(.post), .action("/vacancies/\(r.vacancy.id)/refer"), .class("inline"), ctx.csrfField(),
                                         .input(.type(.hidden), .name("person_id"), .value(String(person))),
                                         .button(.type(.submit), .class("button secondary"), .text(ctx.t("referral.refer")))) : .empty))
            }))
    }

    @Sendable func trainingOutcome(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        do {
            let onText = f["outcome_on"]?.trimmingCharacters(in: .whitespaces) ?? ""
            if !onText.isEmpty && Self.date(onText) == nil { throw FieldErrors(errors: [FieldError("outcome_on", "date_invalid")]) }
            guard let o = f["outcome"], o == "completed" || o == "dropped" else { throw FieldErrors(errors: [FieldError("outcome", "choose_from_list")]) }
            try await TrainingStore(store: req.jumys.store).recordOutcome(id, completed: o == "completed", on: Self.date(onText), note: f["note"], by: user)
            return req.redirect(to: "/training/\(id)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await trainingPage(req, values: f, errors: PageContext(req).messages(e), status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    // MARK: the employer's hires file

    @Sendable func importForm(req: Request) async throws -> Response {
        try await importPage(req, errors: [], done: nil, status: .ok)
    }

    func importPage(_ req: Request, errors: [(field: String, message: String)], done: Int?, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        guard user.canWrite, user.doesCasework || user.role == .contractor else { throw Abort(.forbidden) }
        let ctx = PageContext(req)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("hires.title"),
            .div(.class("narrow"),
                .h1(.text(ctx.t("hires.title"))),
                .p(.class("lead"), .text(ctx.t("hires.lead"))),
                done.map { .div(.class("panel confirmation"), .p(.text(ctx.t("hires.done", ["n": String($0)])))) } ?? .empty,
                Layout.errorSummary(ctx, errors),
                .pre(.class("sample"), .text("referral_number;position;starts_on;ends_on;wage;subsidised\nR-KZ-71-2021-000123;Каменщик;2021-05-10;;150000;social_job")),
                .form(.method(.post), .action("/referrals/import"), .attribute(named: "enctype", value: "multipart/form-data"), ctx.csrfField(),
                    .div(.class("field"), .label(.for("file"), .text(ctx.t("hires.file"))), .input(.type(.file), .id("file"), .name("file"), .attribute(named: "accept", value: ".csv,text/csv"))),
                    .button(.type(.submit), .class("button"), .text(ctx.t("hires.send")))))
        ), status: status)
    }

    struct Upload: Content { var file: File? }

    @Sendable func importHires(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let upload = try? req.content.decode(Upload.self)
        guard let data = upload?.file?.data, data.readableBytes > 0 else {
            return try await importPage(req, errors: [("file", ctx.t("error.field.file_empty"))], done: nil, status: .unprocessableEntity)
        }
        do {
            let text = try TableFile.text(of: Data(buffer: data))
            let n = try await LabourStore(store: req.jumys.store).importHires(try LabourStore.parseHires(text), env: try await req.jumys.rules.current(), by: user)
            return try await importPage(req, errors: [], done: n, status: .ok)
        } catch let e as FieldErrors {
            return try await importPage(req, errors: ctx.messages(e), done: nil, status: .unprocessableEntity)
        }
    }

    // MARK: placements and payroll corrections

    @Sendable func amendPlacement(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        // The person's card to return to is the placement's own (not a number the form sent).
        guard let person = try await LabourStore(store: req.jumys.store).placementPerson(id, scope: user.scope) else { throw Abort(.notFound) }
        do {
            let endsText = f["ends_on"]?.trimmingCharacters(in: .whitespaces) ?? ""
            var errors: [FieldError] = []
            if !endsText.isEmpty && Self.date(endsText) == nil { errors.append(FieldError("ends_on", "date_invalid")) }
            let wage = f["wage"].flatMap { Money(string: $0.replacingOccurrences(of: " ", with: "")) }
            if wage == nil { errors.append(FieldError("wage", "amount_invalid")) }
            guard errors.isEmpty, let wage else { throw FieldErrors(errors: errors) }
            try await LabourStore(store: req.jumys.store).amendPlacement(id, wage: wage, endsOn: Self.date(endsText), by: user)
            return req.redirect(to: "/people/\(person)#placements", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await CaseworkViews.personCard(req, id: person, errors: PageContext(req).messages(e), values: f, status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    @Sendable func correctPayroll(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.role == .administrator, user.canWrite else { throw Abort(.forbidden) }
        let f = try CaseworkRoutes.form(req)
        guard let m = f["month"].flatMap(Payroll.Month.init) else { throw Abort(.unprocessableEntity) }
        let placementText = f["placement_id"]?.trimmingCharacters(in: .whitespaces) ?? ""
        guard placementText.isEmpty || Self.int(placementText) != nil else { throw Abort(.unprocessableEntity, reason: PageContext(req).t("error.field.choose_from_list")) }
        do {
            _ = try await Payroll(store: req.jumys.store).correct(month: m, placement: Self.int(placementText), reason: f["reason"] ?? "", env: try await req.jumys.rules.current(), by: user.actor)
        } catch let e as FieldErrors {
            throw Abort(.unprocessableEntity, reason: PageContext(req).messages(e).map(\.message).joined(separator: "; "))
        }
        return req.redirect(to: "/payroll?month=\(m)", redirectType: .normal)
    }

    // MARK: online applications of people already registered

    /// Takes an online application into the file of the person already registered with that IIN in the
    /// caseworker's district: the application for the measure asked for, dated the day it was sent.
    @Sendable func attachOnline(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        guard user.doesCasework else { throw Abort(.forbidden) }
        let id = try CaseworkRoutes.id(req)
        let portal = PortalStore(store: req.jumys.store)
        guard let o = try await portal.online(id, scope: user.scope), o.processed_on == nil else { throw Abort(.notFound) }
        guard let person = try await PersonRecord.query(on: req.jumys.store.db).filter(\.$iin == o.iin).first()?.id,
              try await CaseStore(store: req.jumys.store).person(person, scope: user.scope) != nil else { throw Abort(.notFound) }
        do {
            let app = try await portal.takeIntoFile(id, person: person, env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/applications/\(app)", redirectType: .normal)
        } catch let e as FieldErrors {
            throw Abort(.unprocessableEntity, reason: PageContext(req).messages(e).map(\.message).joined(separator: "; "))
        } catch StoreError.notFound { throw Abort(.notFound) }
    }
}

/// The person card's labour-market sections: vacancies that fit, and training referrals with the way to make one.
enum LabourMarketViews {
    static func personSections(_ ctx: PageContext, person: Int, vacancies: [(vacancy: LabourStore.VacancyRow, reason: MatchReason)],
                               training: [(TrainingStore.TrainingRow, PortalStore.CourseRow?, (position: String, startsOn: String)?)],
                               courses: [PortalStore.CourseRow], canCasework: Bool, k: FormKit) -> Node<HTML.BodyContext> {
        func title(_ c: PortalStore.CourseRow?) -> String { c.map { ctx.lang == .kk ? $0.title_kk : (ctx.lang == .ru ? $0.title_ru : $0.title_en) } ?? "—" }
        return .group(
            .h3(.id("suitable"), .text(ctx.t("match.for_person"))),
            vacancies.isEmpty ? .p(.class("empty"), .text(ctx.t("match.for_person.none"))) : LabourMarketRoutes.vacancyTable(ctx, vacancies, person: person, canRefer: canCasework),
            .h2(.id("training"), .text(ctx.t("training.list"))),
            training.isEmpty ? .p(.class("empty"), .text(ctx.t("training.none"))) :
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("referral.number"))), .th(.text(ctx.t("training.course"))), .th(.text(ctx.t("application.state"))), .th(.text(ctx.t("training.placed"))))),
                .tbody(.forEach(training) { t, c, placed in
                    .tr(.td(.a(.href("/training/\(t.id)"), .text(t.number))), .td(.text(title(c))), .td(.text(ctx.t("training.state.\(t.state)"))),
                        .td(.text(placed.map { ctx.t("training.placed.yes", ["position": $0.position, "date": $0.startsOn]) } ?? "—")))
                })),
            !canCasework || courses.isEmpty ? .empty : .form(.method(.post), .action("/people/\(person)/training"), .class("panel"), ctx.csrfField(),
                k.select("course_id", ctx.t("training.refer"), options: courses.map { (String($0.id), "\(title($0)) · \($0.occupation_isco) · \($0.months) " + ctx.t("courses.months_short")) }),
                .p(.class("hint"), .text(ctx.t("training.refer.hint"))),
                .button(.type(.submit), .class("button"), .text(ctx.t("training.send"))))
        )
    }
}
