import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// What a provider (or the administrator for it) enters for a course.
public struct CourseInput: Sendable {
    public var providerID: Int?, titleKk: String, titleRu: String, titleEn: String, isco: String, months: Int?, cost: Money?
    public init(providerID: Int?, titleKk: String, titleRu: String, titleEn: String, isco: String, months: Int?, cost: Money?) {
        self.providerID = providerID; self.titleKk = titleKk; self.titleRu = titleRu; self.titleEn = titleEn; self.isco = isco; self.months = months; self.cost = cost
    }
}

/// Education providers' courses and the centre's training referrals (RULES.md B1, B4): a participant who cannot
/// be placed for lack of qualification is sent to train in a profession with demand (open vacancies or declared
/// needs, G6); on completion the person's occupation becomes the acquired one and placement follows.
public struct TrainingStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }
    var cases: CaseStore { CaseStore(store: store) }

    public struct TrainingRow: Decodable, Sendable {
        public let id: Int; public let number: String; public let person_id: Int; public let application_id: Int; public let course_id: Int
        public let region_iso: String; public let district_id: Int; public let referred_on: String; public let demand: String; public let state: String
        public let outcome_on: String?; public let note: String?
    }

    struct CourseSnapshot: Encodable, Sendable { let provider_id: Int; let title_ru: String; let occupation_isco: String; let months: Int; let cost: String }

    /// Adds a course to the published list: a provider's own staff for their organisation, the administrator for any provider.
    public func createCourse(_ c: CourseInput, by user: UserContext) async throws -> Int {
        guard user.canWrite, user.role == .administrator || user.role == .contractor else { throw FieldErrors(errors: [FieldError("title_ru", "read_only")]) }
        var errors: [FieldError] = []
        let providerID = user.role == .contractor ? user.organisationID : c.providerID
        var provider: OrganisationRecord? = nil
        if let providerID { provider = try await OrganisationRecord.find(providerID, on: store.db) }
        if provider?.kind != OrganisationKind.educationProvider.rawValue { errors.append(FieldError("provider_id", "choose_from_list")) }
        let titles = [("title_kk", c.titleKk), ("title_ru", c.titleRu), ("title_en", c.titleEn)].map { ($0.0, $0.1.trimmingCharacters(in: .whitespaces)) }
        for (field, t) in titles where t.isEmpty || t.count > 200 { errors.append(FieldError(field, "name_required")) }
        if !NeedsStore.validISCO(c.isco) { errors.append(FieldError("isco", "isco_invalid")) }
        if !(1...36).contains(c.months ?? 0) { errors.append(FieldError("months", "months_invalid")) }
        if (c.cost?.tiyn ?? -1) < 0 || (c.cost?.tiyn ?? 0) > AmountLimit.course { errors.append(FieldError("cost", "amount_invalid")) }
        guard errors.isEmpty, let providerID, let months = c.months, let cost = c.cost else { throw FieldErrors(errors: errors) }
        return try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            guard let row = try await ctx.sql.insert(into: "courses").columns("provider_id", "title_kk", "title_ru", "title_en", "occupation_isco", "months", "cost")
                .values(SQLBind(providerID), SQLBind(titles[0].1), SQLBind(titles[1].1), SQLBind(titles[2].1), SQLBind(c.isco), SQLBind(months), SQLBind(cost.tiyn))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("course not stored") }
            try ctx.audit("create", entity: "course", id: String(row.id), after: CourseSnapshot(provider_id: providerID, title_ru: titles[1].1, occupation_isco: c.isco, months: months, cost: cost.decimalString))
            return row.id
        }
    }

    public func course(_ id: Int) async throws -> PortalStore.CourseRow? {
        try await store.sql.select().column("*").from("courses").where("id", .equal, SQLBind(id)).first(decoding: PortalStore.CourseRow.self)
    }

    /// Open vacancies and declared needs for a profession in a region (B4's "professions in demand").
    public func demand(isco: String, region: String, on date: CivilDate) async throws -> (vacancies: Int, declared: Int) {
        struct C: Decodable { let n: Int? }
        let v = try await store.sql.select().column(SQLRaw("CAST(SUM(places) AS BIGINT)"), as: "n").from("vacancies")
            .where("state", .equal, SQLBind("open")).where("occupation_isco", .equal, SQLBind(isco)).where("region_iso", .equal, SQLBind(region))
            .where("valid_until", .greaterThanOrEqual, SQLBind(date.iso)).first(decoding: C.self)?.n ?? 0
        let d = try await NeedsStore(store: store).declared(isco: isco, region: region, fromYear: date.year)
        return (v, d)
    }

    struct TrainingSnapshot: Encodable, Sendable { let number: String; let person_id: Int; let course_id: Int; let state: String; let demand: String }

    /// Sends a participant with a signed training contract to a course in a profession with demand.
    public func refer(person personID: Int, course courseID: Int, by user: UserContext) async throws -> Int {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("course_id", "read_only")]) }
        guard let p = try await cases.person(personID, scope: user.scope) else { throw StoreError.notFound }
        guard let course = try await course(courseID) else { throw FieldErrors(errors: [FieldError("course_id", "choose_from_list")]) }
        guard p.consent_on != nil else { throw FieldErrors(errors: [FieldError("course_id", "no_consent")]) }
        let today = store.today()
        let app = try await cases.applications(of: personID).first { $0.measure == Measure.training.rawValue && ($0.state == ApplicationState.contractSigned.rawValue || $0.state == ApplicationState.active.rawValue) }
        guard let app else { throw FieldErrors(errors: [FieldError("course_id", "no_training_contract")]) }
        let demand = try await demand(isco: course.occupation_isco, region: p.region_iso, on: today)
        guard demand.vacancies + demand.declared > 0 else { throw FieldErrors(errors: [FieldError("course_id", "no_demand", ["isco": course.occupation_isco])]) }
        let demandText = "vacancies=\(demand.vacancies); declared=\(demand.declared)"
        return try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            // One training at a time (B4): the person's referrals are decided one by one.
            try await ctx.serialize("training:\(personID)")
            let check = ctx.sql.select().column("id").from("training_referrals").where("person_id", .equal, SQLBind(personID)).where("state", .equal, SQLBind("issued"))
            if try await check.first(decoding: R.self) != nil { throw FieldErrors(errors: [FieldError("course_id", "already_in_training")]) }
            guard let row = try await ctx.sql.insert(into: "training_referrals")
                .columns("number", "person_id", "application_id", "course_id", "region_iso", "district_id", "referred_on", "demand", "state")
                .values(SQLBind("tmp-\(UUID().uuidString)"), SQLBind(personID), SQLBind(app.id), SQLBind(courseID), SQLBind(p.region_iso), SQLBind(p.district_id), SQLBind(today.iso), SQLBind(demandText), SQLBind("issued"))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("training referral not created") }
            let number = "T-\(p.region_iso)-\(today.year)-\(String(format: "%06d", row.id))"
            try await ctx.sql.update("training_referrals").set("number", to: SQLBind(number)).where("id", .equal, SQLBind(row.id)).run()
            try ctx.audit("create", entity: "training_referral", id: String(row.id), after: TrainingSnapshot(number: number, person_id: personID, course_id: courseID, state: "issued", demand: demandText))
            try await cases.event(ctx, person: personID, on: today, kind: "training_referral", args: ["number": number, "course": course.title_ru, "isco": course.occupation_isco])
            return row.id
        }
    }

    public func referral(_ id: Int, scope: Scope) async throws -> TrainingRow? {
        let q = store.sql.select().column("*").from(SQLAlias(SQLIdentifier("training_referrals"), as: SQLIdentifier("t"))).where(SQLColumn("id", table: "t"), .equal, SQLBind(id))
        return try await Registry.restrict(q, scope: scope, table: "t").first(decoding: TrainingRow.self)
    }

    public func referrals(of personID: Int) async throws -> [TrainingRow] {
        try await store.sql.select().column("*").from("training_referrals").where("person_id", .equal, SQLBind(personID)).orderBy("id", .descending).all(decoding: TrainingRow.self)
    }

    /// Records the end of training: completed (the person's occupation becomes the course's, for placement in
    /// the acquired profession) or dropped out.
    public func recordOutcome(_ id: Int, completed: Bool, on date: CivilDate? = nil, note: String?, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("outcome", "read_only")]) }
        guard let t = try await referral(id, scope: user.scope) else { throw StoreError.notFound }
        guard t.state == "issued" else { throw FieldErrors(errors: [FieldError("outcome", "referral_closed")]) }
        let on = date ?? store.today()
        if let r = CivilDate(iso: t.referred_on), on < r { throw FieldErrors(errors: [FieldError("outcome_on", "end_before_start")]) }
        if on > store.today() { throw FieldErrors(errors: [FieldError("outcome_on", "date_future")]) }
        if !completed, (note ?? "").trimmingCharacters(in: .whitespaces).isEmpty { throw FieldErrors(errors: [FieldError("note", "note_required")]) }
        guard let course = try await course(t.course_id) else { throw StoreError.notFound }
        let state = completed ? "completed" : "dropped"
        try await store.write(as: user.actor) { ctx in
            struct St: Decodable { let state: String }
            var check = ctx.sql.select().column("state").from("training_referrals").where("id", .equal, SQLBind(id))
            if ctx.sql.dialect.name == "postgresql" { check = check.for(.update) }
            guard try await check.first(decoding: St.self)?.state == "issued" else { throw FieldErrors(errors: [FieldError("outcome", "referral_closed")]) }
            try await ctx.sql.update("training_referrals").set("state", to: SQLBind(state)).set("outcome_on", to: SQLBind(on.iso)).set("note", to: SQLBind(note?.nilIfEmpty.map { String($0.prefix(1000)) }))
                .where("id", .equal, SQLBind(id)).run()
            try ctx.audit("outcome", entity: "training_referral", id: String(id), before: TrainingSnapshot(number: t.number, person_id: t.person_id, course_id: t.course_id, state: t.state, demand: t.demand),
                          after: TrainingSnapshot(number: t.number, person_id: t.person_id, course_id: t.course_id, state: state, demand: t.demand))
            if completed {
                try await ctx.sql.update("persons").set("occupation_isco", to: SQLBind(course.occupation_isco)).where("id", .equal, SQLBind(t.person_id)).run()
                try ctx.audit("update", entity: "person", id: String(t.person_id), after: ["occupation_isco": course.occupation_isco])
            }
            try await cases.event(ctx, person: t.person_id, on: on, kind: "training_" + state, args: ["number": t.number, "course": course.title_ru, "isco": course.occupation_isco])
        }
    }

    /// The placement after training: the first labour contract that starts on or after the completion day.
    public func placementAfter(_ t: TrainingRow) async throws -> (position: String, startsOn: String)? {
        guard t.state == "completed", let done = t.outcome_on else { return nil }
        struct R: Decodable { let position: String; let starts_on: String }
        return try await store.sql.select().columns("position", "starts_on").from("labour_contracts").where("person_id", .equal, SQLBind(t.person_id))
            .where("starts_on", .greaterThanOrEqual, SQLBind(done)).orderBy("starts_on").first(decoding: R.self).map { ($0.position, $0.starts_on) }
    }
}
