import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

struct CreatePortal: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("courses")
            .field("id", .int, .identifier(auto: true))
            .field("provider_id", .int, .required, .references("organisations", "id"))
            .field("title_kk", .string, .required)
            .field("title_ru", .string, .required)
            .field("title_en", .string, .required)
            .field("occupation_isco", .string, .required)
            .field("months", .int, .required)
            .field("cost", .int64, .required)
            .create()
        try await db.schema("online_applications")
            .field("id", .int, .identifier(auto: true))
            .field("iin", .string, .required)
            .field("last_name", .string, .required)
            .field("first_name", .string, .required)
            .field("phone", .string, .required)
            .field("email", .string)
            .field("region_iso", .string, .required)
            .field("district_id", .int, .required)
            .field("measure", .string, .required)
            .field("submitted_on", .string, .required)
            .field("due_on", .string, .required)
            .field("consent_scope", .string, .required)
            .field("person_id", .int)
            .field("processed_on", .string)
            .create()
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.create(index: "online_applications_district_idx").on("online_applications").column("district_id").column("processed_on").run()
    }
    func revert(on db: any Database) async throws {
        try await db.schema("online_applications").delete()
        try await db.schema("courses").delete()
    }
}

/// The public portal (EP2020 §8, the youth labour exchange): courses of education providers and applications
/// people send online, which land in their district centre's worklist.
public struct PortalStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    public struct CourseRow: Decodable, Sendable {
        public let id: Int; public let provider_id: Int; public let title_kk: String; public let title_ru: String; public let title_en: String
        public let occupation_isco: String; public let months: Int; public let cost: Int64
    }

    public struct OnlineRow: Decodable, Sendable {
        public let id: Int; public let iin: String; public let last_name: String; public let first_name: String; public let phone: String; public let email: String?
        public let region_iso: String; public let district_id: Int; public let measure: String; public let submitted_on: String; public let due_on: String
        public let consent_scope: String; public let person_id: Int?; public let processed_on: String?
    }

    public func courses() async throws -> [CourseRow] {
        try await store.sql.select().column("*").from("courses").orderBy("provider_id").orderBy("id").all(decoding: CourseRow.self)
    }

    /// The catalogue by id, a page after a cursor.
    public func courses(after: Int?, limit: Int) async throws -> [CourseRow] {
        var q = store.sql.select().column("*").from("courses")
        if let after { q = q.where("id", .greaterThan, SQLBind(after)) }
        return try await q.orderBy("id").limit(limit).all(decoding: CourseRow.self)
    }

    struct CourseSnapshot: Encodable, Sendable { let provider_id: Int; let title_ru: String; let occupation_isco: String; let months: Int; let cost: String }

    /// Demonstration courses of the demo provider (idempotent).
    public func loadDemoCourses() async throws {
        guard try await courses().isEmpty, let provider = try await OrganisationRecord.query(on: store.db).filter(\.$code == "provider.demo").first()?.id else { return }
        let rows: [(String, String, String, String, Int, Int64)] = [
            ("Кірпіш қалаушы", "Каменщик", "Bricklayer", "7112", 3, 180_000),
            ("Электр дәнекерлеуші", "Электросварщик", "Welder", "7212", 4, 240_000),
            ("Аспаз", "Повар", "Cook", "5120", 3, 150_000),
            ("Бухгалтер", "Бухгалтер", "Bookkeeper", "4311", 2, 120_000),
        ]
        try await store.write(as: .system) { ctx in
            for r in rows {
                try await ctx.sql.insert(into: "courses").columns("provider_id", "title_kk", "title_ru", "title_en", "occupation_isco", "months", "cost")
                    .values(SQLBind(provider), SQLBind(r.0), SQLBind(r.1), SQLBind(r.2), SQLBind(r.3), SQLBind(r.4), SQLBind(r.5 * 100)).run()
                try ctx.audit("create", entity: "course", id: r.3, after: CourseSnapshot(provider_id: provider, title_ru: r.1, occupation_isco: r.3, months: r.4, cost: Money(tenge: r.5).decimalString))
            }
        }
    }

    /// What a person sends from the portal.
    public struct Submission: Sendable {
        public var iin: String, lastName: String, firstName: String, phone: String, email: String?, districtID: Int?, measure: String?, consent: Bool
        public init(iin: String, lastName: String, firstName: String, phone: String, email: String?, districtID: Int?, measure: String?, consent: Bool) {
            self.iin = iin; self.lastName = lastName; self.firstName = firstName; self.phone = phone; self.email = email
            self.districtID = districtID; self.measure = measure; self.consent = consent
        }
    }

    struct OnlineSnapshot: Encodable, Sendable { let iin: String; let last_name: String; let first_name: String; let district_id: Int; let measure: String; let submitted_on: String }

    /// Validates and stores an online application; the decision is due like any other (A2).
    public func submit(_ s: Submission, env: RulesEnvironment) async throws -> Int {
        var errors: [FieldError] = []
        let today = CaseStore(store: store).today()
        var iin: IIN? = nil
        do { iin = try IIN(s.iin) } catch { errors.append(FieldError("iin", error == .notTwelveDigits ? "iin_shape" : "iin_invalid")) }
        if let i = iin, i.birthDate > today { errors.append(FieldError("iin", "birth_future")) }
        let last = s.lastName.trimmingCharacters(in: .whitespaces), first = s.firstName.trimmingCharacters(in: .whitespaces)
        if last.isEmpty || last.count > 100 { errors.append(FieldError("last_name", "name_required")) }
        if first.isEmpty || first.count > 100 { errors.append(FieldError("first_name", "name_required")) }
        if s.phone.filter(\.isNumber).count < 10 || s.phone.count > 25 { errors.append(FieldError("phone", "phone_invalid")) }
        if let e = s.email?.nilIfEmpty, !CaseStore.emailLooksValid(e) { errors.append(FieldError("email", "email_invalid")) }
        // A business or a move needs the centre's form with its details; online, only the other measures.
        let measure = s.measure.flatMap(Measure.init(rawValue:)).flatMap { $0.hasOwnForm ? nil : $0 }
        if measure == nil { errors.append(FieldError("measure", "choose_from_list")) }
        var district: DistrictRecord? = nil
        if let d = s.districtID { district = try await DistrictRecord.find(d, on: store.db) }
        if district == nil { errors.append(FieldError("district_id", "district_required")) }
        if !s.consent { errors.append(FieldError("consent", "consent_required")) }
        guard errors.isEmpty, let iin, let measure, let district else { throw FieldErrors(errors: errors) }
        let due = try Rules.applicationDecisionDue(submittedOn: today, env.context(on: today)).value
        let scope = "an online application to the employment centre and its consideration under the employment programmes"
        return try await store.write(as: Actor(userID: nil, login: "portal")) { ctx in
            struct R: Decodable { let id: Int }
            guard let row = try await ctx.sql.insert(into: "online_applications")
                .columns("iin", "last_name", "first_name", "phone", "email", "region_iso", "district_id", "measure", "submitted_on", "due_on", "consent_scope")
                .values(SQLBind(iin.value), SQLBind(last), SQLBind(first), SQLBind(s.phone.trimmingCharacters(in: .whitespaces)), SQLBind(s.email?.nilIfEmpty),
                        SQLBind(district.regionISO), SQLBind(district.id!), SQLBind(measure.rawValue), SQLBind(today.iso), SQLBind(due.iso), SQLBind(scope))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("not stored") }
            try ctx.audit("create", entity: "online_application", id: String(row.id), after: OnlineSnapshot(iin: iin.value, last_name: last, first_name: first, district_id: district.id!, measure: measure.rawValue, submitted_on: today.iso))
            return row.id
        }
    }

    /// Unprocessed online applications in the scope, oldest first.
    public func pending(scope: Scope, limit: Int = 200) async throws -> [OnlineRow] {
        let q = store.sql.select().column("*").from(SQLAlias(SQLIdentifier("online_applications"), as: SQLIdentifier("o")))
            .where(SQLColumn("processed_on", table: "o"), .is, SQLLiteral.null)
        return try await Registry.restrict(q, scope: scope, table: "o").orderBy(SQLColumn("id", table: "o")).limit(limit).all(decoding: OnlineRow.self)
    }

    public func online(_ id: Int, scope: Scope) async throws -> OnlineRow? {
        let q = store.sql.select().column("*").from(SQLAlias(SQLIdentifier("online_applications"), as: SQLIdentifier("o"))).where(SQLColumn("id", table: "o"), .equal, SQLBind(id))
        return try await Registry.restrict(q, scope: scope, table: "o").first(decoding: OnlineRow.self)
    }

    /// Takes an online application into the file of the person registered with its IIN: the application for the
    /// measure asked for, dated the day it was sent (its decision deadline runs from then). The online application
    /// is claimed first (a second click finds it taken); if the application cannot be created, the claim is
    /// released and the reason reported, so nothing is lost.
    public func takeIntoFile(_ id: Int, person: Int, env: RulesEnvironment, by user: UserContext) async throws -> Int {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("online", "read_only")]) }
        guard let o = try await online(id, scope: user.scope), o.processed_on == nil else { throw StoreError.notFound }
        guard let p = try await CaseStore(store: store).person(person, scope: user.scope) else { throw StoreError.notFound }
        guard p.iin == o.iin else { throw FieldErrors(errors: [FieldError("online", "online_other_person")]) }
        guard let measure = Measure(rawValue: o.measure), let sent = CivilDate(iso: o.submitted_on) else { throw StoreError.conflict("online application unreadable") }
        let today = CaseStore(store: store).today()
        let claimed: Bool = try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            let row = try await ctx.sql.update("online_applications").set("person_id", to: SQLBind(person)).set("processed_on", to: SQLBind(today.iso))
                .where("id", .equal, SQLBind(id)).where("processed_on", .is, SQLLiteral.null).returning("id").first(decoding: R.self)
            if row != nil { try ctx.audit("process", entity: "online_application", id: String(id), after: ProcessedSnapshot(person_id: person, processed_on: today.iso)) }
            return row != nil
        }
        guard claimed else { throw StoreError.notFound }
        do {
            return try await CaseStore(store: store).createApplication(person: person, measure: measure, submittedOn: sent, env: env, by: user)
        } catch {
            try await store.write(as: user.actor) { ctx in
                try await ctx.sql.update("online_applications").set("person_id", to: SQLBind(Int?.none)).set("processed_on", to: SQLBind(String?.none)).where("id", .equal, SQLBind(id)).run()
                try ctx.audit("release", entity: "online_application", id: String(id), after: ["reason": String(describing: error).prefix(200).description])
            }
            throw error
        }
    }

    struct ProcessedSnapshot: Encodable, Sendable { let person_id: Int; let processed_on: String }

    /// Marks an online application as taken into a registered person's file.
    public func markProcessed(_ id: Int, person: Int, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("online", "read_only")]) }
        guard try await online(id, scope: user.scope) != nil else { throw StoreError.notFound }
        let today = CaseStore(store: store).today()
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.update("online_applications").set("person_id", to: SQLBind(person)).set("processed_on", to: SQLBind(today.iso))
                .where("id", .equal, SQLBind(id)).where("processed_on", .is, SQLLiteral.null).run()
            try ctx.audit("process", entity: "online_application", id: String(id), after: ProcessedSnapshot(person_id: person, processed_on: today.iso))
        }
    }
}
