import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Vapor

/// `/api/v1` for casework: persons, applications and their transitions, contracts — scoped like the pages.
struct CaseworkAPIRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let v1 = routes.grouped("api", "v1")
        v1.post("persons", use: createPerson)
        v1.get("persons", ":id", "applications", use: personApplications)
        v1.get("applications", use: listApplications)
        v1.post("applications", use: createApplication)
        v1.get("applications", ":id", use: getApplication)
        v1.post("applications", ":id", "transitions", use: transition)
        v1.get("contracts", ":id", use: getContract)
    }

    static func body(_ req: Request) throws -> [String: Any] {
        guard let b = req.body.data, let obj = try? JSONSerialization.jsonObject(with: Data(buffer: b)) as? [String: Any] else {
            throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError("body", "json_object_required")]))
        }
        return obj
    }

    static func writer(_ req: Request) throws -> UserContext {
        let u = try req.requireUser()
        guard u.canWrite else { throw Abort(.forbidden, reason: "read-only") }
        return u
    }

    static func text(_ o: [String: Any], _ k: String) -> String? { o[k].map { RuleInputs.text(fromJSON: $0) } }

    static func date(_ o: [String: Any], _ k: String) throws -> CivilDate? {
        guard let s = text(o, k), !s.isEmpty else { return nil }
        guard let d = CivilDate(iso: s) else { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError(k, "date_invalid")])) }
        return d
    }

    /// Runs a store call, turning its field errors into a 422 problem and a missing record into 404.
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as FieldErrors { throw FieldErrorsAbort(errors: e) } catch StoreError.notFound { throw Abort(.notFound) }
    }

    static func applicationJSON(_ a: CaseStore.ApplicationRow, contractID: Int?) -> RuleOutput {
        let steps = (try? JSONDecoder().decode([ExplanationStep].self, from: Data(a.eligibility.utf8))) ?? []
        var kv: [(String, RuleOutput)] = [
            ("id", .count(a.id)), ("person_id", .count(a.person_id)), ("region", .text(a.region_iso)), ("district_id", .count(a.district_id)),
            ("measure", .text(a.measure)), ("state", .text(a.state)), ("submitted_on", .text(a.submitted_on)), ("decision_due", .text(a.decision_due)),
            ("eligible", .bool(a.eligible)), ("priorities", .list(a.priorities.split(separator: ",").map { .text(String($0)) })),
            ("allowed_actions", .list(a.stateValue.allowedActions(measure: a.measureValue).map { .text($0.rawValue) })),
            ("explanation", RuleOutput.steps(steps)),
        ]
        if let d = a.decided_on { kv.append(("decided_on", .text(d))) }
        if let s = a.signing_due { kv.append(("signing_due", .text(s))) }
        if let r = a.refusal_reason { kv.append(("refusal_reason", .text(r))); kv.append(("refusal_text", .text(a.refusal_text ?? ""))) }
        if let c = contractID { kv.append(("contract_id", .count(c))) }
        return .object(kv)
    }

    @Sendable func createPerson(req: Request) async throws -> Response {
        let user = try Self.writer(req)
        let o = try Self.body(req)
        let cats = ((o["categories"] as? [Any]) ?? []).map { RuleInputs.text(fromJSON: $0) }
        var unknown: [FieldError] = []
        let categories = cats.compactMap { c -> PersonCategory? in
            if let v = PersonCategory(rawValue: c) { return v }
            unknown.append(FieldError("categories", "choose_from_list")); return nil
        }
        if !unknown.isEmpty { throw FieldErrorsAbort(errors: FieldErrors(errors: unknown)) }
        let reg = Registration(iin: Self.text(o, "iin") ?? "", lastName: Self.text(o, "last_name") ?? "", firstName: Self.text(o, "first_name") ?? "",
                               middleName: Self.text(o, "middle_name"), districtID: Self.text(o, "district_id").flatMap(Int.init), settlement: Self.text(o, "settlement"),
                               rural: Self.text(o, "rural") == "true", phone: Self.text(o, "phone"), email: Self.text(o, "email"), education: Self.text(o, "education"),
                               occupationISCO: Self.text(o, "occupation_isco"), categories: categories, consent: Self.text(o, "consent") == "true",
                               consentScope: Self.text(o, "consent_scope"))
        let id = try await Self.run { try await CaseStore(store: req.jumys.store).register(reg, by: user) }
        guard let p = try await req.jumys.registry.person(id: id, scope: user.scope) else { throw Abort(.notFound) }
        let res = try await APIRoutes.PersonJSON(p).encodeResponse(status: .created, for: req)
        res.headers.replaceOrAdd(name: .location, value: "/api/v1/persons/\(id)")
        return res
    }

    @Sendable func personApplications(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self), try await CaseStore(store: req.jumys.store).person(id, scope: user.scope) != nil else { throw Abort(.notFound) }
        let cases = CaseStore(store: req.jumys.store)
        let limit = try LabourAPIRoutes.limit(req), after = try LabourAPIRoutes.cursor(req)
        let contracts = try await cases.contractIDs(ofPerson: id)
        // Newest first, as the person's card lists them; the cursor is the last id seen.
        let all = try await cases.applications(of: id).filter { after == nil || $0.id < after! }
        let page = Array(all.prefix(limit))
        return LabourAPIRoutes.page(page.map { Self.applicationJSON($0, contractID: contracts[$0.id]) }, next: all.count > limit ? page.last.map { String($0.id) } : nil)
    }

    @Sendable func listApplications(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let limit = try LabourAPIRoutes.limit(req)
        let filter = try ListFilter(req, from: "submitted_from", to: "submitted_to")
        var states: [ApplicationState]? = nil
        if let s = try? req.query.get(String.self, at: "state") {
            guard let st = ApplicationState(rawValue: s) else { throw Abort(.unprocessableEntity, reason: "state: one of \(ApplicationState.allCases.map(\.rawValue).joined(separator: ", "))") }
            states = [st]
        }
        var after: Int? = nil
        if let c = try? req.query.get(String.self, at: "cursor") {
            guard let v = Int(c) else { throw Abort(.unprocessableEntity, reason: "cursor: not a cursor this list gave") }
            after = v
        }
        let rows = try await CaseStore(store: req.jumys.store).applications(scope: user.scope, states: states, region: filter.region, district: filter.district,
                                                                                 submittedFrom: filter.from, submittedTo: filter.to, limit: limit + 1, after: after)
        let page = Array(rows.prefix(limit))
        let next: RuleOutput = rows.count > limit ? .text(String(page.last!.id)) : .text("")
        return JSONText.response(RuleOutput.object([("items", .list(page.map { Self.applicationJSON($0, contractID: nil) })), ("next_cursor", next)]).json
            .replacingOccurrences(of: #""next_cursor":"""#, with: #""next_cursor":null"#))
    }

    @Sendable func createApplication(req: Request) async throws -> Response {
        let user = try Self.writer(req)
        let o = try Self.body(req)
        guard let personID = Self.text(o, "person_id").flatMap(Int.init) else { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError("person_id", "choose_from_list")])) }
        guard let measure = Self.text(o, "measure").flatMap(Measure.init(rawValue:)) else { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError("measure", "choose_from_list")])) }
        let submitted = try Self.date(o, "submitted_on")
        let cases = CaseStore(store: req.jumys.store)
        let env = try await req.jumys.rules.current()
        let id = try await Self.run { try await cases.createApplication(person: personID, measure: measure, submittedOn: submitted, env: env, by: user) }
        guard let a = try await cases.application(id, scope: user.scope) else { throw Abort(.notFound) }
        let res = JSONText.response(Self.applicationJSON(a, contractID: nil).json, status: .created)
        res.headers.replaceOrAdd(name: .location, value: "/api/v1/applications/\(id)")
        return res
    }

    @Sendable func getApplication(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let cases = CaseStore(store: req.jumys.store)
        guard let id = req.parameters.get("id", as: Int.self), let a = try await cases.application(id, scope: user.scope) else { throw Abort(.notFound) }
        return JSONText.response(Self.applicationJSON(a, contractID: try await cases.contract(forApplication: id)?.id).json)
    }

    @Sendable func transition(req: Request) async throws -> Response {
        let user = try Self.writer(req)
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        let o = try Self.body(req)
        guard let action = Self.text(o, "action").flatMap(ApplicationAction.init(rawValue:)) else { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError("action", "choose_from_list")])) }
        var input = TransitionInput.none
        switch action {
        case .refuse:
            guard let r = Self.text(o, "refusal_reason").flatMap(RefusalReason.init(rawValue:)) else { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError("refusal_reason", "choose_from_list")])) }
            input = .refusal(reason: r, text: Self.text(o, "refusal_text") ?? "")
        case .signContract:
            guard let c = o["contract"] as? [String: Any] else { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError("contract", "contract_data_required")])) }
            guard let s = try Self.date(c, "starts_on"), let e = try Self.date(c, "ends_on") else { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError("contract", "contract_data_required")])) }
            var cost: Money? = nil
            if let t = Self.text(c, "course_cost"), !t.isEmpty {
                guard let m = Money(string: t) else { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError("contract.course_cost", "amount_invalid")])) }
                cost = m
            }
            input = .contract(ContractInput(startsOn: s, endsOn: e, employerID: Self.text(c, "employer_id").flatMap(Int.init), providerID: Self.text(c, "provider_id").flatMap(Int.init),
                                            specialty: Self.text(c, "specialty"), practicePlace: Self.text(c, "practice_place"), workOffMonths: Self.text(c, "work_off_months").flatMap(Int.init),
                                            courseMonths: Self.text(c, "course_months").flatMap(Int.init), courseCost: cost))
        case .terminate:
            input = .termination(participantRefused: Self.text(o, "participant_refused") == "true", text: Self.text(o, "note") ?? "")
        default: break
        }
        let date = try Self.date(o, "date")
        let cases = CaseStore(store: req.jumys.store)
        let env = try await req.jumys.rules.current()
        try await Self.run { try await cases.transition(application: id, action, input: input, on: date, env: env, by: user) }
        guard let a = try await cases.application(id, scope: user.scope) else { throw Abort(.notFound) }
        return JSONText.response(Self.applicationJSON(a, contractID: try await cases.contract(forApplication: id)?.id).json)
    }

    @Sendable func getContract(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let cases = CaseStore(store: req.jumys.store)
        guard let id = req.parameters.get("id", as: Int.self), let c = try await cases.contract(id, scope: user.scope) else { throw Abort(.notFound) }
        let obligations = try await cases.obligations(of: id), visits = try await cases.monitoring(of: id), breaches = try await cases.breaches(of: id)
        return JSONText.response(RuleOutput.object([
            ("id", .count(c.id)), ("number", .text(c.number)), ("application_id", .count(c.application_id)), ("person_id", .count(c.person_id)),
            ("signed_on", .text(c.signed_on)), ("starts_on", .text(c.starts_on)), ("ends_on", .text(c.ends_on)), ("next_monitoring", .text(c.next_monitoring)),
            ("obligations", .list(obligations.map { .object([("id", .count($0.id)), ("party", .text($0.party)), ("text", .text($0.text)), ("due_on", .text($0.due_on)), ("fulfilled_on", .text($0.fulfilled_on ?? ""))]) })),
            ("monitoring", .list(visits.map { .object([("visited_on", .text($0.visited_on)), ("note", .text($0.note)), ("by", .text($0.by_login))]) })),
            ("breaches", .list(breaches.map { .object([("occurred_on", .text($0.occurred_on)), ("party", .text($0.party)), ("description", .text($0.description)), ("sanction", .text($0.sanction))]) })),
        ]).json)
    }
}

/// Field errors from the store, answered as 422 problem+json listing each field with a translated message.
struct FieldErrorsAbort: AbortError {
    let errors: FieldErrors
    /// 409 when the record changed under the request (another step landed first), 422 otherwise.
    var status: HTTPResponseStatus { errors.errors.contains { $0.code == "project_changed" } ? .conflict : .unprocessableEntity }
    var reason: String { errors.description }
}
