import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// A problem with one field of a form or request; the web layer translates `code` (error.field.CODE).
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let code: String
    public let args: [String: String]
    public init(_ field: String, _ code: String, _ args: [String: String] = [:]) { self.field = field; self.code = code; self.args = args }
    public var description: String { "\(field): \(code)" }
}

/// Several field problems found together (nothing was written).
public struct FieldErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [FieldError]
    public init(errors: [FieldError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "; ") }
}

/// The longest text any one field takes (a note, a reason, a vacancy's requirements): 10,000 characters, about four
/// pages. The web layer refuses longer text in a form or a JSON body before a handler reads it (`too_long`); an
/// import fails the row of a longer cell. Fields with a shorter limit of their own (names, addresses) check it too.
public enum TextLimit { public static let characters = 10_000 }

/// The years a limit, a credit, a plan or a report can be for (`year_invalid` outside them).
public enum ProgrammeYears { public static let range = 2011...2100 }

/// Amounts beyond which a typed figure is a slip of the keyboard, not a fact: refused (`amount_invalid`) rather
/// than stored and summed into payments and reports. In tiyn.
public enum AmountLimit {
    /// A monthly wage: 100 million tenge.
    public static let wage: Int64 = 10_000_000_000
    /// A training course's cost: 100 million tenge.
    public static let course: Int64 = 10_000_000_000
    /// A project's cost: 10 trillion tenge (the bound of the project's cost fields).
    public static let project: Int64 = 1_000_000_000_000_000
    /// The design documents and expertise of one participant's engineering infrastructure (C2 caps the works at 3 million
    /// tenge without them; the rule names no cap for them): 100 million tenge.
    public static let infrastructureDesign: Int64 = 10_000_000_000
}

/// What a caseworker enters to register a person.
public struct Registration: Sendable {
    public var iin: String, lastName: String, firstName: String, middleName: String?
    public var districtID: Int?, settlement: String?, rural: Bool
    public var phone: String?, email: String?, education: String?, occupationISCO: String?
    public var categories: [PersonCategory], categoriesFrom: CivilDate?
    public var consent: Bool, consentScope: String?
    public init(iin: String, lastName: String, firstName: String, middleName: String? = nil, districtID: Int? = nil, settlement: String? = nil, rural: Bool = false,
                phone: String? = nil, email: String? = nil, education: String? = nil, occupationISCO: String? = nil,
                categories: [PersonCategory] = [], categoriesFrom: CivilDate? = nil, consent: Bool, consentScope: String? = nil) {
        self.iin = iin; self.lastName = lastName; self.firstName = firstName; self.middleName = middleName; self.districtID = districtID
        self.settlement = settlement; self.rural = rural; self.phone = phone; self.email = email; self.education = education
        self.occupationISCO = occupationISCO; self.categories = categories; self.categoriesFrom = categoriesFrom; self.consent = consent; self.consentScope = consentScope
    }
}

/// Data for signing a social contract (A3); employer and provider join by written notice.
public struct ContractInput: Sendable {
    public var startsOn: CivilDate, endsOn: CivilDate
    public var employerID: Int?, providerID: Int?
    public var specialty: String?, practicePlace: String?, workOffMonths: Int?
    public var courseMonths: Int?, courseCost: Money?
    public init(startsOn: CivilDate, endsOn: CivilDate, employerID: Int? = nil, providerID: Int? = nil, specialty: String? = nil, practicePlace: String? = nil,
                workOffMonths: Int? = nil, courseMonths: Int? = nil, courseCost: Money? = nil) {
        self.startsOn = startsOn; self.endsOn = endsOn; self.employerID = employerID; self.providerID = providerID; self.specialty = specialty
        self.practicePlace = practicePlace; self.workOffMonths = workOffMonths; self.courseMonths = courseMonths; self.courseCost = courseCost
    }
}

/// Extra data some transitions need.
public enum TransitionInput: Sendable {
    case none
    case refusal(reason: RefusalReason, text: String)
    case contract(ContractInput)
    case termination(participantRefused: Bool, text: String)
}

/// An item of the caseworker's worklist.
public struct WorklistItem: Sendable, Equatable {
    public enum Kind: String, Sendable { case decision, contract, activation, monitoring, obligation, online }
    public let kind: Kind
    public let due: CivilDate
    public let personID: Int
    public let personName: String
    public let applicationID: Int?
    public let contractID: Int?
    public let detail: String
}

