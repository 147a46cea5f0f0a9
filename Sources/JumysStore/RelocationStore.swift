import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// What a person asks for to move (D1, D2): from where, to where, with whom.
public struct RelocationInput: Sendable {
    public var originID: Int, destinationID: Int, livedSince: CivilDate?
    public var skillsMatch: Bool, employerRelocated: Bool, employerID: Int?, employmentAtDestination: Bool
    public var memberIDs: [Int]
    public var submittedOn: CivilDate?
    public init(originID: Int, destinationID: Int, livedSince: CivilDate?, skillsMatch: Bool, employerRelocated: Bool, employerID: Int? = nil,
                employmentAtDestination: Bool, memberIDs: [Int], submittedOn: CivilDate? = nil) {
        self.originID = originID; self.destinationID = destinationID; self.livedSince = livedSince; self.skillsMatch = skillsMatch
        self.employerRelocated = employerRelocated; self.employerID = employerID; self.employmentAtDestination = employmentAtDestination
        self.memberIDs = memberIDs; self.submittedOn = submittedOn
    }
}

/// A dwelling of the service housing stock (D4–D6).
public struct DwellingInput: Sendable {
    public var districtID: Int, settlementID: Int?, address: String, kind: DwellingKind, area: FixedDecimal, rooms: Int, costPerM2: Money
    public var employerID: Int?, cofinancingID: Int?, excessPaidBy: String?
    public init(districtID: Int, settlementID: Int? = nil, address: String, kind: DwellingKind, area: FixedDecimal, rooms: Int, costPerM2: Money,
                employerID: Int? = nil, cofinancingID: Int? = nil, excessPaidBy: String? = nil) {
        self.districtID = districtID; self.settlementID = settlementID; self.address = address; self.kind = kind; self.area = area; self.rooms = rooms
        self.costPerM2 = costPerM2; self.employerID = employerID; self.cofinancingID = cofinancingID; self.excessPaidBy = excessPaidBy
    }
}

