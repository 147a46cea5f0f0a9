import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// What a caseworker, an employer or an agency enters for a vacancy.
public struct VacancyInput: Sendable {
    public var employerID: Int?, title: String, isco: String, districtID: Int?, wage: Money?, places: Int?, requirements: String?
    public var validFrom: CivilDate?, validUntil: CivilDate?
    /// A vacancy on an infrastructure project: hires on it count toward the project's quota (E4 during works, E5 after).
    public var projectID: Int?, projectPhase: ProjectPhase?
    public init(employerID: Int?, title: String, isco: String, districtID: Int?, wage: Money?, places: Int?, requirements: String?, validFrom: CivilDate?, validUntil: CivilDate?,
                projectID: Int? = nil, projectPhase: ProjectPhase? = nil) {
        self.employerID = employerID; self.title = title; self.isco = isco; self.districtID = districtID; self.wage = wage; self.places = places
        self.requirements = requirements; self.validFrom = validFrom; self.validUntil = validUntil; self.projectID = projectID; self.projectPhase = projectPhase
    }
}

/// The outcome of a referral.
public enum ReferralOutcome: Sendable {
    case hired(position: String, startsOn: CivilDate, endsOn: CivilDate?, wage: Money, subsidised: Measure?)
    case refusedByEmployer(reason: String)
    case noShow
}

