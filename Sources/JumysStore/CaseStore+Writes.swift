import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

extension CaseStore {
    struct Event: Encodable, Sendable { let kind: String; let args: [String: String] }

    /// Appends to the person's timeline inside the caller's transaction.
    func event(_ ctx: WriteContext, person: Int, on date: CivilDate, kind: String, args: [String: String] = [:], explanation: [ExplanationStep]? = nil) async throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try await ctx.sql.insert(into: "person_events").columns("person_id", "at", "on_date", "kind", "args", "explanation", "actor")
            .values(SQLBind(person), SQLBind(AuditLog.timestamp(ctx.now)), SQLBind(date.iso), SQLBind(kind),
                    SQLBind(String(decoding: try enc.encode(args), as: UTF8.self)),
                    SQLBind(try explanation.map { String(decoding: try enc.encode($0), as: UTF8.self) }), SQLBind(ctx.actor.login))
            .run()
    }

    static func explanationJSON(_ steps: [ExplanationStep]) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(steps), as: UTF8.self)
    }

    /// The district a user may act in, checked against the scope. An employer (organisation scope) chooses any
    /// district for its own vacancies: `anyDistrict` says so, instead of pretending the user is national.
    func district(for user: UserContext, requested: Int?, anyDistrict: Bool = false) async throws -> DistrictRecord {
        let wanted: Int?
        switch user.scope {
        case .district(let d):
            // A district user works in their own district: another one asked for is refused, not silently replaced.
            if let r = requested, r != Int(d) { throw FieldErrors(errors: [FieldError("district_id", "district_out_of_scope")]) }
            wanted = Int(d)
        default: wanted = requested
        }
        guard let id = wanted, let d = try await DistrictRecord.find(id, on: store.db) else { throw FieldErrors(errors: [FieldError("district_id", "district_required")]) }
        if anyDistrict { return d }
        switch user.scope {
        case .national: break
        case .region(let r): guard d.regionISO == r.iso else { throw FieldErrors(errors: [FieldError("district_id", "district_out_of_scope")]) }
        case .district(let x): guard d.id == Int(x) else { throw FieldErrors(errors: [FieldError("district_id", "district_out_of_scope")]) }
        case .organisation: throw FieldErrors(errors: [FieldError("district_id", "district_out_of_scope")])
        }
        return d
    }

    struct PersonSnapshot: Encodable, Sendable { let iin, last_name, first_name: String; let middle_name: String?; let district_id: Int; let consent_on: String?; let consent_scope: String? }

    /// A registration's own fields checked (no database): the IIN's shape, checksum and birth date, the names, contact
    /// details, education, occupation and consent. Shared by the form, the API and the bulk import.
    public static func check(_ r: Registration, today: CivilDate) -> (iin: IIN?, last: String, first: String, middle: String?, errors: [FieldError]) {
        var errors: [FieldError] = []
        var iin: IIN? = nil
        do { iin = try IIN(r.iin) } catch { errors.append(FieldError("iin", error == .notTwelveDigits ? "iin_shape" : "iin_invalid")) }
        if let i = iin, i.birthDate > today { errors.append(FieldError("iin", "birth_future")); iin = nil }
        let last = r.lastName.trimmingCharacters(in: .whitespaces), first = r.firstName.trimmingCharacters(in: .whitespaces)
        let middle = r.middleName?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        if last.isEmpty || last.count > 100 { errors.append(FieldError("last_name", "name_required")) }
        if first.isEmpty || first.count > 100 { errors.append(FieldError("first_name", "name_required")) }
        if (middle?.count ?? 0) > 100 { errors.append(FieldError("middle_name", "name_too_long")) }
        if let p = r.phone?.nilIfEmpty, p.filter(\.isNumber).count < 10 || p.count > 25 { errors.append(FieldError("phone", "phone_invalid")) }
        if let e = r.email?.nilIfEmpty, !Self.emailLooksValid(e) { errors.append(FieldError("email", "email_invalid")) }
        if let ed = r.education?.nilIfEmpty, EducationLevel(rawValue: ed) == nil { errors.append(FieldError("education", "choose_from_list")) }
        if let isco = r.occupationISCO?.nilIfEmpty, isco.count != 4 || !isco.allSatisfy(\.isNumber) { errors.append(FieldError("occupation_isco", "isco_invalid")) }
        if let s = r.settlement, s.count > 200 { errors.append(FieldError("settlement", "name_too_long")) }
        if !r.consent { errors.append(FieldError("consent", "consent_required")) }
        return (iin, last, first, middle, errors)
    }

    /// An e-mail address as people write one: a name, one `@`, a domain with a dot (`name@mail.kz`), no spaces, at
    /// most 200 characters. (Whether it reaches anyone is not checked here.)
    public static func emailLooksValid(_ e: String) -> Bool {
        let parts = e.split(separator: "@", omittingEmptySubsequences: false)
        guard e.count <= 200, parts.count == 2, !parts[0].isEmpty, !e.contains(where: \.isWhitespace) else { return false }
        let domain = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return domain.count >= 2 && domain.allSatisfy { !$0.isEmpty }
    }

    /// What a consent covers when the form or file says nothing else.
    public static let defaultConsentScope = "registration, eligibility checks, referrals and monitoring under the employment programmes"

    /// Registers a person (validated; nothing is written when anything is wrong). Returns the new id.
    public func register(_ r: Registration, by user: UserContext) async throws -> Int {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("person", "read_only")]) }
        let today = self.today()
        let checked = Self.check(r, today: today)
        let (iin, last, first, middle) = (checked.iin, checked.last, checked.first, checked.middle)
        var errors = checked.errors
        let district: DistrictRecord
        do { district = try await self.district(for: user, requested: r.districtID) } catch let e as FieldErrors {
            throw FieldErrors(errors: errors + e.errors)
        }
        if let i = iin, let existing = try await PersonRecord.query(on: store.db).filter(\.$iin == i.value).first() {
            if try await person(existing.id!, scope: user.scope) != nil {
                let d = try await DistrictRecord.find(existing.districtID, on: store.db)
                errors.append(FieldError("iin", "iin_duplicate", ["id": String(existing.id!), "district_kk": d?.nameKk ?? "", "district_ru": d?.nameRu ?? "", "district_en": d?.nameEn ?? "", "visible": "yes"]))
            } else {
                // Registered outside the user's area: no id, no district (the IIN's existence cannot be hidden, nothing more is said).
                errors.append(FieldError("iin", "iin_registered_elsewhere", ["visible": "no"]))
            }
        }
        guard errors.isEmpty, let iin else { throw FieldErrors(errors: errors) }
        let scope = r.consentScope?.nilIfEmpty ?? Self.defaultConsentScope
        let from = r.categoriesFrom ?? today
        do {
            return try await store.write(as: user.actor) { ctx in
                let p = PersonRecord()
                p.iin = iin.value; p.lastName = last; p.firstName = first; p.middleName = middle
                p.searchName = PersonRecord.searchName(last: last, first: first, middle: middle)
                p.birthDate = iin.birthDate.iso; p.sex = iin.sex.rawValue; p.regionISO = district.regionISO; p.districtID = district.id!
                p.settlement = r.settlement?.nilIfEmpty; p.isRural = r.rural; p.phone = r.phone?.nilIfEmpty; p.email = r.email?.nilIfEmpty
                p.createdAt = ctx.now; p.updatedAt = ctx.now
                try await p.create(on: ctx.db)
                let id = p.id!
                try await ctx.sql.update("persons").set("education", to: SQLBind(r.education?.nilIfEmpty)).set("occupation_isco", to: SQLBind(r.occupationISCO?.nilIfEmpty))
                    .set("consent_on", to: SQLBind(today.iso)).set("consent_scope", to: SQLBind(scope)).set("consent_by", to: SQLBind(user.login))
                    .set("tsa_recipient", to: SQLBind(false)).where("id", .equal, SQLBind(id)).run()
                for c in Set(r.categories).sorted(by: { $0.rawValue < $1.rawValue }) {
                    try await ctx.sql.insert(into: "person_categories").columns("person_id", "category", "from_date").values(SQLBind(id), SQLBind(c.rawValue), SQLBind(from.iso)).run()
                }
                try ctx.audit("create", entity: "person", id: String(id), after: PersonSnapshot(iin: iin.value, last_name: last, first_name: first, middle_name: middle, district_id: district.id!, consent_on: today.iso, consent_scope: scope))
                try await event(ctx, person: id, on: today, kind: "registered", args: ["categories": r.categories.map(\.rawValue).sorted().joined(separator: ", ")])
                try await event(ctx, person: id, on: today, kind: "consent", args: ["scope": scope])
                return id
            }
        } catch let e as any DatabaseError where e.isConstraintFailure {
            throw FieldErrors(errors: [FieldError("iin", "iin_registered_elsewhere", ["visible": "no"])])
        }
    }

    struct CategorySnapshot: Encodable, Sendable { let person_id: Int; let category: String; let from_date: String; let to_date: String? }

    public func addCategory(person personID: Int, _ category: PersonCategory, from: CivilDate, to: CivilDate?, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("category", "read_only")]) }
        guard try await person(personID, scope: user.scope) != nil else { throw StoreError.notFound }
        if let to, to < from { throw FieldErrors(errors: [FieldError("to_date", "end_before_start")]) }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.insert(into: "person_categories").columns("person_id", "category", "from_date", "to_date")
                .values(SQLBind(personID), SQLBind(category.rawValue), SQLBind(from.iso), SQLBind(to?.iso)).run()
            try ctx.audit("create", entity: "person_category", id: "\(personID):\(category.rawValue)", after: CategorySnapshot(person_id: personID, category: category.rawValue, from_date: from.iso, to_date: to?.iso))
            try await event(ctx, person: personID, on: from, kind: "category", args: ["category": category.rawValue, "from": from.iso, "to": to?.iso ?? ""])
        }
    }

    struct MemberSnapshot: Encodable, Sendable { let person_id: Int; let full_name: String; let relation: String; let birth_date: String; let disabled: Bool; let ill: Bool }

    public func addHouseholdMember(person personID: Int, name: String, relation: HouseholdRelation, birthDate: CivilDate, sex: Sex, disabled: Bool, ill: Bool, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("member_name", "read_only")]) }
        guard try await person(personID, scope: user.scope) != nil else { throw StoreError.notFound }
        let n = name.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if n.isEmpty || n.count > 200 { errors.append(FieldError("member_name", "name_required")) }
        if birthDate > today() { errors.append(FieldError("member_birth_date", "birth_future")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.insert(into: "household_members").columns("person_id", "full_name", "relation", "birth_date", "sex", "disabled", "ill")
                .values(SQLBind(personID), SQLBind(n), SQLBind(relation.rawValue), SQLBind(birthDate.iso), SQLBind(sex.rawValue), SQLBind(disabled), SQLBind(ill)).run()
            try ctx.audit("create", entity: "household_member", id: String(personID), after: MemberSnapshot(person_id: personID, full_name: n, relation: relation.rawValue, birth_date: birthDate.iso, disabled: disabled, ill: ill))
            try await event(ctx, person: personID, on: today(), kind: "household", args: ["relation": relation.rawValue])
        }
    }

    struct TSASnapshot: Encodable, Sendable { let tsa_recipient: Bool }

    /// Marks whether the person is a working-age member of a low-income family receiving TSA (A5).
    public func setTSARecipient(person personID: Int, _ value: Bool, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("tsa_recipient", "read_only")]) }
        guard let p = try await person(personID, scope: user.scope) else { throw StoreError.notFound }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.update("persons").set("tsa_recipient", to: SQLBind(value)).where("id", .equal, SQLBind(personID)).run()
            try ctx.audit("update", entity: "person_tsa", id: String(personID), before: TSASnapshot(tsa_recipient: p.tsa_recipient ?? false), after: TSASnapshot(tsa_recipient: value))
            try await event(ctx, person: personID, on: today(), kind: value ? "tsa_recipient" : "tsa_not_recipient")
        }
    }

    struct ApplicationSnapshot: Encodable, Sendable { let person_id: Int; let measure: String; let state: String; let submitted_on: String; let decided_on: String?; let refusal_reason: String? }

    /// Takes an application; eligibility is checked by the rules and stored with its explanation.
    public func createApplication(person personID: Int, measure: Measure, submittedOn: CivilDate? = nil, env: RulesEnvironment, by user: UserContext) async throws -> Int {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("measure", "read_only")]) }
        guard let p = try await person(personID, scope: user.scope) else { throw StoreError.notFound }
        let on = submittedOn ?? today()
        if on > today() { throw FieldErrors(errors: [FieldError("submitted_on", "date_future")]) }
        guard p.consent_on != nil else { throw FieldErrors(errors: [FieldError("measure", "no_consent")]) }
        // A business or a move is described on its own form (BusinessStore.apply, RelocationStore.apply).
        guard !measure.hasOwnForm else { throw FieldErrors(errors: [FieldError("measure", "own_form")]) }
        let ctxRules = env.context(on: on)
        let elig = try Rules.measureEligibility(measure: measure, facts: try await facts(p, on: on), ctxRules)
        let due = try Rules.applicationDecisionDue(submittedOn: on, ctxRules)
        return try await store.write(as: user.actor) { ctx in
            try await self.insertApplication(ctx, person: p, measure: measure, on: on, eligible: elig.value.eligible, reasons: elig.value.reasons,
                                             priorities: elig.value.priorities, due: due.value, steps: elig.steps + due.steps)
        }
    }

    /// Writes a new application inside the caller's transaction: the row with its eligibility explanation, the
    /// audit record and the timeline event. Returns its id.
    func insertApplication(_ ctx: WriteContext, person p: PersonRow, measure: Measure, on: CivilDate, eligible: Bool, reasons: [String], priorities: [String],
                           due: CivilDate, steps: [ExplanationStep]) async throws -> Int {
        struct R: Decodable { let id: Int }
        guard let row = try await ctx.sql.insert(into: "applications")
            .columns("person_id", "region_iso", "district_id", "measure", "state", "submitted_on", "decision_due", "eligible", "priorities", "eligibility", "updated_at")
            .values(SQLBind(p.id), SQLBind(p.region_iso), SQLBind(p.district_id), SQLBind(measure.rawValue), SQLBind(ApplicationState.submitted.rawValue),
                    SQLBind(on.iso), SQLBind(due.iso), SQLBind(eligible), SQLBind(priorities.joined(separator: ",")),
                    SQLBind(try Self.explanationJSON(steps)), SQLBind(AuditLog.timestamp(ctx.now)))
            .returning("id").first(decoding: R.self) else { throw StoreError.conflict("application not created") }
        try ctx.audit("create", entity: "application", id: String(row.id), after: ApplicationSnapshot(person_id: p.id, measure: measure.rawValue, state: "submitted", submitted_on: on.iso, decided_on: nil, refusal_reason: nil))
        try await event(ctx, person: p.id, on: on, kind: "application_submitted",
                        args: ["application": String(row.id), "measure": measure.rawValue, "eligible": eligible ? "yes" : "no",
                               "reasons": reasons.joined(separator: ", "), "priorities": priorities.joined(separator: ", "), "due": due.iso],
                        explanation: steps)
        return row.id
    }
}

