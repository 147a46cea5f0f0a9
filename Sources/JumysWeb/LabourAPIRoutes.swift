import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Vapor

/// `/api/v1` for the labour market: vacancies, matching both ways, referrals and their outcomes, the employer's
/// hires file, training referrals, forecast needs and the payroll — scoped and validated like the pages.
struct LabourAPIRoutes: RouteCollection {
    typealias API = CaseworkAPIRoutes

    func boot(routes: any RoutesBuilder) throws {
        let v1 = routes.grouped("api", "v1")
        v1.get("vacancies", use: listVacancies)
        v1.post("vacancies", use: createVacancy)
        v1.get("vacancies", ":id", use: getVacancy)
        v1.get("vacancies", ":id", "candidates", use: candidates)
        v1.get("persons", ":id", "vacancies", use: personVacancies)
        v1.get("candidates", use: needCandidates)
        v1.post("referrals", use: refer)
        v1.get("referrals", ":id", use: getReferral)
        v1.post("referrals", ":id", "outcome", use: outcome)
        v1.post("hires", use: hires)
        v1.get("courses", use: courses)
        v1.post("training-referrals", use: referToTraining)
        v1.get("training-referrals", ":id", use: getTraining)
        v1.post("training-referrals", ":id", "outcome", use: trainingOutcome)
        v1.get("needs", ":year", use: needs)
        v1.post("needs", "local", use: needsLocal)
        v1.post("needs", "central", use: needsCentral)
        v1.get("payroll", ":month", use: payroll)
        v1.post("payroll", ":month", "run", use: runPayroll)
        v1.post("payroll", ":month", "corrections", use: corrections)
    }

    static func bad(_ field: String, _ code: String) -> FieldErrorsAbort { FieldErrorsAbort(errors: FieldErrors(errors: [FieldError(field, code)])) }
    static func int(_ o: [String: Any], _ k: String) -> Int? { API.text(o, k).flatMap { Int($0) } }
    static func money(_ o: [String: Any], _ k: String) -> Money? { API.text(o, k).flatMap { Money(string: $0) } }