/// Employers' vacancies, matching, referrals, hires and subsidised placements (RULES.md A4, B2, B3, G6).
public struct LabourStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }
    var cases: CaseStore { CaseStore(store: store) }

    public struct VacancyRow: Decodable, Sendable {
        public let id: Int; public let employer_id: Int; public let title: String; public let occupation_isco: String; public let region_iso: String
        public let district_id: Int; public let wage: Int64; public let places: Int; public let requirements: String?; public let valid_from: String
        public let valid_until: String; public let source: String; public let entered_by: String; public let state: String
        public let project_id: Int?; public let project_phase: String?
    }
    public struct ReferralRow: Decodable, Sendable {
        public let id: Int; public let number: String; public let person_id: Int; public let vacancy_id: Int; public let employer_id: Int
        public let region_iso: String; public let district_id: Int; public let referred_on: String; public let state: String; public let reason: String?; public let outcome_on: String?
    }
    public struct PlacementRow: Decodable, Sendable {
        public let id: Int; public let person_id: Int; public let employer_id: Int; public let measure: String; public let region_iso: String
        public let district_id: Int; public let starts_on: String; public let ends_on: String?; public let wage: Int64
    }

    // MARK: vacancies

    struct VacancySnapshot: Encodable, Sendable { let employer_id: Int; let title: String; let occupation_isco: String; let district_id: Int; let wage: String; let places: Int; let valid_until: String }

    /// A vacancy checked and ready to write (nothing is written); FieldErrors when anything is wrong.
    struct PreparedVacancy: Sendable {
        let employer: Int; let title: String; let isco: String; let district: DistrictRecord; let wage: Money; let places: Int; let requirements: String?
        let from: CivilDate; let until: CivilDate; let source: String; let login: String; let projectID: Int?; let phase: String?
    }

    public func createVacancy(_ v: VacancyInput, by user: UserContext) async throws -> Int {
        let p = try await prepareVacancy(v, by: user)
        return try await store.write(as: user.actor) { ctx in try await insertVacancy(ctx, p) }
    }

    func prepareVacancy(_ v: VacancyInput, by user: UserContext) async throws -> PreparedVacancy {
        guard user.canWrite, [.caseworker, .contractor, .administrator].contains(user.role) else { throw FieldErrors(errors: [FieldError("title", "read_only")]) }
        var errors: [FieldError] = []
        var employer = v.employerID
        if user.role == .contractor { employer = user.organisationID }
        var employerRecord: OrganisationRecord? = nil
        if let e = employer { employerRecord = try await OrganisationRecord.find(e, on: store.db) }
        if employerRecord == nil || employerRecord?.kind != OrganisationKind.contractor.rawValue { errors.append(FieldError("employer_id", "choose_from_list")) }
        let title = v.title.trimmingCharacters(in: .whitespaces)
        if title.isEmpty || title.count > 200 { errors.append(FieldError("title", "name_required")) }
        if !NeedsStore.validISCO(v.isco) { errors.append(FieldError("isco", "isco_invalid")) }
        if (v.wage?.tiyn ?? 0) <= 0 || (v.wage?.tiyn ?? 0) > AmountLimit.wage { errors.append(FieldError("wage", "amount_invalid")) }
        if !(1...10_000).contains(v.places ?? 0) { errors.append(FieldError("places", "places_invalid")) }
        if v.validFrom == nil { errors.append(FieldError("valid_from", "date_invalid")) }
        if v.validUntil == nil { errors.append(FieldError("valid_until", "date_invalid")) }
        if let f = v.validFrom, let u = v.validUntil, u < f { errors.append(FieldError("valid_until", "end_before_start")) }
        // The vacancy's district: the caseworker's own, else the one chosen (within the user's scope).
        var district: DistrictRecord?
        var project: ProjectStore.ProjectRow? = nil
        if let pid = v.projectID {
            // A project's vacancy is in the project's district, for one of its contractors, while the phase is open.
            project = try await ProjectStore(store: store).project(pid, for: user)
            if let p = project, let e = employer, let phase = v.projectPhase {
                let parties = try await ProjectStore(store: store).parties(of: p.id).map(\.organisation_id)
                if !parties.contains(e) { errors.append(FieldError("employer_id", "project_not_party")) }
                if !phase.open(p.stateValue) { errors.append(FieldError("project_id", "project_phase_closed")) }
                district = try await DistrictRecord.find(p.district_id, on: store.db)
            } else { errors.append(FieldError("project_id", "choose_from_list")) }
        } else {
            do { district = try await cases.district(for: user, requested: v.districtID, anyDistrict: user.role == .contractor) } catch let e as FieldErrors {
                errors += e.errors; district = nil
            }
        }
        guard errors.isEmpty, let district, let employer, let wage = v.wage, let places = v.places, let from = v.validFrom, let until = v.validUntil else { throw FieldErrors(errors: errors) }
        let source = user.role == .contractor ? "employer" : (user.role == .caseworker ? "caseworker" : "agency")
        return PreparedVacancy(employer: employer, title: title, isco: v.isco, district: district, wage: wage, places: places, requirements: v.requirements?.nilIfEmpty,
                               from: from, until: until, source: source, login: user.login, projectID: project?.id, phase: project == nil ? nil : v.projectPhase?.rawValue)
    }

    /// Writes a checked vacancy inside the caller's transaction; returns its id.
    func insertVacancy(_ ctx: WriteContext, _ p: PreparedVacancy, externalRef: String? = nil) async throws -> Int {
        struct R: Decodable { let id: Int }
        guard let row = try await ctx.sql.insert(into: "vacancies")
            .columns("employer_id", "title", "occupation_isco", "region_iso", "district_id", "wage", "places", "requirements", "valid_from", "valid_until", "source", "entered_by", "state",
                     "project_id", "project_phase", "external_ref")
            .values(SQLBind(p.employer), SQLBind(p.title), SQLBind(p.isco), SQLBind(p.district.regionISO), SQLBind(p.district.id!), SQLBind(p.wage.tiyn), SQLBind(p.places),
                    SQLBind(p.requirements), SQLBind(p.from.iso), SQLBind(p.until.iso), SQLBind(p.source), SQLBind(p.login), SQLBind("open"),
                    SQLBind(p.projectID), SQLBind(p.phase), SQLBind(externalRef))
            .returning("id").first(decoding: R.self) else { throw StoreError.conflict("vacancy not created") }
        try ctx.audit("create", entity: "vacancy", id: String(row.id), after: VacancySnapshot(employer_id: p.employer, title: p.title, occupation_isco: p.isco, district_id: p.district.id!,
                                                                                            wage: p.wage.decimalString, places: p.places, valid_until: p.until.iso))
        return row.id
    }

    /// Open vacancies, filtered; vacancies are public information, so no scope limits reading them.
    public func vacancies(region: String? = nil, district: Int? = nil, iscoPrefix: String? = nil, minWage: Money? = nil, on date: CivilDate, limit: Int = 100, after: Int? = nil) async throws -> [VacancyRow] {
        var q = store.sql.select().column("*").from("vacancies").where("state", .equal, SQLBind("open"))
            .where("valid_from", .lessThanOrEqual, SQLBind(date.iso)).where("valid_until", .greaterThanOrEqual, SQLBind(date.iso))
        if let region { q = q.where("region_iso", .equal, SQLBind(region)) }
        if let district { q = q.where("district_id", .equal, SQLBind(district)) }
        if let p = iscoPrefix?.filter(\.isNumber), !p.isEmpty { q = q.where("occupation_isco", .like, SQLBind(String(p.prefix(4)) + "%")) }
        if let minWage { q = q.where("wage", .greaterThanOrEqual, SQLBind(minWage.tiyn)) }
        if let after { q = q.where("id", .greaterThan, SQLBind(after)) }
        return try await q.orderBy("id").limit(limit).all(decoding: VacancyRow.self)
    }

    /// The vacancies opened on an infrastructure project.
    public func vacancies(forProject id: Int) async throws -> [VacancyRow] {
        try await store.sql.select().column("*").from("vacancies").where("project_id", .equal, SQLBind(id)).orderBy("id").all(decoding: VacancyRow.self)
    }

    public func vacancy(_ id: Int) async throws -> VacancyRow? {
        try await store.sql.select().column("*").from("vacancies").where("id", .equal, SQLBind(id)).first(decoding: VacancyRow.self)
    }

    // MARK: matching

    /// Job seekers for a vacancy, best first, with the reason for each place (A4 priorities, time registered).
    /// Reads only the seekers who share the vacancy's first ISCO digit, then ranks them with the matching index.
    public func candidates(for vacancyID: Int, scope: Scope, limit: Int = 20) async throws -> [(person: CaseStore.PersonRow, reason: MatchReason)] {
        guard let v = try await vacancy(vacancyID) else { return [] }
        // People already referred to this vacancy are listed under its referrals, not again among the candidates.
        struct P: Decodable { let person_id: Int }
        let referred = Set(try await store.sql.select().column("person_id").from("referrals").where("vacancy_id", .equal, SQLBind(vacancyID)).all(decoding: P.self).map(\.person_id))
        return try await candidates(isco: v.occupation_isco, districtID: v.district_id, regionISO: v.region_iso, scope: scope, limit: limit, excluding: referred)
    }

    /// Job seekers for a labour need given by occupation and place — a vacancy's, or a project's need for
    /// workers before any vacancy exists — best first, with the reason for each place.
    public func candidates(isco code: String, districtID: Int, regionISO: String, scope: Scope, limit: Int = 20, excluding: Set<Int> = []) async throws -> [(person: CaseStore.PersonRow, reason: MatchReason)] {
        guard code.count == 4, let isco = Int(code) else { return [] }
        let v = (occupation_isco: code, district_id: districtID, region_iso: regionISO)
        struct S: Decodable { let id: Int; let occupation_isco: String?; let district_id: Int; let region_iso: String; let birth_date: String; let sex: String; let is_rural: Bool; let created_at: Date }
        let today = cases.today()
        var q = store.sql.select().columns("id", "occupation_isco", "district_id", "region_iso", "birth_date", "sex", "is_rural", "created_at").from(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")))
            .where(SQLColumn("occupation_isco", table: "p"), .like, SQLBind(String(v.occupation_isco.prefix(1)) + "%"))
            .where(SQLColumn("consent_on", table: "p"), .isNot, SQLLiteral.null)
            .where(SQLRaw("EXISTS (SELECT 1 FROM person_categories c WHERE c.person_id = p.id AND c.category IN ('job_seeker', 'unemployed', 'released_worker', 'unpaid_leave', 'student', 'partially_employed') AND (c.to_date IS NULL OR c.to_date >= '\(today.iso)'))"))
        q = Registry.restrict(q, scope: scope, table: "p")
        let rows = try await q.limit(200_000).all(decoding: S.self)
        let regionNumber = { (iso: String) in Int(iso.suffix(2)) ?? 0 }
        let items = rows.map { r -> MatchItem in
            let birth = CivilDate(iso: r.birth_date) ?? today
            let youth = birth.age(on: today) <= 29
            let priorities = (r.is_rural && youth ? 1 : 0) + (r.is_rural && r.sex == "female" ? 1 : 0)
            let days = Int(store.now().timeIntervalSince(r.created_at) / 86400)
            return MatchItem(id: r.id, isco: r.occupation_isco.flatMap(Int.init), district: r.district_id, region: regionNumber(r.region_iso), rank: MatchIndex.seekerRank(priorities: priorities, daysRegistered: days))
        }
        let top = MatchIndex(items).top(for: MatchItem(id: 0, isco: isco, district: v.district_id, region: regionNumber(v.region_iso), rank: 0), limit: limit, excluding: excluding)
        let people = Dictionary(uniqueKeysWithValues: try await cases.persons(top.map(\.item.id), scope: scope).map { ($0.id, $0) })
        return top.compactMap { t in people[t.item.id].map { ($0, t.reason) } }
    }

    /// Open vacancies for a person, best first, with the reason for each place: occupation level, then the
    /// person's district, region, country, then the higher wage. Reads only vacancies sharing the first ISCO digit.
    public func vacancies(forPerson personID: Int, scope: Scope, limit: Int = 20) async throws -> [(vacancy: VacancyRow, reason: MatchReason)] {
        guard let p = try await cases.person(personID, scope: scope), let code = p.occupation_isco, let isco = Int(code) else { return [] }
        let today = cases.today()
        let regionNumber = { (iso: String) in Int(iso.suffix(2)) ?? 0 }
        // Vacancies the person was already referred to are not suggested again.
        let referred = Set(try await referrals(of: personID).map(\.vacancy_id))
        let target = MatchItem(id: 0, isco: isco, district: p.district_id, region: regionNumber(p.region_iso), rank: 0)
        // The occupation ranks first (A4): read the same occupation's open vacancies, and a wider ISCO group only when
        // the narrower one has fewer than asked for; only the columns the ranking needs, then the chosen rows whole.
        // The range on the code (not LIKE) uses the ISCO index on both databases.
        struct M: Decodable { let id: Int; let occupation_isco: String; let district_id: Int; let region_iso: String; let wage: Int64 }
        var top: [(item: MatchItem, reason: MatchReason)] = []
        for level in stride(from: min(4, code.count), through: 1, by: -1) {
            let prefix = String(code.prefix(level))
            let rows = try await store.sql.select().columns("id", "occupation_isco", "district_id", "region_iso", "wage").from("vacancies").where("state", .equal, SQLBind("open"))
                .where("valid_from", .lessThanOrEqual, SQLBind(today.iso)).where("valid_until", .greaterThanOrEqual, SQLBind(today.iso))
                .where("occupation_isco", .greaterThanOrEqual, SQLBind(prefix)).where("occupation_isco", .lessThan, SQLBind(prefix + ":"))
                .limit(200_000).all(decoding: M.self)
            let index = MatchIndex(rows.map { MatchItem(id: $0.id, isco: Int($0.occupation_isco), district: $0.district_id, region: regionNumber($0.region_iso), rank: $0.wage) })
            top = index.top(for: target, limit: limit, excluding: referred)
            if top.count >= limit { break }
        }
        guard !top.isEmpty else { return [] }
        let full = Dictionary(uniqueKeysWithValues: try await store.sql.select().column("*").from("vacancies").where("id", .in, SQLBind.group(top.map(\.item.id)))
            .all(decoding: VacancyRow.self).map { ($0.id, $0) })
        return top.compactMap { t in full[t.item.id].map { ($0, t.reason) } }
    }

    // MARK: referrals

    struct ReferralSnapshot: Encodable, Sendable { let number: String; let person_id: Int; let vacancy_id: Int; let state: String; let reason: String? }

    /// Refers a person to a vacancy's employer (the centre's жолдама); needs consent and an open vacancy.
    public func refer(person personID: Int, vacancy vacancyID: Int, by user: UserContext) async throws -> Int {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("vacancy", "read_only")]) }
        guard let p = try await cases.person(personID, scope: user.scope) else { throw StoreError.notFound }
        guard let v = try await vacancy(vacancyID) else { throw StoreError.notFound }
        guard p.consent_on != nil else { throw FieldErrors(errors: [FieldError("vacancy", "no_consent")]) }
        guard v.state == "open" else { throw FieldErrors(errors: [FieldError("vacancy", "vacancy_closed")]) }
        let today = cases.today()
        return try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            // One referral of a person to a vacancy at a time, even when asked twice at the same moment.
            try await ctx.serialize("referral:\(personID):\(vacancyID)")
            let existing = try await ctx.sql.select().column("id").from("referrals").where("person_id", .equal, SQLBind(personID)).where("vacancy_id", .equal, SQLBind(vacancyID))
                .where("state", .equal, SQLBind("issued")).first(decoding: R.self)
            if existing != nil { throw FieldErrors(errors: [FieldError("vacancy", "already_referred")]) }
            let tmp = "tmp-\(UUID().uuidString)"
            guard let row = try await ctx.sql.insert(into: "referrals")
                .columns("number", "person_id", "vacancy_id", "employer_id", "region_iso", "district_id", "referred_on", "state")
                .values(SQLBind(tmp), SQLBind(personID), SQLBind(vacancyID), SQLBind(v.employer_id), SQLBind(p.region_iso), SQLBind(p.district_id), SQLBind(today.iso), SQLBind("issued"))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("referral not created") }
            let number = "R-\(p.region_iso)-\(today.year)-\(String(format: "%06d", row.id))"
            try await ctx.sql.update("referrals").set("number", to: SQLBind(number)).where("id", .equal, SQLBind(row.id)).run()
            try ctx.audit("create", entity: "referral", id: String(row.id), after: ReferralSnapshot(number: number, person_id: personID, vacancy_id: vacancyID, state: "issued", reason: nil))
            try await cases.event(ctx, person: personID, on: today, kind: "referral", args: ["referral": String(row.id), "number": number, "vacancy": v.title, "isco": v.occupation_isco])
            return row.id
        }
    }

    public func referral(_ id: Int, scope: Scope) async throws -> ReferralRow? {
        let q = store.sql.select().column("*").from(SQLAlias(SQLIdentifier("referrals"), as: SQLIdentifier("r"))).where(SQLColumn("id", table: "r"), .equal, SQLBind(id))
        return try await Registry.restrict(q, scope: scope, table: "r").first(decoding: ReferralRow.self)
    }

    public struct LabourContractRow: Decodable, Sendable {
        public let id: Int; public let referral_id: Int?; public let person_id: Int; public let employer_id: Int; public let position: String
        public let starts_on: String; public let ends_on: String?; public let wage: Int64
    }

    /// The labour contract recorded for a hire on a referral.
    public func contract(forReferral id: Int) async throws -> LabourContractRow? {
        try await store.sql.select().column("*").from("labour_contracts").where("referral_id", .equal, SQLBind(id)).first(decoding: LabourContractRow.self)
    }

    public func referrals(of personID: Int) async throws -> [ReferralRow] {
        try await store.sql.select().column("*").from("referrals").where("person_id", .equal, SQLBind(personID)).orderBy("id", .descending).all(decoding: ReferralRow.self)
    }

    public func referrals(toVacancy id: Int, scope: Scope) async throws -> [ReferralRow] {
        try await Registry.restrict(store.sql.select().column("*").from(SQLAlias(SQLIdentifier("referrals"), as: SQLIdentifier("r")))
            .where(SQLColumn("vacancy_id", table: "r"), .equal, SQLBind(id)), scope: scope, table: "r").orderBy(SQLColumn("id", table: "r")).all(decoding: ReferralRow.self)
    }

    struct HireSnapshot: Encodable, Sendable { let referral_id: Int; let position: String; let starts_on: String; let ends_on: String?; let wage: String; let placement: String? }

    /// May this user record what came of this referral? The centre in its scope; an employer for its own referrals.
    func mayRecord(_ user: UserContext, _ r: ReferralRow) -> Bool {
        user.doesCasework || (user.role == .contractor && user.canWrite && user.organisationID == r.employer_id)
    }

    /// A referral readable by the user: in the centre's scope, or the employer's own.
    func referralFor(_ id: Int? = nil, number: String? = nil, user: UserContext) async throws -> ReferralRow? {
        var q = store.sql.select().column("*").from(SQLAlias(SQLIdentifier("referrals"), as: SQLIdentifier("r")))
        if let id { q = q.where(SQLColumn("id", table: "r"), .equal, SQLBind(id)) }
        if let number { q = q.where(SQLColumn("number", table: "r"), .equal, SQLBind(number)) }
        if user.role == .contractor { return try await q.where(SQLColumn("employer_id", table: "r"), .equal, SQLBind(user.organisationID ?? -1)).first(decoding: ReferralRow.self) }
        return try await Registry.restrict(q, scope: user.scope, table: "r").first(decoding: ReferralRow.self)
    }

    /// Checks an outcome for a referral by a user: an employer records hires, but only the centre decides a
    /// subsidised placement (B2, B3); a hire starts on or after the referral and within a year of it.
    static func validate(_ outcome: ReferralOutcome, referral r: ReferralRow, by user: UserContext) -> [FieldError] {
        var errors: [FieldError] = []
        switch outcome {
        case .hired(let position, let starts, let ends, let wage, let subsidised):
            if subsidised != nil && !user.doesCasework { errors.append(FieldError("subsidised", "subsidy_by_centre")) }
            if let referred = CivilDate(iso: r.referred_on), starts < referred || starts > referred.adding(months: 12) { errors.append(FieldError("starts_on", "hire_start_range", ["from": r.referred_on])) }
            if position.trimmingCharacters(in: .whitespaces).isEmpty || position.count > 200 { errors.append(FieldError("position", "name_required")) }
            if wage.tiyn <= 0 || wage.tiyn > AmountLimit.wage { errors.append(FieldError("wage", "amount_invalid")) }
            if let e = ends, e < starts { errors.append(FieldError("ends_on", "end_before_start")) }
            if let s = subsidised, s != .youthPractice && s != .socialJob { errors.append(FieldError("subsidised", "choose_from_list")) }
        case .refusedByEmployer(let reason):
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { errors.append(FieldError("reason", "note_required")) }
        case .noShow: break
        }
        return errors
    }

    /// Records what came of a referral; a hire records the labour contract and, when subsidised, the placement.
    public func recordOutcome(referral id: Int, _ outcome: ReferralOutcome, env: RulesEnvironment? = nil, by user: UserContext) async throws {
        guard user.doesCasework || user.role == .contractor else { throw FieldErrors(errors: [FieldError("outcome", "read_only")]) }
        guard let r = try await referralFor(id, user: user) else { throw StoreError.notFound }
        guard mayRecord(user, r) else { throw FieldErrors(errors: [FieldError("outcome", "read_only")]) }
        guard r.state == "issued" else { throw FieldErrors(errors: [FieldError("outcome", "referral_closed")]) }
        let errors = Self.validate(outcome, referral: r, by: user)
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let today = cases.today()
        let rules = try await projectRules(env, for: [r])
        try await store.write(as: user.actor) { ctx in try await apply(ctx, r, outcome, today: today, env: rules) }
    }

    /// One line of an employer's hires file, as read.
    public struct HireLine: Sendable, Equatable {
        public let line: Int; public let referral: String; public let position: String; public let startsOn: String; public let endsOn: String; public let wage: String; public let subsidised: String
    }

    /// Reads an employer's hires file (CSV, UTF-8, comma or semicolon separated, with a header naming the columns
    /// `referral_number, position, starts_on, ends_on, wage, subsidised`).
    public static func parseHires(_ text: String) throws -> [HireLine] {
        var rows = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let first = rows.first, first.hasPrefix("\u{FEFF}") { rows[0] = String(first.dropFirst()) }
        guard let header = rows.first else { throw FieldErrors(errors: [FieldError("file", "file_empty")]) }
        let sep: Character = header.contains(";") ? ";" : ","
        func cells(_ s: String) -> [String] {
            var out: [String] = [], cur = "", quoted = false
            let it = Array(s)
            var i = 0
            while i < it.count {
                let c = it[i]
                if quoted {
                    if c == "\"" { if i + 1 < it.count && it[i + 1] == "\"" { cur.append("\""); i += 1 } else { quoted = false } } else { cur.append(c) }
                } else if c == "\"" { quoted = true } else if c == sep { out.append(cur.trimmingCharacters(in: .whitespaces)); cur = "" } else { cur.append(c) }
                i += 1
            }
            out.append(cur.trimmingCharacters(in: .whitespaces))
            return out
        }
        let names = cells(header).map { $0.lowercased() }
        let wanted = ["referral_number", "position", "starts_on", "ends_on", "wage", "subsidised"]
        let missing = wanted.filter { !names.contains($0) }
        guard missing.isEmpty else { throw FieldErrors(errors: [FieldError("file", "file_columns", ["columns": missing.joined(separator: ", ")])]) }
        let col = Dictionary(uniqueKeysWithValues: wanted.map { w in (w, names.firstIndex(of: w)!) })
        var out: [HireLine] = []
        for (n, row) in rows.enumerated().dropFirst() where !row.trimmingCharacters(in: .whitespaces).isEmpty {
            let c = cells(row)
            func v(_ k: String) -> String { col[k]! < c.count ? c[col[k]!] : "" }
            out.append(HireLine(line: n + 1, referral: v("referral_number"), position: v("position"), startsOn: v("starts_on"), endsOn: v("ends_on"), wage: v("wage"), subsidised: v("subsidised")))
        }
        guard !out.isEmpty else { throw FieldErrors(errors: [FieldError("file", "file_empty")]) }
        guard out.count <= 5000 else { throw FieldErrors(errors: [FieldError("file", "file_too_long", ["max": "5000"])]) }
        return out
    }

    /// A hire's field problem as a problem of a file's line.
    static let lineCodes = ["position": "line_position", "wage": "line_wage", "ends_on": "line_ends_on", "subsidised": "line_subsidised", "starts_on": "line_starts_on"]

    /// Records the hires of an employer's file: every line is checked first, and either all are recorded in
    /// one transaction or none (the errors name the file's line).
    public func importHires(_ lines: [HireLine], env: RulesEnvironment? = nil, by user: UserContext) async throws -> Int {
        guard user.doesCasework || (user.role == .contractor && user.canWrite) else { throw FieldErrors(errors: [FieldError("file", "read_only")]) }
        var errors: [FieldError] = []
        var planned: [(ReferralRow, ReferralOutcome)] = []
        var seen = Set<String>()
        for l in lines {
            let at = ["line": String(l.line)]
            guard seen.insert(l.referral).inserted else { errors.append(FieldError("file", "line_duplicate_referral", at)); continue }
            guard let r = try await referralFor(number: l.referral, user: user), mayRecord(user, r) else { errors.append(FieldError("file", "line_referral_unknown", at)); continue }
            guard r.state == "issued" else { errors.append(FieldError("file", "line_referral_closed", at)); continue }
            let starts = CivilDate(iso: l.startsOn), ends = l.endsOn.isEmpty ? nil : CivilDate(iso: l.endsOn)
            let wage = TableFile.amount(l.wage)
            let measure: Measure?? = l.subsidised.isEmpty ? .some(nil) : Measure(rawValue: l.subsidised).map { .some($0) }
            if starts == nil { errors.append(FieldError("file", "line_date", at.merging(["column": "starts_on"]) { $1 })) }
            if !l.endsOn.isEmpty && ends == nil { errors.append(FieldError("file", "line_date", at.merging(["column": "ends_on"]) { $1 })) }
            if wage == nil { errors.append(FieldError("file", "line_amount", at)) }
            if measure == nil { errors.append(FieldError("file", "line_measure", at)) }
            guard let starts, let wage, let measure else { continue }
            let outcome = ReferralOutcome.hired(position: l.position, startsOn: starts, endsOn: ends, wage: wage, subsidised: measure)
            let problems = Self.validate(outcome, referral: r, by: user)
            if !problems.isEmpty { errors += problems.map { FieldError("file", Self.lineCodes[$0.field] ?? "line_invalid", at) }; continue }
            planned.append((r, outcome))
        }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let today = cases.today()
        let plan = planned
        let rules = try await projectRules(env, for: planned.map(\.0))
        try await store.write(as: user.actor) { ctx in
            for (r, o) in plan { try await apply(ctx, r, o, today: today, env: rules) }
        }
        return planned.count
    }

    /// The rules a hire on a project's vacancy is checked with (E6, E7); nil when none of the referrals is for a
    /// project. Callers without the web's rules service get the bundled parameters with the stored additions.
    func projectRules(_ env: RulesEnvironment?, for referrals: [ReferralRow]) async throws -> RulesEnvironment? {
        if let env { return env }
        guard !referrals.isEmpty else { return nil }
        struct N: Decodable { let n: Int }
        let n = try await store.sql.select().column(SQLRaw("COUNT(*)"), as: "n").from("vacancies").where("id", .in, SQLBind.group(referrals.map(\.vacancy_id)))
            .where("project_id", .isNot, SQLLiteral.null).first(decoding: N.self)?.n ?? 0
        guard n > 0 else { return nil }
        return try await RulesStore(store: store).environment(files: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
    }

    /// Writes an outcome inside a transaction, re-reading the referral's state under lock so that a concurrent
    /// outcome for the same referral (a double click, a file imported twice) wins once.
    func apply(_ ctx: WriteContext, _ r: ReferralRow, _ outcome: ReferralOutcome, today: CivilDate, env: RulesEnvironment?) async throws {
        let id = r.id
        struct St: Decodable { let state: String }
        var check = ctx.sql.select().column("state").from("referrals").where("id", .equal, SQLBind(id))
        if ctx.sql.dialect.name == "postgresql" { check = check.for(.update) }
        guard try await check.first(decoding: St.self)?.state == "issued" else { throw FieldErrors(errors: [FieldError("outcome", "referral_closed")]) }
        let state: String, reason: String?
        var args: [String: String] = ["referral": String(id), "number": r.number]
        switch outcome {
        case .hired(let position, let starts, let ends, let wage, let subsidised):
            state = "hired"; reason = nil
            struct R: Decodable { let id: Int }
            // One place of the vacancy is taken, if one is left (the row stays locked until the commit, so
            // simultaneous hires take the places one by one); the vacancy closes when none is left.
            guard try await ctx.sql.update("vacancies").set(SQLIdentifier("places"), to: SQLRaw("places - 1")).where("id", .equal, SQLBind(r.vacancy_id))
                .where("places", .greaterThan, SQLBind(0)).returning("id").first(decoding: R.self) != nil else {
                throw FieldErrors(errors: [FieldError("outcome", "vacancy_closed")])
            }
            try await ctx.sql.update("vacancies").set("state", to: SQLBind("filled")).where("id", .equal, SQLBind(r.vacancy_id)).where("places", .lessThanOrEqual, SQLBind(0)).run()
            guard let lc = try await ctx.sql.insert(into: "labour_contracts").columns("referral_id", "person_id", "employer_id", "position", "starts_on", "ends_on", "wage")
                .values(SQLBind(id), SQLBind(r.person_id), SQLBind(r.employer_id), SQLBind(position), SQLBind(starts.iso), SQLBind(ends?.iso), SQLBind(wage.tiyn))
                .returning("id").first(decoding: R.self) else { throw StoreError.conflict("contract not recorded") }
            try await ProjectStore.recordHire(ctx, referral: r, contractID: lc.id, startsOn: starts, wage: wage, env: env)
            if let m = subsidised {
                try await ctx.sql.insert(into: "placements").columns("person_id", "employer_id", "labour_contract_id", "measure", "region_iso", "district_id", "starts_on", "ends_on", "wage")
                    .values(SQLBind(r.person_id), SQLBind(r.employer_id), SQLBind(lc.id), SQLBind(m.rawValue), SQLBind(r.region_iso), SQLBind(r.district_id), SQLBind(starts.iso), SQLBind(ends?.iso), SQLBind(wage.tiyn)).run()
            }
            try ctx.audit("hire", entity: "referral", id: String(id), after: HireSnapshot(referral_id: id, position: position, starts_on: starts.iso, ends_on: ends?.iso, wage: wage.decimalString, placement: subsidised?.rawValue))
            args["position"] = position; args["starts"] = starts.iso; args["wage"] = wage.decimalString; args["measure"] = subsidised?.rawValue ?? ""
        case .refusedByEmployer(let text):
            state = "refused_by_employer"; reason = String(text.prefix(1000))
            args["reason_text"] = reason
        case .noShow:
            state = "no_show"; reason = nil
        }
        try await ctx.sql.update("referrals").set("state", to: SQLBind(state)).set("reason", to: SQLBind(reason)).set("outcome_on", to: SQLBind(today.iso)).where("id", .equal, SQLBind(id)).run()
        try ctx.audit("outcome", entity: "referral", id: String(id), before: ReferralSnapshot(number: r.number, person_id: r.person_id, vacancy_id: r.vacancy_id, state: r.state, reason: nil),
                      after: ReferralSnapshot(number: r.number, person_id: r.person_id, vacancy_id: r.vacancy_id, state: state, reason: reason))
        try await cases.event(ctx, person: r.person_id, on: today, kind: "referral_" + state, args: args)
    }

    struct PlacementSnapshot: Encodable, Sendable { let wage: String; let ends_on: String? }

    /// The person of a placement in the user's territory (nil when there is none there).
    public func placementPerson(_ id: Int, scope: Scope) async throws -> Int? {
        let q = store.sql.select().column(SQLColumn("person_id", table: "pl")).from(SQLAlias(SQLIdentifier("placements"), as: SQLIdentifier("pl"))).where(SQLColumn("id", table: "pl"), .equal, SQLBind(id))
        struct P: Decodable { let person_id: Int }
        return try await Registry.restrict(q, scope: scope, table: "pl").first(decoding: P.self)?.person_id
    }

    /// Changes a placement's wage or end (an amended labour contract); payroll lines already paid stay as they
    /// are — a correction run adds the difference.
    public func amendPlacement(_ id: Int, wage: Money, endsOn: CivilDate?, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("wage", "read_only")]) }
        let q = store.sql.select().column("*").from(SQLAlias(SQLIdentifier("placements"), as: SQLIdentifier("pl"))).where(SQLColumn("id", table: "pl"), .equal, SQLBind(id))
        guard let p = try await Registry.restrict(q, scope: user.scope, table: "pl").first(decoding: PlacementRow.self) else { throw StoreError.notFound }
        var errors: [FieldError] = []
        if wage.tiyn <= 0 || wage.tiyn > AmountLimit.wage { errors.append(FieldError("wage", "amount_invalid")) }
        if let e = endsOn, let s = CivilDate(iso: p.starts_on), e < s { errors.append(FieldError("ends_on", "end_before_start")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let today = cases.today()
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.update("placements").set("wage", to: SQLBind(wage.tiyn)).set("ends_on", to: SQLBind(endsOn?.iso)).where("id", .equal, SQLBind(id)).run()
            try ctx.audit("amend", entity: "placement", id: String(id), before: PlacementSnapshot(wage: Money(tiyn: p.wage).decimalString, ends_on: p.ends_on),
                          after: PlacementSnapshot(wage: wage.decimalString, ends_on: endsOn?.iso))
            try await cases.event(ctx, person: p.person_id, on: today, kind: "placement_amended", args: ["wage": wage.decimalString, "ends": endsOn?.iso ?? ""])
        }
    }

    public func placements(of personID: Int) async throws -> [PlacementRow] {
        try await store.sql.select().column("*").from("placements").where("person_id", .equal, SQLBind(personID)).orderBy("id").all(decoding: PlacementRow.self)
    }
}