extension String {
    var nilIfEmpty: String? { let t = trimmingCharacters(in: .whitespaces); return t.isEmpty ? nil : t }
}

extension CaseStore {
    struct ConsentSnapshot: Encodable, Sendable { let consent_on: String?; let consent_scope: String?; let consent_by: String? }

    /// Records consent to personal data processing for a person registered without it (e.g. imported).
    public func recordConsent(person personID: Int, scope text: String?, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("consent", "read_only")]) }
        guard let p = try await person(personID, scope: user.scope) else { throw StoreError.notFound }
        guard p.consent_on == nil else { return }
        let scope = text?.nilIfEmpty ?? "registration, eligibility checks, referrals and monitoring under the employment programmes"
        let today = self.today()
        try await store.write(as: user.actor) { ctx in
            struct C: Decodable { let consent_on: String? }
            guard try await ctx.sql.select().column("consent_on").from("persons").where("id", .equal, SQLBind(personID)).first(decoding: C.self)?.consent_on == nil else { return }
            try await ctx.sql.update("persons").set("consent_on", to: SQLBind(today.iso)).set("consent_scope", to: SQLBind(scope)).set("consent_by", to: SQLBind(user.login))
                .where("id", .equal, SQLBind(personID)).run()
            try ctx.audit("update", entity: "person_consent", id: String(personID), before: ConsentSnapshot(consent_on: nil, consent_scope: nil, consent_by: nil),
                          after: ConsentSnapshot(consent_on: today.iso, consent_scope: scope, consent_by: user.login))
            try await event(ctx, person: personID, on: today, kind: "consent", args: ["scope": scope])
        }
    }

    /// Adds an obligation of one party to a running contract (beyond the measure's standard ones).
    public func addObligation(contract contractID: Int, party: ContractParty, text: String, due: CivilDate, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("obligation_text", "read_only")]) }
        guard let c = try await contract(contractID, scope: user.scope), let a = try await application(c.application_id, scope: user.scope) else { throw StoreError.notFound }
        let t = text.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if t.isEmpty || t.count > 500 { errors.append(FieldError("obligation_text", "note_required")) }
        if !a.stateValue.isRunning { errors.append(FieldError("obligation_text", "contract_not_running")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.insert(into: "contract_obligations").columns("contract_id", "party", "text", "due_on")
                .values(SQLBind(contractID), SQLBind(party.rawValue), SQLBind(t), SQLBind(due.iso)).run()
            try await Self.refreshWorklistDates(ctx.sql, contract: contractID)
            try ctx.audit("create", entity: "contract_obligation", id: String(contractID), after: ObligationSnapshot(contract_id: contractID, text: t, due_on: due.iso, fulfilled_on: nil))
            try await event(ctx, person: c.person_id, on: self.today(), kind: "obligation_added", args: ["contract": String(contractID), "party": party.rawValue, "text": t, "due": due.iso])
        }
    }
}