    static func vacancyJSON(_ v: LabourStore.VacancyRow) -> RuleOutput {
        var kv: [(String, RuleOutput)] = [("id", .count(v.id)), ("employer_id", .count(v.employer_id)), ("title", .text(v.title)), ("isco", .text(v.occupation_isco)),
                                          ("region", .text(v.region_iso)), ("district_id", .count(v.district_id)), ("wage", .money(Money(tiyn: v.wage))), ("places", .count(v.places)),
                                          ("valid_from", .text(v.valid_from)), ("valid_until", .text(v.valid_until)), ("source", .text(v.source)), ("state", .text(v.state))]
        if let r = v.requirements { kv.append(("requirements", .text(r))) }
        if let p = v.project_id { kv.append(("project_id", .count(p))); kv.append(("project_phase", .text(v.project_phase ?? "works"))) }
        return .object(kv)
    }
    static func reasonJSON(_ r: MatchReason) -> RuleOutput {
        .object([("occupation_level", .count(r.occupationLevel)), ("place", .text(["elsewhere", "same_region", "same_district"][r.place.rawValue])), ("rank", .text(String(r.rank)))])
    }
    static func referralJSON(_ r: LabourStore.ReferralRow) -> RuleOutput {
        var kv: [(String, RuleOutput)] = [("id", .count(r.id)), ("number", .text(r.number)), ("person_id", .count(r.person_id)), ("vacancy_id", .count(r.vacancy_id)),
                                          ("employer_id", .count(r.employer_id)), ("referred_on", .text(r.referred_on)), ("state", .text(r.state))]
        if let x = r.reason { kv.append(("reason", .text(x))) }
        if let x = r.outcome_on { kv.append(("outcome_on", .text(x))) }
        return .object(kv)
    }
    static func trainingJSON(_ t: TrainingStore.TrainingRow) -> RuleOutput {
        var kv: [(String, RuleOutput)] = [("id", .count(t.id)), ("number", .text(t.number)), ("person_id", .count(t.person_id)), ("application_id", .count(t.application_id)),
                                          ("course_id", .count(t.course_id)), ("referred_on", .text(t.referred_on)), ("demand", .text(t.demand)), ("state", .text(t.state))]
        if let x = t.outcome_on { kv.append(("outcome_on", .text(x))) }
        if let x = t.note { kv.append(("note", .text(x))) }
        return .object(kv)
    }
    static func created(_ json: RuleOutput, _ location: String) -> Response {
        let res = JSONText.response(json.json, status: .created)
        res.headers.replaceOrAdd(name: .location, value: location)
        return res
    }
    static func page(_ items: [RuleOutput], next: String?) -> Response {
        JSONText.response(RuleOutput.object([("items", .list(items)), ("next_cursor", .text(next ?? ""))]).json
            .replacingOccurrences(of: #""next_cursor":"""#, with: #""next_cursor":null"#))
    }
    static func limit(_ req: Request, max: Int = 200) throws -> Int {
        guard let text = try? req.query.get(String.self, at: "limit") else { return 50 }
        guard let l = Int(text), (1...max).contains(l) else { throw Abort(.unprocessableEntity, reason: "limit must be from 1 to \(max)") }
        return l
    }
    static func cursor(_ req: Request) throws -> Int? {
        guard let c = try? req.query.get(String.self, at: "cursor") else { return nil }
        guard let v = Int(c) else { throw Abort(.unprocessableEntity, reason: "cursor: not a cursor this list gave") }
        return v
    }

    // MARK: vacancies and matching

    @Sendable func listVacancies(req: Request) async throws -> Response {
        _ = try req.requireUser()
        let limit = try Self.limit(req), after = try Self.cursor(req)
        let region = try? req.query.get(String.self, at: "region")
        if let r = region, RegionCode(r)?.isKnown != true { throw Self.bad("region", "choose_from_list") }
        let minWage = (try? req.query.get(String.self, at: "min_wage")).map { Money(string: $0) }
        if let m = minWage, m == nil { throw Self.bad("min_wage", "amount_invalid") }
        let rows = try await LabourStore(store: req.jumys.store).vacancies(region: region.flatMap { RegionCode($0)?.iso }, iscoPrefix: try? req.query.get(String.self, at: "isco"),
                                                                           minWage: minWage ?? nil, on: req.jumys.store.today(), limit: limit + 1, after: after)
        let page = Array(rows.prefix(limit))
        return Self.page(page.map(Self.vacancyJSON), next: rows.count > limit ? String(page.last!.id) : nil)
    }

    @Sendable func createVacancy(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        let input = VacancyInput(employerID: Self.int(o, "employer_id"), title: API.text(o, "title") ?? "", isco: API.text(o, "isco") ?? "", districtID: Self.int(o, "district_id"),
                                 wage: Self.money(o, "wage"), places: Self.int(o, "places"), requirements: API.text(o, "requirements"),
                                 validFrom: try API.date(o, "valid_from"), validUntil: try API.date(o, "valid_until"), projectID: Self.int(o, "project_id"),
                                 projectPhase: API.text(o, "project_phase").map { ProjectPhase(rawValue: $0) ?? .works })
        if let ph = API.text(o, "project_phase"), ProjectPhase(rawValue: ph) == nil { throw Self.bad("project_phase", "choose_from_list") }
        let labour = LabourStore(store: req.jumys.store)
        let id = try await API.run { try await labour.createVacancy(input, by: user) }
        guard let v = try await labour.vacancy(id) else { throw Abort(.notFound) }
        return Self.created(Self.vacancyJSON(v), "/api/v1/vacancies/\(id)")
    }

    @Sendable func getVacancy(req: Request) async throws -> Response {
        _ = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self), let v = try await LabourStore(store: req.jumys.store).vacancy(id) else { throw Abort(.notFound) }
        return JSONText.response(Self.vacancyJSON(v).json)
    }

    @Sendable func candidates(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.doesCasework || user.role == .analyst else { throw Abort(.forbidden) }
        guard let id = req.parameters.get("id", as: Int.self), try await LabourStore(store: req.jumys.store).vacancy(id) != nil else { throw Abort(.notFound) }
        let limit = try Self.limit(req, max: 100)
        let rows = try await LabourStore(store: req.jumys.store).candidates(for: id, scope: user.scope, limit: limit)
        return JSONText.response(RuleOutput.object([("items", .list(rows.map { .object([("person_id", .count($0.person.id)), ("isco", .text($0.person.occupation_isco ?? "")), ("reason", Self.reasonJSON($0.reason))]) }))]).json)
    }

    /// Candidates for a labour need without a vacancy (a project's need for workers): `isco` and `district_id`.
    @Sendable func needCandidates(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard user.doesCasework || user.role == .analyst else { throw Abort(.forbidden) }
        guard let isco = try? req.query.get(String.self, at: "isco"), isco.count == 4, isco.allSatisfy(\.isNumber) else { throw Self.bad("isco", "isco_invalid") }
        guard let d = try? req.query.get(Int.self, at: "district_id"), let district = try await DistrictRecord.find(d, on: req.jumys.store.db) else { throw Self.bad("district_id", "district_required") }
        let rows = try await LabourStore(store: req.jumys.store).candidates(isco: isco, districtID: d, regionISO: district.regionISO, scope: user.scope, limit: try Self.limit(req, max: 100))
        return JSONText.response(RuleOutput.object([("items", .list(rows.map { .object([("person_id", .count($0.person.id)), ("isco", .text($0.person.occupation_isco ?? "")), ("reason", Self.reasonJSON($0.reason))]) }))]).json)
    }

    @Sendable func personVacancies(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self), try await CaseStore(store: req.jumys.store).person(id, scope: user.scope) != nil else { throw Abort(.notFound) }
        let rows = try await LabourStore(store: req.jumys.store).vacancies(forPerson: id, scope: user.scope, limit: try Self.limit(req, max: 100))
        return JSONText.response(RuleOutput.object([("items", .list(rows.map { .object([("vacancy", Self.vacancyJSON($0.vacancy)), ("reason", Self.reasonJSON($0.reason))]) }))]).json)
    }