/// The employment centre's casework (RULES.md A1–A5, B1–B5): registry, applications, contracts, TSA link,
/// worklist and the person's timeline. Every query is limited to the caller's scope; every write is audited.
public struct CaseStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    /// Today in Kazakhstan (UTC+5 across the country since 2024).
    public func today() -> CivilDate { store.today() }

    // MARK: rows

    public struct PersonRow: Decodable, Sendable {
        public let id: Int; public let iin: String; public let last_name: String; public let first_name: String; public let middle_name: String?
        public let birth_date: String; public let sex: String; public let region_iso: String; public let district_id: Int
        public let settlement: String?; public let is_rural: Bool; public let phone: String?; public let email: String?
        public let education: String?; public let occupation_isco: String?; public let consent_on: String?; public let consent_scope: String?
        public let consent_by: String?; public let tsa_recipient: Bool?; public let tsa_suspended_on: String?
        public var fullName: String { [last_name, first_name, middle_name ?? ""].filter { !$0.isEmpty }.joined(separator: " ") }
    }
    public struct CategoryRow: Decodable, Sendable { public let id: Int; public let category: String; public let from_date: String; public let to_date: String? }
    public struct MemberRow: Decodable, Sendable {
        public let id: Int; public let full_name: String; public let relation: String; public let birth_date: String; public let sex: String
        public let disabled: Bool; public let ill: Bool
    }
    public struct ApplicationRow: Decodable, Sendable {
        public let id: Int; public let person_id: Int; public let region_iso: String; public let district_id: Int; public let measure: String
        public let state: String; public let submitted_on: String; public let decision_due: String; public let eligible: Bool
        public let priorities: String; public let eligibility: String; public let decided_on: String?; public let refusal_reason: String?
        public let refusal_text: String?; public let signing_due: String?; public let updated_at: String
        public var stateValue: ApplicationState { ApplicationState(rawValue: state) ?? .submitted }
        public var measureValue: Measure { Measure(rawValue: measure) ?? .training }
    }
    public struct ContractRow: Decodable, Sendable {
        public let id: Int; public let application_id: Int; public let person_id: Int; public let region_iso: String; public let district_id: Int
        public let number: String; public let signed_on: String; public let starts_on: String; public let ends_on: String
        public let employer_id: Int?; public let provider_id: Int?; public let employer_notice: String?; public let provider_notice: String?
        public let next_monitoring: String
    }
    public struct ObligationRow: Decodable, Sendable { public let id: Int; public let contract_id: Int; public let party: String; public let text: String; public let due_on: String; public let fulfilled_on: String? }
    public struct MonitoringRow: Decodable, Sendable { public let id: Int; public let visited_on: String; public let note: String; public let by_login: String }
    public struct BreachRow: Decodable, Sendable { public let id: Int; public let party: String; public let occurred_on: String; public let description: String; public let sanction: String }
    public struct SuspensionRow: Decodable, Sendable {
        public let id: Int; public let person_id: Int; public let suspended_on: String; public let event: String; public let contract_id: Int?
        public let explanation: String; public let resumed_on: String?
    }
    public struct EventRow: Decodable, Sendable { public let id: Int; public let at: String; public let on_date: String; public let kind: String; public let args: String; public let explanation: String?; public let actor: String }

    static let personColumns = ["id", "iin", "last_name", "first_name", "middle_name", "birth_date", "sex", "region_iso", "district_id", "settlement",
                                "is_rural", "phone", "email", "education", "occupation_isco", "consent_on", "consent_scope", "consent_by", "tsa_recipient", "tsa_suspended_on"]

    // MARK: reading (scoped)

    public func person(_ id: Int, scope: Scope, on db: (any SQLDatabase)? = nil) async throws -> PersonRow? {
        let q = (db ?? store.sql).select().columns(Self.personColumns.map { SQLColumn($0, table: "p") as any SQLExpression }).from(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")))
            .where(SQLColumn("id", table: "p"), .equal, SQLBind(id))
        return try await Registry.restrict(q, scope: scope, table: "p").first(decoding: PersonRow.self)
    }

    /// Several persons at once, in the scope (order not kept).
    public func persons(_ ids: [Int], scope: Scope) async throws -> [PersonRow] {
        guard !ids.isEmpty else { return [] }
        let q = store.sql.select().columns(Self.personColumns.map { SQLColumn($0, table: "p") as any SQLExpression }).from(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")))
            .where(SQLColumn("id", table: "p"), .in, SQLBind.group(ids))
        return try await Registry.restrict(q, scope: scope, table: "p").all(decoding: PersonRow.self)
    }

    /// The contracts of a person's applications, by application id.
    public func contractIDs(ofPerson personID: Int) async throws -> [Int: Int] {
        struct R: Decodable { let id: Int; let application_id: Int }
        let rows = try await store.sql.select().columns("id", "application_id").from("contracts").where("person_id", .equal, SQLBind(personID)).all(decoding: R.self)
        return Dictionary(rows.map { ($0.application_id, $0.id) }, uniquingKeysWith: { a, _ in a })
    }

    public func categories(of personID: Int) async throws -> [CategoryRow] {
        try await store.sql.select().columns("id", "category", "from_date", "to_date").from("person_categories").where("person_id", .equal, SQLBind(personID)).orderBy("id").all(decoding: CategoryRow.self)
    }

    public func household(of personID: Int) async throws -> [MemberRow] {
        try await store.sql.select().columns("id", "full_name", "relation", "birth_date", "sex", "disabled", "ill").from("household_members").where("person_id", .equal, SQLBind(personID)).orderBy("id").all(decoding: MemberRow.self)
    }

    public func applications(of personID: Int) async throws -> [ApplicationRow] {
        try await store.sql.select().column("*").from("applications").where("person_id", .equal, SQLBind(personID)).orderBy("id", .descending).all(decoding: ApplicationRow.self)
    }

    public func application(_ id: Int, scope: Scope, on db: (any SQLDatabase)? = nil, forUpdate: Bool = false) async throws -> ApplicationRow? {
        var q = (db ?? store.sql).select().column("*").from(SQLAlias(SQLIdentifier("applications"), as: SQLIdentifier("a"))).where(SQLColumn("id", table: "a"), .equal, SQLBind(id))
        q = Registry.restrict(q, scope: scope, table: "a")
        if forUpdate && store.isPostgres { q = q.for(.update) }
        return try await q.first(decoding: ApplicationRow.self)
    }

    /// Applications in the scope, by id, filtered by state, place and the day they were submitted (both ends included).
    public func applications(scope: Scope, states: [ApplicationState]? = nil, region: String? = nil, district: Int? = nil, submittedFrom: CivilDate? = nil,
                             submittedTo: CivilDate? = nil, limit: Int = 200, after: Int? = nil) async throws -> [ApplicationRow] {
        var q = Registry.restrict(store.sql.select().column("*").from(SQLAlias(SQLIdentifier("applications"), as: SQLIdentifier("a"))), scope: scope, table: "a")
        if let states { q = q.where(SQLColumn("state", table: "a"), .in, SQLBind.group(states.map(\.rawValue))) }
        if let region { q = q.where(SQLColumn("region_iso", table: "a"), .equal, SQLBind(region)) }
        if let district { q = q.where(SQLColumn("district_id", table: "a"), .equal, SQLBind(district)) }
        if let submittedFrom { q = q.where(SQLColumn("submitted_on", table: "a"), .greaterThanOrEqual, SQLBind(submittedFrom.iso)) }
        if let submittedTo { q = q.where(SQLColumn("submitted_on", table: "a"), .lessThanOrEqual, SQLBind(submittedTo.iso)) }
        if let after { q = q.where(SQLColumn("id", table: "a"), .greaterThan, SQLBind(after)) }
        return try await q.orderBy(SQLColumn("id", table: "a")).limit(limit).all(decoding: ApplicationRow.self)
    }

    public func contract(_ id: Int, scope: Scope) async throws -> ContractRow? {
        let q = store.sql.select().column("*").from(SQLAlias(SQLIdentifier("contracts"), as: SQLIdentifier("c"))).where(SQLColumn("id", table: "c"), .equal, SQLBind(id))
        return try await Registry.restrict(q, scope: scope, table: "c").first(decoding: ContractRow.self)
    }

    public func contract(forApplication id: Int) async throws -> ContractRow? {
        try await store.sql.select().column("*").from("contracts").where("application_id", .equal, SQLBind(id)).first(decoding: ContractRow.self)
    }

    public func obligations(of contractID: Int) async throws -> [ObligationRow] {
        try await store.sql.select().column("*").from("contract_obligations").where("contract_id", .equal, SQLBind(contractID)).orderBy("due_on").orderBy("id").all(decoding: ObligationRow.self)
    }
    public func monitoring(of contractID: Int) async throws -> [MonitoringRow] {
        try await store.sql.select().columns("id", "visited_on", "note", "by_login").from("contract_monitoring").where("contract_id", .equal, SQLBind(contractID)).orderBy("visited_on").all(decoding: MonitoringRow.self)
    }
    public func breaches(of contractID: Int) async throws -> [BreachRow] {
        try await store.sql.select().columns("id", "party", "occurred_on", "description", "sanction").from("contract_breaches").where("contract_id", .equal, SQLBind(contractID)).orderBy("occurred_on").all(decoding: BreachRow.self)
    }
    public func suspensions(of personID: Int) async throws -> [SuspensionRow] {
        try await store.sql.select().columns("id", "person_id", "suspended_on", "event", "contract_id", "explanation", "resumed_on").from("tsa_suspensions").where("person_id", .equal, SQLBind(personID)).orderBy("id", .descending).all(decoding: SuspensionRow.self)
    }

    /// The district's (or region's) TSA suspensions, newest first, with the person's name.
    public func suspensions(scope: Scope) async throws -> [(row: SuspensionRow, name: String)] {
        struct R: Decodable { let id: Int; let person_id: Int; let suspended_on: String; let event: String; let contract_id: Int?; let explanation: String; let resumed_on: String?; let last_name: String; let first_name: String }
        let q = Registry.restrict(store.sql.select()
            .columns(SQLColumn("id", table: "s"), SQLColumn("person_id", table: "s"), SQLColumn("suspended_on", table: "s"), SQLColumn("event", table: "s"),
                     SQLColumn("contract_id", table: "s"), SQLColumn("explanation", table: "s"), SQLColumn("resumed_on", table: "s"),
                     SQLColumn("last_name", table: "p"), SQLColumn("first_name", table: "p"))
            .from(SQLAlias(SQLIdentifier("tsa_suspensions"), as: SQLIdentifier("s")))
            .join(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")), on: SQLColumn("person_id", table: "s"), .equal, SQLColumn("id", table: "p")), scope: scope, table: "s")
        return try await q.orderBy(SQLOrderBy(expression: SQLColumn("id", table: "s"), direction: SQLDirection.descending)).limit(500).all(decoding: R.self).map {
            (SuspensionRow(id: $0.id, person_id: $0.person_id, suspended_on: $0.suspended_on, event: $0.event, contract_id: $0.contract_id, explanation: $0.explanation, resumed_on: $0.resumed_on),
             $0.last_name + " " + $0.first_name)
        }
    }

    public func timeline(of personID: Int) async throws -> [EventRow] {
        try await store.sql.select().column("*").from("person_events").where("person_id", .equal, SQLBind(personID)).orderBy("id", .descending).limit(500).all(decoding: EventRow.self)
    }

    /// What the rules need of a person on a date.
    public func facts(_ p: PersonRow, on date: CivilDate) async throws -> PersonFacts {
        let birth = CivilDate(iso: p.birth_date) ?? date
        let cats = try await categories(of: p.id).filter { c in
            guard let from = CivilDate(iso: c.from_date), from <= date else { return false }
            if let t = c.to_date, let to = CivilDate(iso: t), to < date { return false }
            return true
        }.compactMap { PersonCategory(rawValue: $0.category) }
        let members = try await household(of: p.id).compactMap { m -> PersonFacts.Member? in
            guard let b = CivilDate(iso: m.birth_date) else { return nil }
            return PersonFacts.Member(birthDate: b, sex: Sex(rawValue: m.sex) ?? .female, disabled: m.disabled, sociallySignificantIllness: m.ill)
        }
        return PersonFacts(birthDate: birth, sex: Sex(rawValue: p.sex) ?? .female, rural: p.is_rural, categories: Set(cats),
                           hasConsent: p.consent_on != nil, receivesTSA: p.tsa_recipient ?? false, household: members)
    }
}