/// Direction 3 (D1–D6): settlement lists, relocation applications with the commission's recommendation, the
/// relocation subsidy into the payment list, service housing and youth hostel rooms, employer co-financing.
public struct RelocationStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }
    var cases: CaseStore { CaseStore(store: store) }

    public struct SettlementRow: Decodable, Sendable {
        public let id: Int; public let region_iso: String; public let district_id: Int; public let name_kk: String; public let name_ru: String
        public let potential: String; public let listed_from: String; public let listed_to: String?; public let basis: String
        public func listed(on date: CivilDate) -> Bool {
            guard let f = CivilDate(iso: listed_from), f <= date else { return false }
            return listed_to.flatMap(CivilDate.init(iso:)).map { date < $0 } ?? true
        }
    }
    public struct RelocationRow: Decodable, Sendable {
        public let application_id: Int; public let person_id: Int; public let region_iso: String; public let district_id: Int
        public let origin_id: Int; public let destination_id: Int; public let move: String; public let body: String; public let lived_since: String?
        public let skills_match: Bool; public let employer_relocated: Bool; public let employer_id: Int?; public let employment_at_destination: Bool
        public let members: String; public let family_size: Int; public let subsidy: Int64?
        public var moveValue: Rules.Move { Rules.Move(rawValue: move) ?? .withinDistrict }
    }
    public struct RecommendationRow: Decodable, Sendable {
        public let id: Int; public let application_id: Int; public let body: String; public let recommended: Bool; public let on_date: String
        public let protocol_no: String; public let note: String; public let by_login: String
        enum CodingKeys: String, CodingKey { case id, application_id, body, recommended, on_date, protocol_no = "protocol", note, by_login }
    }
    public struct PaymentRow: Decodable, Sendable {
        public let id: Int; public let person_id: Int; public let application_id: Int; public let region_iso: String; public let district_id: Int
        public let kind: String; public let month: String; public let decided_on: String; public let amount: Int64; public let explanation: String
    }
    public struct DwellingRow: Decodable, Sendable {
        public let id: Int; public let region_iso: String; public let district_id: Int; public let settlement_id: Int?; public let address: String
        public let kind: String; public let area: Int64; public let rooms: Int; public let cost_per_m2: Int64; public let funded_by: String
        public let employer_id: Int?; public let cofinancing_id: Int?; public let excess_paid_by: String?; public let created_on: String
        public var areaValue: FixedDecimal { FixedDecimal(units: area) }
    }
    public struct AllocationRow: Decodable, Sendable {
        public let id: Int; public let dwelling_id: Int; public let person_id: Int; public let application_id: Int?; public let family_size: Int
        public let allocated_on: String; public let released_on: String?; public let republican_cost: Int64; public let excess: Int64
        public let explanation: String; public let by_login: String
    }
    public struct CofinancingRow: Decodable, Sendable {
        public let id: Int; public let region_iso: String; public let employer_id: Int; public let name: String; public let total_cost: Int64
        public let employer_cost: Int64; public let dwellings: Int; public let employer_dwellings: Int; public let state_dwellings: Int
        public let eligible: Bool; public let explanation: String; public let decided_on: String
    }

    // MARK: settlement lists

    struct SettlementSnapshot: Encodable, Sendable { let region_iso: String; let district_id: Int; let name_ru: String; let potential: String; let listed_from: String; let listed_to: String?; let basis: String }

    /// The administrator (programme operator) lists a settlement as low or high potential from a date, with the
    /// decision it rests on.
    public func addSettlement(districtID: Int, nameKk: String, nameRu: String, potential: SettlementPotential, listedFrom: CivilDate, basis: String, by user: UserContext) async throws -> Int {
        guard user.role == .administrator else { throw FieldErrors(errors: [FieldError("name_ru", "read_only")]) }
        let kk = nameKk.trimmingCharacters(in: .whitespaces), ru = nameRu.trimmingCharacters(in: .whitespaces), why = basis.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        let district = try await DistrictRecord.find(districtID, on: store.db)
        if district == nil { errors.append(FieldError("district_id", "choose_from_list")) }
        if kk.isEmpty || kk.count > 200 { errors.append(FieldError("name_kk", "required")) }
        if ru.isEmpty || ru.count > 200 { errors.append(FieldError("name_ru", "required")) }
        if why.isEmpty || why.count > 300 { errors.append(FieldError("basis", "required")) }
        guard errors.isEmpty, let d = district else { throw FieldErrors(errors: errors) }
        return try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            guard let row = try await ctx.sql.insert(into: "settlements").columns("region_iso", "district_id", "name_kk", "name_ru", "potential", "listed_from", "basis")
                .values(SQLBind(d.regionISO), SQLBind(districtID), SQLBind(kk), SQLBind(ru), SQLBind(potential.rawValue), SQLBind(listedFrom.iso), SQLBind(why))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("settlement not created") }
            try ctx.audit("create", entity: "settlement", id: String(row.id), after: SettlementSnapshot(region_iso: d.regionISO, district_id: districtID, name_ru: ru, potential: potential.rawValue, listed_from: listedFrom.iso, listed_to: nil, basis: why))
            return row.id
        }
    }

    /// Takes a settlement off its list from a date (the list keeps its history).
    public func delist(settlement id: Int, on date: CivilDate, by user: UserContext) async throws {
        guard user.role == .administrator else { throw FieldErrors(errors: [FieldError("listed_to", "read_only")]) }
        guard let s = try await settlement(id) else { throw StoreError.notFound }
        guard s.listed_to == nil else { throw FieldErrors(errors: [FieldError("listed_to", "already_recorded")]) }
        guard let from = CivilDate(iso: s.listed_from), date > from else { throw FieldErrors(errors: [FieldError("listed_to", "end_before_start")]) }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.update("settlements").set("listed_to", to: SQLBind(date.iso)).where("id", .equal, SQLBind(id)).run()
            try ctx.audit("delist", entity: "settlement", id: String(id),
                          before: SettlementSnapshot(region_iso: s.region_iso, district_id: s.district_id, name_ru: s.name_ru, potential: s.potential, listed_from: s.listed_from, listed_to: nil, basis: s.basis),
                          after: SettlementSnapshot(region_iso: s.region_iso, district_id: s.district_id, name_ru: s.name_ru, potential: s.potential, listed_from: s.listed_from, listed_to: date.iso, basis: s.basis))
        }
    }

    public func settlement(_ id: Int) async throws -> SettlementRow? {
        try await store.sql.select().column("*").from("settlements").where("id", .equal, SQLBind(id)).first(decoding: SettlementRow.self)
    }

    /// The lists (all regions, or one), by region and name.
    public func settlements(region: String? = nil) async throws -> [SettlementRow] {
        var q = store.sql.select().column("*").from("settlements")
        if let region { q = q.where("region_iso", .equal, SQLBind(region)) }
        return try await q.orderBy("region_iso").orderBy("potential").orderBy("name_ru").limit(5000).all(decoding: SettlementRow.self)
    }

    // MARK: applications

    public func relocation(_ applicationID: Int, scope: Scope) async throws -> RelocationRow? {
        let q = store.sql.select().column("*").from(SQLAlias(SQLIdentifier("relocation_applications"), as: SQLIdentifier("r")))
            .where(SQLColumn("application_id", table: "r"), .equal, SQLBind(applicationID))
        return try await Registry.restrict(q, scope: scope, table: "r").first(decoding: RelocationRow.self)
    }

    func moveFacts(_ r: RelocationRow, on date: CivilDate) async throws -> MoveFacts {
        let origin = try await settlement(r.origin_id), destination = try await settlement(r.destination_id)
        return MoveFacts(move: r.moveValue, skillsMatch: r.skills_match,
                         originLowPotential: origin.map { $0.potential == SettlementPotential.low.rawValue && $0.listed(on: date) } ?? false,
                         livedSince: r.lived_since.flatMap(CivilDate.init(iso:)),
                         destinationHighPotential: destination.map { $0.potential == SettlementPotential.high.rawValue && $0.listed(on: date) } ?? false,
                         employerRelocated: r.employer_relocated, employmentAtDestination: r.employment_at_destination)
    }

    struct RelocationSnapshot: Encodable, Sendable { let application_id: Int; let origin_id: Int; let destination_id: Int; let move: String; let body: String; let family_size: Int }

    /// Takes a relocation application with the family members who move; the move's kind (D2) follows from the two
    /// settlements, eligibility from D1 with the explanation.
    public func apply(person personID: Int, _ input: RelocationInput, env: RulesEnvironment, by user: UserContext) async throws -> Int {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("origin_id", "read_only")]) }
        guard let p = try await cases.person(personID, scope: user.scope) else { throw StoreError.notFound }
        let today = store.today()
        let on = input.submittedOn ?? today
        var errors: [FieldError] = []
        if on > today { errors.append(FieldError("submitted_on", "date_future")) }
        if p.consent_on == nil { errors.append(FieldError("origin_id", "no_consent")) }
        let origin = try await settlement(input.originID), destination = try await settlement(input.destinationID)
        if origin == nil { errors.append(FieldError("origin_id", "choose_from_list")) }
        if destination == nil { errors.append(FieldError("destination_id", "choose_from_list")) }
        if let o = origin, let d = destination, o.id == d.id { errors.append(FieldError("destination_id", "same_settlement")) }
        if let l = input.livedSince, l > on { errors.append(FieldError("lived_since", "date_future")) }
        if input.employerRelocated {
            var employer: OrganisationRecord? = nil
            if let e = input.employerID { employer = try await OrganisationRecord.find(e, on: store.db) }
            if employer?.kind != OrganisationKind.contractor.rawValue { errors.append(FieldError("employer_id", "choose_from_list")) }
        }
        let household = try await cases.household(of: personID)
        let members = Array(Set(input.memberIDs)).sorted()
        if !members.allSatisfy({ id in household.contains { $0.id == id } }) { errors.append(FieldError("members", "choose_from_list")) }
        guard errors.isEmpty, let o = origin, let d = destination else { throw FieldErrors(errors: errors) }
        let move = Rules.move(from: (o.region_iso, o.district_id), to: (d.region_iso, d.district_id))
        let body = Rules.recommendingBody(move: move)
        let rules = env.context(on: on)
        let row = RelocationRow(application_id: 0, person_id: personID, region_iso: p.region_iso, district_id: p.district_id, origin_id: o.id, destination_id: d.id,
                                move: move.rawValue, body: body.rawValue, lived_since: input.livedSince?.iso, skills_match: input.skillsMatch, employer_relocated: input.employerRelocated,
                                employer_id: input.employerRelocated ? input.employerID : nil, employment_at_destination: input.employmentAtDestination,
                                members: members.map(String.init).joined(separator: ","), family_size: members.count + 1, subsidy: nil)
        let elig = try Rules.relocationEligibility(facts: try await cases.facts(p, on: on), move: try await moveFacts(row, on: on), rules)
        let due = try Rules.applicationDecisionDue(submittedOn: on, rules)
        let steps = elig.steps + [ExplanationStep(rule: "D2", text: "\(move.rawValue.replacingOccurrences(of: "_", with: " ")): recommended by the \(body.rawValue.replacingOccurrences(of: "_", with: " "))")] + due.steps
        return try await store.write(as: user.actor) { ctx in
            let id = try await cases.insertApplication(ctx, person: p, measure: .relocation, on: on, eligible: elig.value.eligible, reasons: elig.value.reasons,
                                                       priorities: elig.value.priorities, due: due.value, steps: steps)
            try await ctx.sql.insert(into: "relocation_applications")
                .columns("application_id", "person_id", "region_iso", "district_id", "origin_id", "destination_id", "move", "body", "lived_since", "skills_match",
                         "employer_relocated", "employer_id", "employment_at_destination", "members", "family_size")
                .values(SQLBind(id), SQLBind(personID), SQLBind(p.region_iso), SQLBind(p.district_id), SQLBind(o.id), SQLBind(d.id), SQLBind(move.rawValue), SQLBind(body.rawValue),
                        SQLBind(row.lived_since), SQLBind(row.skills_match), SQLBind(row.employer_relocated), SQLBind(row.employer_id), SQLBind(row.employment_at_destination),
                        SQLBind(row.members), SQLBind(row.family_size))
                .run()
            try ctx.audit("create", entity: "relocation_application", id: String(id), after: RelocationSnapshot(application_id: id, origin_id: o.id, destination_id: d.id, move: move.rawValue, body: body.rawValue, family_size: row.family_size))
            return id
        }
    }

    public func recommendations(of applicationID: Int) async throws -> [RecommendationRow] {
        try await store.sql.select().column("*").from("relocation_recommendations").where("application_id", .equal, SQLBind(applicationID)).orderBy("id").all(decoding: RecommendationRow.self)
    }

    struct RecommendationSnapshot: Encodable, Sendable { let application_id: Int; let body: String; let recommended: Bool; let on_date: String; let protocol_no: String }

    /// Records the recommendation of the body the move calls for (D2): the district or regional commission (entered
    /// by the centre from its protocol, or by a member of the region's commission), or the programme operator
    /// (the administrator) for a move to another region.
    public func recommend(application id: Int, recommended: Bool, on date: CivilDate, protocolNo: String, note: String, by user: UserContext) async throws {
        guard user.doesCasework || user.role == .commissionMember else { throw FieldErrors(errors: [FieldError("recommended", "read_only")]) }
        guard let app = try await cases.application(id, scope: user.scope), let r = try await relocation(id, scope: user.scope) else { throw StoreError.notFound }
        let body = RecommendingBody(rawValue: r.body) ?? .programmeOperator
        let number = protocolNo.trimmingCharacters(in: .whitespaces), text = note.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [FieldError] = []
        if body == .programmeOperator && user.role != .administrator { errors.append(FieldError("recommended", "operator_only")) }
        if ![.submitted, .underReview].contains(app.stateValue) { errors.append(FieldError("recommended", "already_decided")) }
        if date > store.today() { errors.append(FieldError("on_date", "date_future")) }
        if let s = CivilDate(iso: app.submitted_on), date < s { errors.append(FieldError("on_date", "before_application")) }
        if number.isEmpty || number.count > 100 { errors.append(FieldError("protocol", "required")) }
        if !recommended && text.isEmpty { errors.append(FieldError("note", "reason_required")) }
        if text.count > 2000 { errors.append(FieldError("note", "too_long")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.insert(into: "relocation_recommendations").columns("application_id", "body", "recommended", "on_date", "protocol", "note", "by_login")
                .values(SQLBind(id), SQLBind(body.rawValue), SQLBind(recommended), SQLBind(date.iso), SQLBind(number), SQLBind(text), SQLBind(user.login)).run()
            if app.stateValue == .submitted {
                try await ctx.sql.update("applications").set("state", to: SQLBind(ApplicationState.underReview.rawValue)).set("updated_at", to: SQLBind(AuditLog.timestamp(ctx.now)))
                    .where("id", .equal, SQLBind(id)).where("state", .equal, SQLBind(ApplicationState.submitted.rawValue)).run()
            }
            try ctx.audit("recommend", entity: "relocation_application", id: String(id), after: RecommendationSnapshot(application_id: id, body: body.rawValue, recommended: recommended, on_date: date.iso, protocol_no: number))
            try await cases.event(ctx, person: r.person_id, on: date, kind: "relocation_recommended", args: ["application": String(id), "commission": body.rawValue, "recommended": recommended ? "yes" : "no", "protocol": number])
        }
    }

    /// Before the centre includes: the latest recommendation of the right body is positive, and D1 holds on the date.
    func inclusionCheck(_ app: CaseStore.ApplicationRow, facts: PersonFacts, rules: RuleContext) async throws -> [ExplanationStep] {
        guard let r = try await relocation(app.id, scope: .national) else { throw FieldErrors(errors: [FieldError("action", "details_missing")]) }
        var errors: [FieldError] = []
        let latest = try await recommendations(of: app.id).last { $0.body == r.body }
        if latest == nil { errors.append(FieldError("action", "recommendation_missing", ["body": r.body])) }
        if latest?.recommended == false { errors.append(FieldError("action", "not_recommended")) }
        let e = try Rules.relocationEligibility(facts: facts, move: try await moveFacts(r, on: rules.date), rules)
        if !e.value.eligible { errors.append(FieldError("action", "not_eligible", ["reasons": e.value.reasons.joined(separator: ", ")])) }
        guard errors.isEmpty, let rec = latest else { throw FieldErrors(errors: errors) }
        return e.steps + [ExplanationStep(rule: "D2", text: "recommended by the \(r.body.replacingOccurrences(of: "_", with: " ")) on \(rec.on_date), protocol \(rec.protocol_no)")]
    }

    struct PaymentSnapshot: Encodable, Sendable { let application_id: Int; let kind: String; let month: String; let amount: String }

    /// On inclusion: the relocation subsidy at the decision date (D3) goes into the payment list of that month. It
    /// draws on the region's (and district's) limit of the Programme's direction 3 for the year; without the money
    /// the inclusion is refused.
    static func afterInclusion(_ ctx: WriteContext, applicationID: Int, on: CivilDate, rules: RuleContext) async throws -> [ExplanationStep] {
        guard let r = try await ctx.sql.select().column("*").from("relocation_applications").where("application_id", .equal, SQLBind(applicationID)).first(decoding: RelocationRow.self) else { return [] }
        let subsidy = try Rules.relocationSubsidy(move: r.moveValue, familyMembers: r.family_size - 1, rules)
        let month = String(format: "%04d-%02d", on.year, on.month)
        try await ctx.sql.insert(into: "payments").columns("person_id", "application_id", "region_iso", "district_id", "kind", "month", "decided_on", "amount", "explanation", "created_at")
            .values(SQLBind(r.person_id), SQLBind(applicationID), SQLBind(r.region_iso), SQLBind(r.district_id), SQLBind("relocation_subsidy"), SQLBind(month), SQLBind(on.iso),
                    SQLBind(subsidy.value.tiyn), SQLBind(try CaseStore.explanationJSON(subsidy.steps)), SQLBind(AuditLog.timestamp(ctx.now))).run()
        try await LimitStore.commit(ctx, year: on.year, direction: .programmeRelocation, region: r.region_iso, district: r.district_id, kind: .payment,
                                    reference: "relocation:\(applicationID)", amount: subsidy.value.tiyn, spent: subsidy.value.tiyn, on: on, field: "action")
        try await ctx.sql.update("relocation_applications").set("subsidy", to: SQLBind(subsidy.value.tiyn)).where("application_id", .equal, SQLBind(applicationID)).run()
        try ctx.audit("create", entity: "payment", id: "\(applicationID)/relocation_subsidy", after: PaymentSnapshot(application_id: applicationID, kind: "relocation_subsidy", month: month, amount: subsidy.value.decimalString))
        return subsidy.steps
    }

    /// The payment list of a month in scope.
    public func payments(month: String, scope: Scope) async throws -> [PaymentRow] {
        let q = Registry.restrict(store.sql.select().column("*").from(SQLAlias(SQLIdentifier("payments"), as: SQLIdentifier("y"))).where(SQLColumn("month", table: "y"), .equal, SQLBind(month)), scope: scope, table: "y")
        return try await q.orderBy(SQLColumn("id", table: "y")).limit(10_000).all(decoding: PaymentRow.self)
    }

    public func payment(forApplication id: Int) async throws -> PaymentRow? {
        try await store.sql.select().column("*").from("payments").where("application_id", .equal, SQLBind(id)).first(decoding: PaymentRow.self)
    }

    // MARK: service housing

    /// Who keeps the housing stock: the administrator, or a regional coordinator or akimat officer for their region.
    static func mayManageHousing(_ user: UserContext, region: String) -> Bool {
        switch user.role {
        case .administrator: return true
        case .regionalCoordinator, .akimatOfficer: return user.regionISO == region
        default: return false
        }
    }

    struct DwellingSnapshot: Encodable, Sendable { let address: String; let kind: String; let area: String; let rooms: Int; let cost_per_m2: String; let funded_by: String; let excess_paid_by: String? }

    public func addDwelling(_ d: DwellingInput, by user: UserContext) async throws -> Int {
        let address = d.address.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [FieldError] = []
        guard let district = try await DistrictRecord.find(d.districtID, on: store.db) else { throw FieldErrors(errors: [FieldError("district_id", "choose_from_list")]) }
        guard Self.mayManageHousing(user, region: district.regionISO) else { throw FieldErrors(errors: [FieldError("address", "read_only")]) }
        if address.isEmpty || address.count > 300 { errors.append(FieldError("address", "required")) }
        if d.area.units <= 0 || d.area > FixedDecimal(10_000) { errors.append(FieldError("area", "area_invalid")) }
        if !(1...20).contains(d.rooms) { errors.append(FieldError("rooms", "rooms_invalid")) }
        if d.costPerM2.tiyn <= 0 || d.costPerM2.tiyn > 1_000_000_000 { errors.append(FieldError("cost_per_m2", "amount_invalid")) }
        if let s = d.settlementID, try await settlement(s)?.district_id != d.districtID { errors.append(FieldError("settlement_id", "choose_from_list")) }
        if let e = d.employerID, try await OrganisationRecord.find(e, on: store.db)?.kind != OrganisationKind.contractor.rawValue { errors.append(FieldError("employer_id", "choose_from_list")) }
        if let c = d.cofinancingID {
            if let co = try await cofinancing(c), co.region_iso == district.regionISO, co.eligible {
                let funded = try await dwellings(region: district.regionISO).filter { $0.cofinancing_id == c }
                let employerSide = d.employerID != nil
                if funded.count >= co.dwellings { errors.append(FieldError("cofinancing_id", "cofinancing_full")) }
                else if employerSide && funded.filter({ $0.funded_by == "employer" }).count >= co.employer_dwellings { errors.append(FieldError("employer_id", "employer_share_used")) }
                else if !employerSide && funded.filter({ $0.funded_by == "state" }).count >= co.state_dwellings { errors.append(FieldError("cofinancing_id", "state_share_used")) }
                if employerSide && d.employerID != co.employer_id { errors.append(FieldError("employer_id", "choose_from_list")) }
            } else { errors.append(FieldError("cofinancing_id", "choose_from_list")) }
        }
        if let x = d.excessPaidBy, !["local_budget", "employer"].contains(x) { errors.append(FieldError("excess_paid_by", "choose_from_list")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let funded = d.employerID == nil ? "state" : "employer"
        let today = store.today()
        return try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            guard let row = try await ctx.sql.insert(into: "dwellings")
                .columns("region_iso", "district_id", "settlement_id", "address", "kind", "area", "rooms", "cost_per_m2", "funded_by", "employer_id", "cofinancing_id", "excess_paid_by", "created_on")
                .values(SQLBind(district.regionISO), SQLBind(d.districtID), SQLBind(d.settlementID), SQLBind(address), SQLBind(d.kind.rawValue), SQLBind(d.area.units), SQLBind(d.rooms),
                        SQLBind(d.costPerM2.tiyn), SQLBind(funded), SQLBind(d.employerID), SQLBind(d.cofinancingID), SQLBind(d.excessPaidBy), SQLBind(today.iso))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("dwelling not created") }
            try ctx.audit("create", entity: "dwelling", id: String(row.id), after: DwellingSnapshot(address: address, kind: d.kind.rawValue, area: d.area.description, rooms: d.rooms, cost_per_m2: d.costPerM2.decimalString, funded_by: funded, excess_paid_by: d.excessPaidBy))
            return row.id
        }
    }

    public func dwelling(_ id: Int) async throws -> DwellingRow? {
        try await store.sql.select().column("*").from("dwellings").where("id", .equal, SQLBind(id)).first(decoding: DwellingRow.self)
    }

    public func dwellings(region: String? = nil) async throws -> [DwellingRow] {
        var q = store.sql.select().column("*").from("dwellings")
        if let region { q = q.where("region_iso", .equal, SQLBind(region)) }
        return try await q.orderBy("id").limit(5000).all(decoding: DwellingRow.self)
    }

    /// The current allocation of each dwelling that has one.
    public func openAllocations(dwellings ids: [Int]) async throws -> [Int: AllocationRow] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await store.sql.select().column("*").from("dwelling_allocations").where("dwelling_id", .in, SQLBind.group(ids)).where("released_on", .is, SQLLiteral.null).all(decoding: AllocationRow.self)
        return Dictionary(rows.map { ($0.dwelling_id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func allocations(ofPerson personID: Int) async throws -> [AllocationRow] {
        try await store.sql.select().column("*").from("dwelling_allocations").where("person_id", .equal, SQLBind(personID)).orderBy("id", .descending).all(decoding: AllocationRow.self)
    }

    struct AllocationSnapshot: Encodable, Sendable { let dwelling_id: Int; let person_id: Int; let application_id: Int?; let family_size: Int; let allocated_on: String; let republican_cost: String; let excess: String }

    /// Gives a service dwelling to the family of an included relocation (D4), or a youth hostel room to a young
    /// person (D5). A dwelling holds one family at a time; a person holds one dwelling at a time.
    public func allocate(dwelling dwellingID: Int, person personID: Int, inHousingSavings: Bool = false, on date: CivilDate? = nil, env: RulesEnvironment, by user: UserContext) async throws -> Int {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("dwelling_id", "read_only")]) }
        guard let p = try await cases.person(personID, scope: user.scope) else { throw StoreError.notFound }
        guard let d = try await dwelling(dwellingID) else { throw FieldErrors(errors: [FieldError("dwelling_id", "choose_from_list")]) }
        let today = store.today()
        let on = date ?? today
        if on > today { throw FieldErrors(errors: [FieldError("allocated_on", "date_future")]) }
        let rules = env.context(on: on)
        guard let region = RegionCode(d.region_iso) else { throw FieldErrors(errors: [FieldError("dwelling_id", "choose_from_list")]) }
        var steps: [ExplanationStep] = []
        var applicationID: Int? = nil
        var familySize = 1
        var republican = Money.zero, excess = Money.zero
        if d.kind == DwellingKind.youthHostelRoom.rawValue {
            let running = try await cases.applications(of: personID).contains { $0.stateValue.isRunning }
            struct P: Decodable { let id: Int }
            let working = try await store.sql.select().column("id").from("placements").where("person_id", .equal, SQLBind(personID)).where("starts_on", .lessThanOrEqual, SQLBind(on.iso))
                .where(group: { $0.where("ends_on", .is, SQLLiteral.null).orWhere("ends_on", .greaterThanOrEqual, SQLBind(on.iso)) }).first(decoding: P.self) != nil
            let age = (CivilDate(iso: p.birth_date) ?? on).age(on: on)
            let e = try Rules.youthHostelEligible(age: age, hasContract: running || working, inHousingSavings: inHousingSavings, rules)
            steps = e.steps
            guard e.value.eligible else { throw FieldErrors(errors: [FieldError("dwelling_id", "hostel_not_eligible", ["reasons": e.value.reasons.joined(separator: ", ")])]) }
        } else {
            let app = try await cases.applications(of: personID).first { $0.measure == Measure.relocation.rawValue && [.included, .contractSigned, .active].contains($0.stateValue) }
            guard let app, let r = try await relocation(app.id, scope: .national) else { throw FieldErrors(errors: [FieldError("dwelling_id", "no_relocation")]) }
            applicationID = app.id
            familySize = r.family_size
            let check = try Rules.housingAllocationCheck(area: d.areaValue, costPerM2: Money(tiyn: d.cost_per_m2), familySize: familySize, region: region, excessCovered: d.excess_paid_by != nil, rules)
            steps = check.steps
            republican = check.value.republicanCost; excess = check.value.excess
            if !check.value.ok {
                throw FieldErrors(errors: check.value.reasons.map { reason in
                    reason == "area_over_norm"
                        ? FieldError("dwelling_id", "area_over_norm", ["area": d.areaValue.description, "max": check.value.maxArea.description, "family": String(familySize)])
                        : FieldError("dwelling_id", "cost_over_cap", ["excess": check.value.excess.decimalString])
                })
            }
        }
        let explanation = try CaseStore.explanationJSON(steps)
        let (app, size, rep, exc, explained) = (applicationID, familySize, republican, excess, steps)
        return try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            struct Busy: Decodable { let dwelling_id: Int; let person_id: Int }
            // One allocation of a dwelling, and of a person, at a time; the partial unique indexes stay as the last guard.
            try await ctx.serialize("dwelling:\(dwellingID)")
            try await ctx.serialize("housed:\(personID)")
            let busy = try await ctx.sql.select().columns("dwelling_id", "person_id").from("dwelling_allocations").where("released_on", .is, SQLLiteral.null)
                .where(group: { $0.where("dwelling_id", .equal, SQLBind(dwellingID)).orWhere("person_id", .equal, SQLBind(personID)) }).all(decoding: Busy.self)
            if busy.contains(where: { $0.dwelling_id == dwellingID }) { throw FieldErrors(errors: [FieldError("dwelling_id", "dwelling_taken")]) }
            if !busy.isEmpty { throw FieldErrors(errors: [FieldError("dwelling_id", "already_housed")]) }
            guard let row = try await ctx.sql.insert(into: "dwelling_allocations")
                .columns("dwelling_id", "person_id", "application_id", "region_iso", "district_id", "family_size", "allocated_on", "republican_cost", "excess", "explanation", "by_login")
                .values(SQLBind(dwellingID), SQLBind(personID), SQLBind(app), SQLBind(p.region_iso), SQLBind(p.district_id), SQLBind(size), SQLBind(on.iso), SQLBind(rep.tiyn), SQLBind(exc.tiyn), SQLBind(explanation), SQLBind(user.login))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("allocation not created") }
            try ctx.audit("create", entity: "dwelling_allocation", id: String(row.id), after: AllocationSnapshot(dwelling_id: dwellingID, person_id: personID, application_id: app, family_size: size, allocated_on: on.iso, republican_cost: rep.decimalString, excess: exc.decimalString))
            try await cases.event(ctx, person: personID, on: on, kind: "dwelling_allocated", args: ["dwelling": String(dwellingID), "address": d.address, "kind": d.kind], explanation: explained)
            return row.id
        }
    }

    public func release(allocation id: Int, on date: CivilDate, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("released_on", "read_only")]) }
        guard let a = try await store.sql.select().column("*").from("dwelling_allocations").where("id", .equal, SQLBind(id)).first(decoding: AllocationRow.self),
              try await cases.person(a.person_id, scope: user.scope) != nil else { throw StoreError.notFound }
        guard a.released_on == nil else { throw FieldErrors(errors: [FieldError("released_on", "already_recorded")]) }
        guard let from = CivilDate(iso: a.allocated_on), date >= from, date <= store.today() else { throw FieldErrors(errors: [FieldError("released_on", "date_invalid")]) }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.update("dwelling_allocations").set("released_on", to: SQLBind(date.iso)).where("id", .equal, SQLBind(id)).where("released_on", .is, SQLLiteral.null).run()
            try ctx.audit("release", entity: "dwelling_allocation", id: String(id), after: ["released_on": date.iso])
            try await cases.event(ctx, person: a.person_id, on: date, kind: "dwelling_released", args: ["dwelling": String(a.dwelling_id)])
        }
    }

    struct CofinancingSnapshot: Encodable, Sendable { let name: String; let employer_id: Int; let total_cost: String; let employer_cost: String; let dwellings: Int; let employer_dwellings: Int; let state_dwellings: Int; let eligible: Bool }

    /// An employer's co-financing of service housing (D6): eligible when the employer's share and dwellings reach
    /// the minimum; the dwellings are divided in proportion to the money. Recorded either way, with the explanation.
    public func addCofinancing(region: String, employerID: Int, name: String, totalCost: Money, employerCost: Money, dwellings: Int, on date: CivilDate, env: RulesEnvironment, by user: UserContext) async throws -> Int {
        guard Self.mayManageHousing(user, region: region) else { throw FieldErrors(errors: [FieldError("name", "read_only")]) }
        let title = name.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if RegionCode(region)?.isKnown != true { errors.append(FieldError("region_iso", "choose_from_list")) }
        if try await OrganisationRecord.find(employerID, on: store.db)?.kind != OrganisationKind.contractor.rawValue { errors.append(FieldError("employer_id", "choose_from_list")) }
        if title.isEmpty || title.count > 300 { errors.append(FieldError("name", "required")) }
        if totalCost.tiyn <= 0 || totalCost.tiyn > 1_000_000_000_000_00 { errors.append(FieldError("total_cost", "amount_invalid")) }
        if employerCost.tiyn < 0 || employerCost > totalCost { errors.append(FieldError("employer_cost", "amount_invalid")) }
        if !(1...10_000).contains(dwellings) { errors.append(FieldError("dwellings", "rooms_invalid")) }
        if date > store.today() { errors.append(FieldError("decided_on", "date_future")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let share = try Rules.employerHousingShare(totalCost: totalCost, employerCost: employerCost, dwellings: dwellings, env.context(on: date))
        let explanation = try CaseStore.explanationJSON(share.steps)
        return try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            guard let row = try await ctx.sql.insert(into: "housing_cofinancing")
                .columns("region_iso", "employer_id", "name", "total_cost", "employer_cost", "dwellings", "employer_dwellings", "state_dwellings", "eligible", "explanation", "decided_on")
                .values(SQLBind(region), SQLBind(employerID), SQLBind(title), SQLBind(totalCost.tiyn), SQLBind(employerCost.tiyn), SQLBind(dwellings),
                        SQLBind(share.value.employerDwellings), SQLBind(share.value.stateDwellings), SQLBind(share.value.eligible), SQLBind(explanation), SQLBind(date.iso))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("co-financing not created") }
            try ctx.audit("create", entity: "housing_cofinancing", id: String(row.id), after: CofinancingSnapshot(name: title, employer_id: employerID, total_cost: totalCost.decimalString, employer_cost: employerCost.decimalString,
                                                                                                                 dwellings: dwellings, employer_dwellings: share.value.employerDwellings, state_dwellings: share.value.stateDwellings, eligible: share.value.eligible))
            return row.id
        }
    }

    public func cofinancing(_ id: Int) async throws -> CofinancingRow? {
        try await store.sql.select().column("*").from("housing_cofinancing").where("id", .equal, SQLBind(id)).first(decoding: CofinancingRow.self)
    }
    public func cofinancings(region: String? = nil) async throws -> [CofinancingRow] {
        var q = store.sql.select().column("*").from("housing_cofinancing")
        if let region { q = q.where("region_iso", .equal, SQLBind(region)) }
        return try await q.orderBy("id").limit(1000).all(decoding: CofinancingRow.self)
    }
}
