import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The employment centre's casework pages: registration, the person card, applications, contracts, TSA.
struct CaseworkRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("people", "new", use: newPerson)
        routes.post("people", use: createPerson)
        routes.post("people", ":id", "categories", use: addCategory)
        routes.post("people", ":id", "household", use: addMember)
        routes.post("people", ":id", "tsa", use: setTSA)
        routes.post("people", ":id", "consent", use: recordConsent)
        routes.post("contracts", ":id", "obligations", use: addObligation)
        routes.post("people", ":id", "applications", use: newApplication)
        routes.get("applications", ":id", use: showApplication)
        routes.post("applications", ":id", "actions", ":action", use: act)
        routes.get("contracts", ":id", use: showContract)
        routes.post("contracts", ":id", "obligations", ":oid", use: fulfil)
        routes.post("contracts", ":id", "monitoring", use: addVisit)
        routes.post("contracts", ":id", "breaches", use: addBreach)
        routes.get("contracts", ":id", "print", ":lang", use: printContract)
        routes.get("contracts", ":id", "notice", ":party", ":lang", use: printNotice)
        routes.get("tsa", use: suspensions)
    }

    static func cases(_ req: Request) -> CaseStore { CaseStore(store: req.jumys.store) }

    static func requireWriter(_ req: Request) throws -> UserContext {
        let u = try req.requireUser()
        guard u.canWrite else { throw Abort(.forbidden, reason: "read-only") }
        return u
    }

    /// A user who does casework (a caseworker, or the administrator); anyone else is refused before the form is read.
    static func requireCaseworker(_ req: Request) throws -> UserContext {
        let u = try requireWriter(req)
        guard u.doesCasework else { throw Abort(.forbidden, reason: "casework") }
        return u
    }

    static func id(_ req: Request, _ name: String = "id") throws -> Int {
        guard let v = req.parameters.get(name, as: Int.self) else { throw Abort(.notFound) }
        return v
    }

    /// Form fields as a dictionary (repeated `name[]` fields joined with commas).
    static func form(_ req: Request) throws -> [String: String] {
        guard let body = req.body.string else { return [:] }
        var out: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard let k = kv.first.flatMap({ String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }) else { continue }
            let v = kv.count > 1 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") : ""
            if k.hasSuffix("[]") {
                let key = String(k.dropLast(2))
                out[key] = out[key].map { $0 + "," + v } ?? v
            } else { out[k] = v }
        }
        return out
    }

    /// An optional whole number of a form: nil when absent or blank, and a field error (`code`) when it is there but
    /// not a whole number, instead of quietly reading it as absent.
    static func optionalInt(_ f: [String: String], _ k: String, _ errors: inout [FieldError], code: String = "number_invalid") -> Int? {
        guard let s = f[k]?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
        guard let n = Int(s) else { errors.append(FieldError(k, code)); return nil }
        return n
    }

    // MARK: registration

    @Sendable func newPerson(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        var values = ["rural": "false"]
        // Taken from an online application: the form starts with what the person sent (the id is not personal data).
        if let oid = try? req.query.get(Int.self, at: "online"), let o = try await PortalStore(store: req.jumys.store).online(oid, scope: user.scope) {
            values.merge(["iin": o.iin, "last_name": o.last_name, "first_name": o.first_name, "phone": o.phone, "email": o.email ?? "",
                          "district_id": String(o.district_id), "online_id": String(oid)]) { $1 }
        }
        return try await CaseworkViews.registration(req, values: values, errors: [], status: .ok)
    }

    @Sendable func createPerson(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let f = try Self.form(req)
        // What the form's own controls send, or a field error (not a quiet default) when it is something else.
        var errors: [FieldError] = []
        let named = (f["categories"] ?? "").split(separator: ",").map(String.init)
        let cats = named.compactMap(PersonCategory.init(rawValue:))
        if cats.count != named.count { errors.append(FieldError("categories", "choose_from_list")) }
        let district = Self.optionalInt(f, "district_id", &errors, code: "choose_from_list")
        let onlineID = Self.optionalInt(f, "online_id", &errors, code: "online_unknown")
        let reg = Registration(iin: f["iin"] ?? "", lastName: f["last_name"] ?? "", firstName: f["first_name"] ?? "", middleName: f["middle_name"],
                               districtID: district, settlement: f["settlement"], rural: f["rural"] == "true",
                               phone: f["phone"], email: f["email"], education: f["education"], occupationISCO: f["occupation_isco"],
                               categories: cats, consent: f["consent"] == "true")
        do {
            // The online application the form was started from is still waiting, and in the user's territory.
            var online: PortalStore.OnlineRow? = nil
            if let oid = onlineID, !errors.contains(where: { $0.field == "online_id" }) {
                online = try await PortalStore(store: req.jumys.store).online(oid, scope: user.scope)
                if online == nil || online?.processed_on != nil { errors.append(FieldError("online_id", "online_unknown")) }
            }
            if !errors.isEmpty { throw FieldErrors(errors: errors) }
            let id = try await Self.cases(req).register(reg, by: user)
            // An online application taken into the file becomes the application for the measure the person asked for.
            if let oid = onlineID, online != nil {
                // The person was just registered from it; an application that cannot be made now leaves it pending.
                _ = try? await PortalStore(store: req.jumys.store).takeIntoFile(oid, person: id, env: try await req.jumys.rules.current(), by: user)
            }
            return req.redirect(to: "/people/\(id)", redirectType: .normal)
        } catch let e as FieldErrors {
            let ctx = PageContext(req)
            var messages = ctx.messages(e)
            // A duplicate links to the existing record when the user may open it.
            if let dup = e.errors.first(where: { $0.code == "iin_duplicate" }), dup.args["visible"] == "yes", let id = dup.args["id"] {
                messages = messages.map { $0.field == "iin" ? ($0.field, $0.message + " " + ctx.t("error.field.iin_duplicate.link", ["url": "/people/\(id)"])) : $0 }
            }
            return try await CaseworkViews.registration(req, values: f, errors: messages, status: .unprocessableEntity,
                                                        duplicateURL: e.errors.first(where: { $0.code == "iin_duplicate" && $0.args["visible"] == "yes" }).flatMap { $0.args["id"] }.map { "/people/\($0)" })
        }
    }

    // MARK: person card additions

    @Sendable func addCategory(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req)
        let f = try Self.form(req)
        do {
            guard let c = f["category"].flatMap(PersonCategory.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("category", "choose_from_list")]) }
            guard let from = f["from_date"].flatMap({ CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) }) else { throw FieldErrors(errors: [FieldError("from_date", "date_invalid")]) }
            let to = try f["to_date"].flatMap { $0.isEmpty ? nil : $0 }.map { s -> CivilDate in
                guard let d = CivilDate(iso: s) else { throw FieldErrors(errors: [FieldError("to_date", "date_invalid")]) }
                return d
            }
            try await Self.cases(req).addCategory(person: id, c, from: from, to: to, by: user)
            return req.redirect(to: "/people/\(id)#categories", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await CaseworkViews.personCard(req, id: id, errors: PageContext(req).messages(e), values: f, status: .unprocessableEntity)
        }
    }

    @Sendable func addMember(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req)
        let f = try Self.form(req)
        do {
            guard let rel = f["relation"].flatMap(HouseholdRelation.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("relation", "choose_from_list")]) }
            guard let b = f["member_birth_date"].flatMap({ CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) }) else { throw FieldErrors(errors: [FieldError("member_birth_date", "date_invalid")]) }
            guard let sex = f["member_sex"].flatMap(Sex.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("member_sex", "choose_from_list")]) }
            try await Self.cases(req).addHouseholdMember(person: id, name: f["member_name"] ?? "", relation: rel, birthDate: b, sex: sex,
                                                         disabled: f["disabled"] == "true", ill: f["ill"] == "true", by: user)
            return req.redirect(to: "/people/\(id)#household", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await CaseworkViews.personCard(req, id: id, errors: PageContext(req).messages(e), values: f, status: .unprocessableEntity)
        }
    }

    @Sendable func setTSA(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req)
        let f = try Self.form(req)
        try await Self.cases(req).setTSARecipient(person: id, f["tsa_recipient"] == "true", by: user)
        return req.redirect(to: "/people/\(id)#tsa", redirectType: .normal)
    }

    @Sendable func recordConsent(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req)
        let f = try Self.form(req)
        guard f["consent"] == "true" else {
            return try await CaseworkViews.personCard(req, id: id, errors: PageContext(req).messages(FieldErrors(errors: [FieldError("consent", "consent_required")])), values: f, status: .unprocessableEntity)
        }
        do { try await Self.cases(req).recordConsent(person: id, scope: f["consent_scope"], by: user) } catch StoreError.notFound { throw Abort(.notFound) }
        return req.redirect(to: "/people/\(id)", redirectType: .normal)
    }

    @Sendable func addObligation(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req)
        let f = try Self.form(req)
        do {
            var errors: [FieldError] = []
            let party = f["obligation_party"].flatMap(ContractParty.init(rawValue:)); if party == nil { errors.append(FieldError("obligation_party", "choose_from_list")) }
            let due = f["obligation_due"].flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) }; if due == nil { errors.append(FieldError("obligation_due", "date_invalid")) }
            guard errors.isEmpty, let party, let due else { throw FieldErrors(errors: errors) }
            try await Self.cases(req).addObligation(contract: id, party: party, text: f["obligation_text"] ?? "", due: due, by: user)
            return req.redirect(to: "/contracts/\(id)#obligations", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await CaseworkViews.contract(req, id: id, errors: PageContext(req).messages(e), values: f, status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    @Sendable func newApplication(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req)
        let f = try Self.form(req)
        do {
            guard let m = f["measure"].flatMap(Measure.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("measure", "choose_from_list")]) }
            let app = try await Self.cases(req).createApplication(person: id, measure: m, env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/applications/\(app)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await CaseworkViews.personCard(req, id: id, errors: PageContext(req).messages(e), values: f, status: .unprocessableEntity)
        }
    }

    // MARK: applications

    @Sendable func showApplication(req: Request) async throws -> Response {
        _ = try req.requireUser()
        return try await CaseworkViews.application(req, id: try Self.id(req), errors: [], values: [:], status: .ok)
    }

    @Sendable func act(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req)
        guard let action = req.parameters.get("action").flatMap(ApplicationAction.init(rawValue:)) else { throw Abort(.notFound) }
        let f = try Self.form(req)
        do {
            var input = TransitionInput.none
            switch action {
            case .refuse:
                guard let r = f["refusal_reason"].flatMap(RefusalReason.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("refusal_reason", "choose_from_list")]) }
                input = .refusal(reason: r, text: f["refusal_text"] ?? "")
            case .signContract:
                var errors: [FieldError] = []
                let starts = f["starts_on"].flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) }
                let ends = f["ends_on"].flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) }
                if starts == nil { errors.append(FieldError("starts_on", "date_invalid")) }
                if ends == nil { errors.append(FieldError("ends_on", "date_invalid")) }
                let cost = f["course_cost"].flatMap { $0.isEmpty ? nil : $0 }
                if let c = cost, Money(string: c) == nil { errors.append(FieldError("course_cost", "amount_invalid")) }
                let employer = Self.optionalInt(f, "employer_id", &errors, code: "choose_from_list"), provider = Self.optionalInt(f, "provider_id", &errors, code: "choose_from_list")
                let workOff = Self.optionalInt(f, "work_off_months", &errors), courseMonths = Self.optionalInt(f, "course_months", &errors)
                guard errors.isEmpty, let starts, let ends else { throw FieldErrors(errors: errors) }
                input = .contract(ContractInput(startsOn: starts, endsOn: ends, employerID: employer, providerID: provider,
                                                specialty: f["specialty"]?.nilIfBlank, practicePlace: f["practice_place"]?.nilIfBlank,
                                                workOffMonths: workOff, courseMonths: courseMonths,
                                                courseCost: cost.flatMap { Money(string: $0) }))
            case .terminate:
                input = .termination(participantRefused: f["participant_refused"] == "true", text: f["note"] ?? "")
            default: break
            }
            try await Self.cases(req).transition(application: id, action, input: input, env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/applications/\(id)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await CaseworkViews.application(req, id: id, errors: PageContext(req).messages(e), values: f, status: .unprocessableEntity)
        } catch StoreError.notFound {
            throw Abort(.notFound)
        }
    }

    // MARK: contracts

    @Sendable func showContract(req: Request) async throws -> Response {
        _ = try req.requireUser()
        return try await CaseworkViews.contract(req, id: try Self.id(req), errors: [], values: [:], status: .ok)
    }

    @Sendable func fulfil(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req), oid = try Self.id(req, "oid")
        do { try await Self.cases(req).fulfilObligation(oid, by: user) } catch StoreError.notFound { throw Abort(.notFound) }
        return req.redirect(to: "/contracts/\(id)#obligations", redirectType: .normal)
    }

    @Sendable func addVisit(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req)
        let f = try Self.form(req)
        do {
            guard let d = f["visited_on"].flatMap({ CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) }) else { throw FieldErrors(errors: [FieldError("visited_on", "date_invalid")]) }
            try await Self.cases(req).addMonitoring(contract: id, visitedOn: d, note: f["note"] ?? "", env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/contracts/\(id)#monitoring", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await CaseworkViews.contract(req, id: id, errors: PageContext(req).messages(e), values: f, status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    @Sendable func addBreach(req: Request) async throws -> Response {
        let user = try Self.requireCaseworker(req)
        let id = try Self.id(req)
        let f = try Self.form(req)
        do {
            var errors: [FieldError] = []
            let party = f["party"].flatMap(ContractParty.init(rawValue:)); if party == nil { errors.append(FieldError("party", "choose_from_list")) }
            let sanction = f["sanction"].flatMap(CaseStore.Sanction.init(rawValue:)); if sanction == nil { errors.append(FieldError("sanction", "choose_from_list")) }
            let d = f["occurred_on"].flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) }; if d == nil { errors.append(FieldError("occurred_on", "date_invalid")) }
            guard errors.isEmpty, let party, let sanction, let d else { throw FieldErrors(errors: errors) }
            try await Self.cases(req).recordBreach(contract: id, party: party, occurredOn: d, description: f["description"] ?? "", sanction: sanction, env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: "/contracts/\(id)#breaches", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await CaseworkViews.contract(req, id: id, errors: PageContext(req).messages(e), values: f, status: .unprocessableEntity)
        } catch StoreError.notFound { throw Abort(.notFound) }
    }

    @Sendable func printContract(req: Request) async throws -> Response {
        _ = try req.requireUser()
        guard let lang = req.parameters.get("lang").flatMap(Lang.init(rawValue:)), lang != .en else { throw Abort(.notFound) }
        return try await PrintViews.contract(req, id: try Self.id(req), lang: lang)
    }

    @Sendable func printNotice(req: Request) async throws -> Response {
        _ = try req.requireUser()
        guard let lang = req.parameters.get("lang").flatMap(Lang.init(rawValue:)), lang != .en,
              let party = req.parameters.get("party").flatMap(ContractParty.init(rawValue:)), party == .employer || party == .provider else { throw Abort(.notFound) }
        return try await PrintViews.notice(req, id: try Self.id(req), party: party, lang: lang)
    }

    @Sendable func suspensions(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let rows = try await Self.cases(req).suspensions(scope: user.scope)
        let ctx = PageContext(req)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("tsa.title"),
            .h1(.text(ctx.t("tsa.title"))),
            .p(.class("lead"), .text(ctx.t("tsa.lead"))),
            rows.isEmpty ? .p(.class("empty"), .text(ctx.t("tsa.none"))) :
            .table(.class("data"),
                .caption(.text(ctx.t("tsa.caption"))),
                .thead(.tr(.th(.text(ctx.t("person.name"))), .th(.text(ctx.t("tsa.suspended_on"))), .th(.text(ctx.t("tsa.event"))), .th(.text(ctx.t("tsa.resumed_on"))))),
                .tbody(.forEach(rows) { r in
                    .tr(.td(.a(.href("/people/\(r.row.person_id)"), .text(r.name))), .td(.text(r.row.suspended_on)),
                        .td(.text(ctx.t("tsa_event.\(r.row.event)"))), .td(.text(r.row.resumed_on ?? ctx.t("tsa.still_suspended"))))
                })
            )
        ))
    }
}

extension String {
    var nilIfBlank: String? { let t = trimmingCharacters(in: .whitespaces); return t.isEmpty ? nil : t }
}