    // MARK: referrals and hires

    @Sendable func refer(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        guard let person = Self.int(o, "person_id") else { throw Self.bad("person_id", "choose_from_list") }
        guard let vacancy = Self.int(o, "vacancy_id") else { throw Self.bad("vacancy_id", "choose_from_list") }
        let labour = LabourStore(store: req.jumys.store)
        let id = try await API.run { try await labour.refer(person: person, vacancy: vacancy, by: user) }
        guard let r = try await labour.referral(id, scope: user.scope) else { throw Abort(.notFound) }
        return Self.created(Self.referralJSON(r), "/api/v1/referrals/\(id)")
    }

    @Sendable func getReferral(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self), let r = try await LabourStore(store: req.jumys.store).referral(id, scope: user.scope) else { throw Abort(.notFound) }
        return JSONText.response(Self.referralJSON(r).json)
    }

    @Sendable func outcome(req: Request) async throws -> Response {
        let user = try API.writer(req)
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        let o = try API.body(req)
        let result: ReferralOutcome
        switch API.text(o, "outcome") {
        case "hired":
            guard let starts = try API.date(o, "starts_on") else { throw Self.bad("starts_on", "date_invalid") }
            guard let wage = Self.money(o, "wage") else { throw Self.bad("wage", "amount_invalid") }
            var measure: Measure? = nil
            if let s = API.text(o, "subsidised"), !s.isEmpty { guard let m = Measure(rawValue: s) else { throw Self.bad("subsidised", "choose_from_list") }; measure = m }
            result = .hired(position: API.text(o, "position") ?? "", startsOn: starts, endsOn: try API.date(o, "ends_on"), wage: wage, subsidised: measure)
        case "refused_by_employer": result = .refusedByEmployer(reason: API.text(o, "reason") ?? "")
        case "no_show": result = .noShow
        default: throw Self.bad("outcome", "choose_from_list")
        }
        let labour = LabourStore(store: req.jumys.store)
        let env = try await req.jumys.rules.current()
        try await API.run { try await labour.recordOutcome(referral: id, result, env: env, by: user) }
        if let r = try await labour.referral(id, scope: user.scope) { return JSONText.response(Self.referralJSON(r).json) }
        return JSONText.response(RuleOutput.object([("id", .count(id)), ("recorded", .bool(true))]).json)
    }

    /// The employer's hires file as the request body (text/csv); all lines are recorded or none.
    @Sendable func hires(req: Request) async throws -> Response {
        let user = try API.writer(req)
        guard let b = req.body.data, b.readableBytes > 0 else { throw Self.bad("file", "file_empty") }
        let env = try await req.jumys.rules.current()
        let n = try await API.run { try await LabourStore(store: req.jumys.store).importHires(try LabourStore.parseHires(try TableFile.text(of: Data(buffer: b))), env: env, by: user) }
        return JSONText.response(RuleOutput.object([("recorded", .count(n))]).json)
    }

    // MARK: courses and training

    @Sendable func courses(req: Request) async throws -> Response {
        _ = try req.requireUser()
        let limit = try Self.limit(req), after = try Self.cursor(req)
        let rows = try await PortalStore(store: req.jumys.store).courses(after: after, limit: limit + 1)
        let page = Array(rows.prefix(limit))
        return Self.page(page.map { c in
            .object([("id", .count(c.id)), ("provider_id", .count(c.provider_id)), ("title_kk", .text(c.title_kk)), ("title_ru", .text(c.title_ru)), ("title_en", .text(c.title_en)),
                     ("isco", .text(c.occupation_isco)), ("months", .count(c.months)), ("cost", .money(Money(tiyn: c.cost)))])
        }, next: rows.count > limit ? page.last.map { String($0.id) } : nil)
    }

    @Sendable func referToTraining(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        guard let person = Self.int(o, "person_id") else { throw Self.bad("person_id", "choose_from_list") }
        guard let course = Self.int(o, "course_id") else { throw Self.bad("course_id", "choose_from_list") }
        let training = TrainingStore(store: req.jumys.store)
        let id = try await API.run { try await training.refer(person: person, course: course, by: user) }
        guard let t = try await training.referral(id, scope: user.scope) else { throw Abort(.notFound) }
        return Self.created(Self.trainingJSON(t), "/api/v1/training-referrals/\(id)")
    }

    @Sendable func getTraining(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self), let t = try await TrainingStore(store: req.jumys.store).referral(id, scope: user.scope) else { throw Abort(.notFound) }
        return JSONText.response(Self.trainingJSON(t).json)
    }

    @Sendable func trainingOutcome(req: Request) async throws -> Response {
        let user = try API.writer(req)
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        let o = try API.body(req)
        guard let outcome = API.text(o, "outcome"), outcome == "completed" || outcome == "dropped" else { throw Self.bad("outcome", "choose_from_list") }
        let on = try API.date(o, "outcome_on")
        let training = TrainingStore(store: req.jumys.store)
        try await API.run { try await training.recordOutcome(id, completed: outcome == "completed", on: on, note: API.text(o, "note"), by: user) }
        guard let t = try await training.referral(id, scope: user.scope) else { throw Abort(.notFound) }
        return JSONText.response(Self.trainingJSON(t).json)
    }

    // MARK: forecast needs

    @Sendable func needs(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let year = req.parameters.get("year", as: Int.self), ProgrammeYears.range.contains(year) else { throw Abort(.notFound) }
        let store = NeedsStore(store: req.jumys.store)
        let today = req.jumys.store.today()
        let region: String? = { if case .region(let r) = user.scope { return r.iso }; return nil }()
        // No central forecast is due in a year before the programme's parameters (2011): an empty list, as on the page.
        let central = (try? await store.centralStatus(year: year, env: try await req.jumys.rules.current())) ?? []
        let specialties = try await store.bySpecialty(year: year, region: region, limit: 1000)
        return JSONText.response(RuleOutput.object([
            ("year", .count(year)),
            ("central", .list(central.map { c in
                var kv: [(String, RuleOutput)] = [("organisation_id", .count(c.organisation.id!)), ("organisation_code", .text(c.organisation.code)), ("due", .date(c.due)), ("overdue", .bool(c.overdue(today: today)))]
                if let r = c.report { kv += [("report_id", .count(r.id)), ("received_on", .text(r.received_on)), ("days_late", .count(r.daysLate))] }
                return .object(kv)
            })),
            ("by_specialty", .list(specialties.map { .object([("isco", .text($0.occupation_isco)), ("current", .count($0.current)), ("forecast_next_year", .count($0.forecast)), ("central_forecast", .count($0.central))]) })),
        ]).json)
    }

    static func list(_ o: [String: Any], _ k: String) throws -> [[String: Any]] {
        guard let a = o[k] as? [[String: Any]] else { throw bad(k, "lines_required") }
        return a
    }

    @Sendable func needsLocal(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        let lines = try Self.list(o, "lines").map { NeedsStore.LocalLine(isco: API.text($0, "isco") ?? "", current: Self.int($0, "current") ?? -1, forecast: Self.int($0, "forecast") ?? -1) }
        let id = try await API.run { try await NeedsStore(store: req.jumys.store).submitLocal(year: Self.int(o, "year") ?? 0, lines: lines, by: user) }
        return Self.created(.object([("report_id", .count(id))]), "/api/v1/needs/\(Self.int(o, "year") ?? 0)")
    }

    @Sendable func needsCentral(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        let forecast = try Self.list(o, "forecast").map { l in
            NeedsStore.CentralLine(isco: API.text(l, "isco") ?? "", region: API.text(l, "region") ?? "", counts: (l["counts"] as? [Any] ?? []).map { Int(RuleInputs.text(fromJSON: $0)) ?? -1 })
        }
        let created = ((o["created"] as? [[String: Any]]) ?? []).map { (region: API.text($0, "region") ?? "", count: Self.int($0, "count") ?? -1) }
        let received = try API.date(o, "received_on")
        let year = Self.int(o, "year") ?? 0
        let env = try await req.jumys.rules.current()
        let id = try await API.run { try await NeedsStore(store: req.jumys.store).submitCentral(organisation: Self.int(o, "organisation_id") ?? 0, year: year, receivedOn: received,
                                                                                              forecast: forecast, created: created, env: env, by: user) }
        return Self.created(.object([("report_id", .count(id))]), "/api/v1/needs/\(year)")
    }

    // MARK: payroll

    static func month(_ req: Request) throws -> Payroll.Month {
        guard let m = req.parameters.get("month").flatMap(Payroll.Month.init) else { throw Abort(.notFound) }
        return m
    }

    @Sendable func payroll(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let m = try Self.month(req)
        let limit = try Self.limit(req, max: 2000), after = try Self.cursor(req) ?? 0
        let lines = try await Payroll(store: req.jumys.store).page(month: m, scope: user.scope, after: after, limit: limit + 1)
        let page = Array(lines.prefix(limit))
        return Self.page(page.map { l in
            .object([("id", .count(l.id)), ("region", .text(l.region_iso)), ("district_id", .count(l.district_id)), ("person_id", .count(l.person_id)),
                     ("measure", .text(l.measure)), ("kind", .text(l.kind)), ("month_index", .count(l.month_index)), ("amount", .money(Money(tiyn: l.amount))),
                     ("explanation", RuleOutput.steps((try? JSONDecoder().decode([ExplanationStep].self, from: Data(l.explanation.utf8))) ?? []))])
        }, next: lines.count > limit ? String(page.last!.id) : nil)
    }

    @Sendable func runPayroll(req: Request) async throws -> Response {
        let user = try API.writer(req)
        guard user.role == .administrator else { throw Abort(.forbidden) }
        let m = try Self.month(req)
        _ = try SubsidyTable(try await req.jumys.rules.current().context(on: m.first))
        // The same background job as the page's: asked for on two instances at once, the month is run once. The
        // answer waits for the run to end, here or on the instance that holds it.
        let jobs = JobStore(store: req.jumys.store)
        var j = try await jobs.submit(.payroll, subject: m.description, by: user).job
        if !j.isFinished { await req.application.jobWorker.kick(j.id, on: req.application).value }
        while true {
            guard let now = try await jobs.job(j.id) else { throw Abort(.notFound) }
            j = now
            if j.isFinished { break }
            // Stopping, this server will not finish it: the job waits in the database for the next start (or another instance).
            if req.application.jobWorker.stopping {
                throw Abort(.serviceUnavailable, headers: ["Retry-After": "30"], reason: "The server is stopping; the payroll resumes when it starts again.")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        guard j.state == "done" else { throw Abort(.unprocessableEntity, reason: req.jumys.translator.t("error.field.\(j.problem ?? "job_failed")", req.lang)) }
        let f = j.figures
        func money(_ k: String) -> Money { Money(string: f[k] ?? "0") ?? .zero }
        return JSONText.response(RuleOutput.object([("month", .text(m.description)), ("placements", .count(Int(f["placements"] ?? "") ?? 0)), ("added", .count(Int(f["added"] ?? "") ?? 0)),
                                                ("total", .money(money("total"))), ("held", .count(Int(f["held"] ?? "") ?? 0)), ("held_total", .money(money("held_total"))),
                                                ("held_regions", .list((f["held_regions"] ?? "").split(separator: ",").map { .text(String($0)) })), ("job_id", .count(j.id))]).json)
    }

    @Sendable func corrections(req: Request) async throws -> Response {
        let user = try API.writer(req)
        guard user.role == .administrator else { throw Abort(.forbidden) }
        let m = try Self.month(req)
        let o = try API.body(req)
        let env = try await req.jumys.rules.current()
        if o["placement_id"] != nil && Self.int(o, "placement_id") == nil { throw Self.bad("placement_id", "choose_from_list") }
        let fixes = try await API.run { try await Payroll(store: req.jumys.store).correct(month: m, placement: Self.int(o, "placement_id"), reason: API.text(o, "reason") ?? "", env: env, by: user.actor) }
        return JSONText.response(RuleOutput.object([("month", .text(m.description)), ("corrections", .list(fixes.map {
            .object([("placement_id", .count($0.placement)), ("paid", .money($0.paid)), ("due", .money($0.due)), ("difference", .money($0.difference))])
        }))]).json)
    }
}
