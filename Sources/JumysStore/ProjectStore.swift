import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// What an akimat enters for an infrastructure project (E1, E2). The estimated cost is the sum of its sources.
public struct ProjectInput: Sendable {
    public var programme: ProjectProgramme, districtID: Int?, settlement: String, name: String
    public var objectType: ObjectType?, workType: WorkType?
    public var nationalFund: Money, republican: Money, localBudget: Money, cofinancing: Money, domesticCost: Money?
    public var designDocs: Bool, expertisePassed: Bool
    public var startsOn: CivilDate?, endsOn: CivilDate?
    public var jobsCreated: Int?, permanentJobs: Int?, averageWage: Money?
    public init(programme: ProjectProgramme, districtID: Int?, settlement: String, name: String, objectType: ObjectType?, workType: WorkType?,
                nationalFund: Money, republican: Money, localBudget: Money, cofinancing: Money, domesticCost: Money?, designDocs: Bool, expertisePassed: Bool,
                startsOn: CivilDate?, endsOn: CivilDate?, jobsCreated: Int?, permanentJobs: Int?, averageWage: Money?) {
        self.programme = programme; self.districtID = districtID; self.settlement = settlement; self.name = name; self.objectType = objectType; self.workType = workType
        self.nationalFund = nationalFund; self.republican = republican; self.localBudget = localBudget; self.cofinancing = cofinancing; self.domesticCost = domesticCost
        self.designDocs = designDocs; self.expertisePassed = expertisePassed; self.startsOn = startsOn; self.endsOn = endsOn
        self.jobsCreated = jobsCreated; self.permanentJobs = permanentJobs; self.averageWage = averageWage
    }
    public var total: Money { Money(tiyn: nationalFund.tiyn + republican.tiyn + localBudget.tiyn + cofinancing.tiyn) }
}

/// What a body gives with a step: the date and its decision (protocol number), and what the step needs.
public struct StepInput: Sendable {
    public var on: CivilDate?, decision: String, note: String
    public var referralQuota: Int?, replacementID: Int?, finalCost: Money?
    /// For `amend`: new figures (nil keeps the old one).
    public var jobsCreated: Int?, permanentJobs: Int?, endsOn: CivilDate?, republican: Money?, nationalFund: Money?
    public init(on: CivilDate? = nil, decision: String = "", note: String = "", referralQuota: Int? = nil, replacementID: Int? = nil, finalCost: Money? = nil,
                jobsCreated: Int? = nil, permanentJobs: Int? = nil, endsOn: CivilDate? = nil, republican: Money? = nil, nationalFund: Money? = nil) {
        self.on = on; self.decision = decision; self.note = note; self.referralQuota = referralQuota; self.replacementID = replacementID; self.finalCost = finalCost
        self.jobsCreated = jobsCreated; self.permanentJobs = permanentJobs; self.endsOn = endsOn; self.republican = republican; self.nationalFund = nationalFund
    }
}

/// An attempt by a user of another body or territory to act on a project; it was refused and audited.
public struct ProjectRefused: Error, Sendable, Equatable {
    public let step: String
    /// False when the user may not even see the project (answered as "not found").
    public let visible: Bool
}

/// Infrastructure projects (RULES.md E1–E11): the registry, the E2 selection pipeline with each body acting on its
/// own step, the E3 ranking, referral quotas (E4, E5, E10), contractors, and the funds approvals stay within.
public struct ProjectStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }
    var cases: CaseStore { CaseStore(store: store) }
    public func today() -> CivilDate { store.today() }

    public struct ProjectRow: Decodable, Sendable, Equatable {
        public let id: Int, number: String, programme: String, year: Int, region_iso: String, district_id: Int, settlement: String, name: String
        public let object_type: String, work_type: String, state: String
        public let cost_total: Int64, cost_national_fund: Int64, cost_republican: Int64, cost_local: Int64, cost_cofinancing: Int64, domestic_cost: Int64?
        public let design_docs: Bool, expertise_passed: Bool, starts_on: String, ends_on: String
        public let jobs_created: Int?, permanent_jobs: Int?, average_wage: Int64?, contractor_id: Int?
        public let referral_quota: Int?, permanent_quota: Int?, participant_max: Int?, quota_explanation: String?
        public let replaces_id: Int?, replaced_by_id: Int?, started_on: String?, completed_on: String?, final_cost: Int64?, version: Int
        public let created_by: String, created_at: String
        public var stateValue: ProjectState { ProjectState(rawValue: state) ?? .draft }
        public var programmeValue: ProjectProgramme { ProjectProgramme(rawValue: programme) ?? .roadmap }
    }
    public struct PartyRow: Decodable, Sendable { public let id: Int, project_id: Int, organisation_id: Int, role: String, jobs: Int }
    public struct StepRow: Decodable, Sendable {
        public let id: Int, project_id: Int, step: String, from_state: String, to_state: String, decided_on: String, decision: String, note: String
        public let details: String?, by_login: String, by_organisation_id: Int?, at: String
    }

    // MARK: who may see and who may act

    /// Projects a user may read: national bodies all, regional and district users their territory, a contractor the
    /// projects it works on, nobody else.
    func visible(_ q: SQLSelectBuilder, _ user: UserContext, table: String = "p") -> SQLSelectBuilder {
        switch user.scope {
        case .organisation(let org) where user.role == .contractor:
            return q.where(SQLColumn("id", table: table), .in, SQLSubquery.select { $0.column("project_id").from("project_parties").where("organisation_id", .equal, SQLBind(Int(org))) })
        default:
            return Registry.restrict(q, scope: user.scope, table: table)
        }
    }

    /// The E2 body a user acts for, from the role and the organisation.
    public func body(of user: UserContext) async throws -> ProjectBody? {
        guard user.canWrite else { return nil }
        var org: OrganisationRecord? = nil
        if let id = user.organisationID { org = try await OrganisationRecord.find(id, on: store.db) }
        switch user.role {
        case .akimatOfficer: return org?.kind == OrganisationKind.akimat.rawValue ? .akimat : nil
        case .regionalCoordinator: return user.regionISO != nil ? .coordinator : nil
        case .ministryOfficer: return org?.code == "ministry" ? .ministry : nil
        case .contractor: return org?.kind == OrganisationKind.contractor.rawValue ? .contractor : nil
        case .commissionMember:
            guard let org, org.kind == OrganisationKind.commission.rawValue else { return nil }
            if org.code == "working-group" { return .workingGroup }
            if org.code == "interagency-commission" { return .interagencyCommission }
            return org.regionISO != nil && org.regionISO == user.regionISO ? .regionalCommission : nil
        default: return nil
        }
    }

    /// The body a user acts for on this project: the user's body when its territory holds the project (a district
    /// akimat its district, a region's bodies their region, a contractor its own projects), else nil.
    public func body(of user: UserContext, on p: ProjectRow) async throws -> ProjectBody? {
        guard let body = try await self.body(of: user) else { return nil }
        let holds: Bool
        switch body {
        case .akimat: holds = user.districtID.map { $0 == p.district_id } ?? (user.regionISO == p.region_iso)
        case .coordinator, .regionalCommission: holds = user.regionISO == p.region_iso
        case .ministry, .workingGroup, .interagencyCommission: holds = true
        case .contractor: holds = user.organisationID == p.contractor_id
        }
        return holds ? body : nil
    }

    /// May this user act for `body` on this project?
    func may(_ user: UserContext, as body: ProjectBody, on p: ProjectRow) async throws -> Bool {
        try await self.body(of: user, on: p) == body
    }

    struct Refusal: Encodable, Sendable { let step: String; let state: String; let role: String }

    /// Writes the refused attempt to the audit log, then throws it.
    func refuse(_ user: UserContext, _ step: String, _ p: ProjectRow) async throws -> Never {
        let visible = try await project(p.id, for: user) != nil
        try await store.write(as: user.actor) { ctx in
            try ctx.audit("refused", entity: "project", id: String(p.id), after: Refusal(step: step, state: p.state, role: user.role.rawValue))
        }
        throw ProjectRefused(step: step, visible: visible)
    }

    // MARK: reading

    static let columns = "p.*"

    public func project(_ id: Int, for user: UserContext) async throws -> ProjectRow? {
        let q = store.sql.select().column(SQLColumn(SQLLiteral.all, table: SQLIdentifier("p"))).from(SQLAlias(SQLIdentifier("projects"), as: SQLIdentifier("p")))
            .where(SQLColumn("id", table: "p"), .equal, SQLBind(id))
        return try await visible(q, user).first(decoding: ProjectRow.self)
    }

    func row(_ id: Int, on sql: any SQLDatabase) async throws -> ProjectRow? {
        try await sql.select().column("*").from("projects").where("id", .equal, SQLBind(id)).first(decoding: ProjectRow.self)
    }

    /// A filter of the project list (every field optional).
    public struct Filter: Sendable {
        public var region: String?, district: Int?, state: ProjectState?, programme: ProjectProgramme?, year: Int?, states: [ProjectState]?
        public var ids: [Int]?
        public init(region: String? = nil, district: Int? = nil, state: ProjectState? = nil, programme: ProjectProgramme? = nil, year: Int? = nil, states: [ProjectState]? = nil, ids: [Int]? = nil) {
            self.region = region; self.district = district; self.state = state; self.programme = programme; self.year = year; self.states = states; self.ids = ids
        }
    }

    /// Projects the user may see, by id, after `cursor`.
    public func list(_ f: Filter, for user: UserContext, limit: Int = 200, after cursor: Int? = nil) async throws -> [ProjectRow] {
        var q = store.sql.select().column(SQLColumn(SQLLiteral.all, table: SQLIdentifier("p"))).from(SQLAlias(SQLIdentifier("projects"), as: SQLIdentifier("p")))
        q = visible(q, user)
        if let r = f.region { q = q.where(SQLColumn("region_iso", table: "p"), .equal, SQLBind(r)) }
        if let d = f.district { q = q.where(SQLColumn("district_id", table: "p"), .equal, SQLBind(d)) }
        if let s = f.state { q = q.where(SQLColumn("state", table: "p"), .equal, SQLBind(s.rawValue)) }
        if let ss = f.states {
            // No state asked for: nothing (PostgreSQL has no empty IN list).
            guard !ss.isEmpty else { return [] }
            q = q.where(SQLColumn("state", table: "p"), .in, SQLBind.group(ss.map(\.rawValue)))
        }
        if let p = f.programme { q = q.where(SQLColumn("programme", table: "p"), .equal, SQLBind(p.rawValue)) }
        if let y = f.year { q = q.where(SQLColumn("year", table: "p"), .equal, SQLBind(y)) }
        if let ids = f.ids { q = q.where(SQLColumn("id", table: "p"), .in, SQLBind.group(ids.isEmpty ? [-1] : ids)) }
        if let c = cursor { q = q.where(SQLColumn("id", table: "p"), .greaterThan, SQLBind(c)) }
        return try await q.orderBy(SQLColumn("id", table: "p")).limit(max(1, min(limit, 20_000))).all(decoding: ProjectRow.self)
    }

    public func parties(of id: Int) async throws -> [PartyRow] {
        try await store.sql.select().column("*").from("project_parties").where("project_id", .equal, SQLBind(id)).orderBy("id").all(decoding: PartyRow.self)
    }

    public func steps(of id: Int) async throws -> [StepRow] {
        try await store.sql.select().column("*").from("project_steps").where("project_id", .equal, SQLBind(id)).orderBy("id").all(decoding: StepRow.self)
    }

    // MARK: the registry

    struct ProjectSnapshot: Encodable, Sendable {
        let programme: String; let district_id: Int; let settlement: String; let name: String; let object_type: String; let work_type: String
        let cost_total: String; let starts_on: String; let ends_on: String; let jobs_created: Int?; let permanent_jobs: Int?; let average_wage: String?
        init(_ i: ProjectInput, district: Int) {
            programme = i.programme.rawValue; district_id = district; settlement = i.settlement; name = i.name; object_type = i.objectType?.rawValue ?? ""
            work_type = i.workType?.rawValue ?? ""; cost_total = i.total.decimalString; starts_on = i.startsOn?.iso ?? ""; ends_on = i.endsOn?.iso ?? ""
            jobs_created = i.jobsCreated; permanent_jobs = i.permanentJobs; average_wage = i.averageWage?.decimalString
        }
    }

    /// The figures a draft may be saved with: a draft may lack its jobs figures (E2 refuses it only when proposed).
    func validate(_ i: ProjectInput, user: UserContext) async throws -> (district: DistrictRecord, errors: [FieldError]) {
        var errors: [FieldError] = []
        var district: DistrictRecord? = nil
        if let id = i.districtID { district = try await DistrictRecord.find(id, on: store.db) }
        let inTerritory = district.map { d in user.districtID.map { $0 == d.id } ?? (user.regionISO == d.regionISO) } ?? false
        if district == nil || !inTerritory { errors.append(FieldError("district_id", "choose_from_list")) }
        let name = i.name.trimmingCharacters(in: .whitespaces), settlement = i.settlement.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 300 { errors.append(FieldError("name", "name_required")) }
        if settlement.isEmpty || settlement.count > 200 { errors.append(FieldError("settlement", "name_required")) }
        if i.objectType == nil { errors.append(FieldError("object_type", "choose_from_list")) }
        if i.workType == nil { errors.append(FieldError("work_type", "choose_from_list")) }
        for (f, m) in [("cost_national_fund", i.nationalFund), ("cost_republican", i.republican), ("cost_local", i.localBudget), ("cost_cofinancing", i.cofinancing)]
            where m.tiyn < 0 || m.tiyn > AmountLimit.project { errors.append(FieldError(f, "amount_invalid")) }
        if i.total.tiyn <= 0 { errors.append(FieldError("cost_republican", "project_cost_required")) }
        if let d = i.domesticCost, d.tiyn < 0 || d > i.total { errors.append(FieldError("domestic_cost", "project_domestic_cost")) }
        if i.startsOn == nil { errors.append(FieldError("starts_on", "date_invalid")) }
        if i.endsOn == nil { errors.append(FieldError("ends_on", "date_invalid")) }
        if let s = i.startsOn, let e = i.endsOn, e < s { errors.append(FieldError("ends_on", "end_before_start")) }
        if let j = i.jobsCreated, !(1...1_000_000).contains(j) { errors.append(FieldError("jobs_created", "project_jobs_invalid")) }
        if let j = i.permanentJobs, !(0...1_000_000).contains(j) { errors.append(FieldError("permanent_jobs", "project_jobs_invalid")) }
        if let w = i.averageWage, w.tiyn <= 0 || w.tiyn > AmountLimit.wage { errors.append(FieldError("average_wage", "amount_invalid")) }
        guard let district else { return (DistrictRecord(), errors) }
        return (district, errors)
    }

    /// An akimat records a project as a draft in its territory.
    public func create(_ i: ProjectInput, by user: UserContext) async throws -> Int {
        guard try await body(of: user) == .akimat else { throw FieldErrors(errors: [FieldError("name", "project_not_your_body")]) }
        let (district, errors) = try await validate(i, user: user)
        guard errors.isEmpty, district.id != nil, i.startsOn != nil, i.endsOn != nil else { throw FieldErrors(errors: errors) }
        return try await store.write(as: user.actor) { ctx in try await insert(ctx, i, district: district, user: user) }
    }

    /// Writes a checked draft inside the caller's transaction (with the sender's own reference, from an import).
    func insert(_ ctx: WriteContext, _ i: ProjectInput, district: DistrictRecord, user: UserContext, externalRef: String? = nil) async throws -> Int {
        guard let districtID = district.id, let starts = i.startsOn, let ends = i.endsOn else { throw StoreError.conflict("project not checked") }
        let region = district.regionISO
        struct R: Decodable { let id: Int }
        let tmp = "tmp-\(UUID().uuidString)"
        guard let row = try await ctx.sql.insert(into: "projects")
            .columns("number", "programme", "year", "region_iso", "district_id", "settlement", "name", "object_type", "work_type", "state",
                     "cost_total", "cost_national_fund", "cost_republican", "cost_local", "cost_cofinancing", "domestic_cost", "design_docs", "expertise_passed",
                     "starts_on", "ends_on", "jobs_created", "permanent_jobs", "average_wage", "version", "created_by", "created_at")
            .values(SQLBind(tmp), SQLBind(i.programme.rawValue), SQLBind(starts.year), SQLBind(region), SQLBind(districtID), SQLBind(i.settlement.trimmingCharacters(in: .whitespaces)),
                    SQLBind(i.name.trimmingCharacters(in: .whitespaces)), SQLBind(i.objectType!.rawValue), SQLBind(i.workType!.rawValue), SQLBind(ProjectState.draft.rawValue),
                    SQLBind(i.total.tiyn), SQLBind(i.nationalFund.tiyn), SQLBind(i.republican.tiyn), SQLBind(i.localBudget.tiyn), SQLBind(i.cofinancing.tiyn), SQLBind(i.domesticCost?.tiyn),
                    SQLBind(i.designDocs), SQLBind(i.expertisePassed), SQLBind(starts.iso), SQLBind(ends.iso), SQLBind(i.jobsCreated), SQLBind(i.permanentJobs), SQLBind(i.averageWage?.tiyn),
                    SQLBind(1), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now)))
            .returning("id").first(decoding: R.self) else { throw StoreError.conflict("project not created") }
        let number = "IP-\(region)-\(starts.year)-\(String(format: "%06d", row.id))"
        try await ctx.sql.update("projects").set("number", to: SQLBind(number)).set("external_ref", to: SQLBind(externalRef)).where("id", .equal, SQLBind(row.id)).run()
        try ctx.audit("create", entity: "project", id: String(row.id), after: ProjectSnapshot(i, district: districtID))
        return row.id
    }

    /// The akimat changes its draft (a project returned by the coordinator comes back as a draft).
    public func update(_ id: Int, _ i: ProjectInput, by user: UserContext) async throws {
        guard let p = try await row(id, on: store.sql) else { throw StoreError.notFound }
        guard try await may(user, as: .akimat, on: p) else { try await refuse(user, "edit", p) }
        guard p.stateValue == .draft else { throw FieldErrors(errors: [FieldError("name", "project_not_draft")]) }
        let (district, errors) = try await validate(i, user: user)
        guard errors.isEmpty, let districtID = district.id, let starts = i.startsOn, let ends = i.endsOn else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            let n = try await ctx.sql.update("projects")
                .set("programme", to: SQLBind(i.programme.rawValue)).set("year", to: SQLBind(starts.year)).set("region_iso", to: SQLBind(district.regionISO)).set("district_id", to: SQLBind(districtID))
                .set("settlement", to: SQLBind(i.settlement.trimmingCharacters(in: .whitespaces))).set("name", to: SQLBind(i.name.trimmingCharacters(in: .whitespaces)))
                .set("object_type", to: SQLBind(i.objectType!.rawValue)).set("work_type", to: SQLBind(i.workType!.rawValue))
                .set("cost_total", to: SQLBind(i.total.tiyn)).set("cost_national_fund", to: SQLBind(i.nationalFund.tiyn)).set("cost_republican", to: SQLBind(i.republican.tiyn))
                .set("cost_local", to: SQLBind(i.localBudget.tiyn)).set("cost_cofinancing", to: SQLBind(i.cofinancing.tiyn)).set("domestic_cost", to: SQLBind(i.domesticCost?.tiyn))
                .set("design_docs", to: SQLBind(i.designDocs)).set("expertise_passed", to: SQLBind(i.expertisePassed)).set("starts_on", to: SQLBind(starts.iso)).set("ends_on", to: SQLBind(ends.iso))
                .set("jobs_created", to: SQLBind(i.jobsCreated)).set("permanent_jobs", to: SQLBind(i.permanentJobs)).set("average_wage", to: SQLBind(i.averageWage?.tiyn))
                .set("version", to: SQLBind(p.version + 1))
                .where("id", .equal, SQLBind(id)).where("version", .equal, SQLBind(p.version)).where("state", .equal, SQLBind(ProjectState.draft.rawValue))
                .returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("name", "project_changed")]) }
            try ctx.audit("update", entity: "project", id: String(id), after: ProjectSnapshot(i, district: districtID))
        }
    }

    struct PartiesSnapshot: Encodable, Sendable { let contractor_id: Int; let jobs: Int; let subcontractors: [String: Int] }

    /// The akimat names the contractor and the subcontractors with the jobs each creates; every one of them is bound
    /// by the referral quota (E4). Their jobs may not add up to more than the project's.
    public func setParties(_ id: Int, contractorID: Int, contractorJobs: Int, subcontractors: [(organisation: Int, jobs: Int)], by user: UserContext) async throws {
        guard let p = try await row(id, on: store.sql) else { throw StoreError.notFound }
        guard try await may(user, as: .akimat, on: p) else { try await refuse(user, "parties", p) }
        guard ![.removed, .replaced, .regionalRejected, .completed].contains(p.stateValue) else { throw FieldErrors(errors: [FieldError("contractor_id", "project_step_not_allowed")]) }
        var errors: [FieldError] = []
        let ids = [contractorID] + subcontractors.map(\.organisation)
        let orgs = try await OrganisationRecord.query(on: store.db).filter(\.$id ~~ ids).all()
        let contractors = Set(orgs.filter { $0.kind == OrganisationKind.contractor.rawValue }.compactMap(\.id))
        if !contractors.contains(contractorID) { errors.append(FieldError("contractor_id", "choose_from_list")) }
        for s in subcontractors where !contractors.contains(s.organisation) || s.organisation == contractorID { errors.append(FieldError("subcontractors", "choose_from_list")) }
        if Set(subcontractors.map(\.organisation)).count != subcontractors.count { errors.append(FieldError("subcontractors", "choose_from_list")) }
        let jobs = contractorJobs + subcontractors.reduce(0) { $0 + $1.jobs }
        if contractorJobs < 0 || subcontractors.contains(where: { $0.jobs < 0 }) || jobs > (p.jobs_created ?? 0) {
            errors.append(FieldError("contractor_jobs", "project_party_jobs", ["jobs": String(p.jobs_created ?? 0)]))
        }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            // Hires already counted for a party keep it on the project.
            struct H: Decodable { let organisation_id: Int }
            let hired = Set(try await ctx.sql.select().column("organisation_id").from("project_hires").where("project_id", .equal, SQLBind(id)).all(decoding: H.self).map(\.organisation_id))
            if !hired.isSubset(of: Set(ids)) { throw FieldErrors(errors: [FieldError("subcontractors", "project_party_has_hires")]) }
            try await ctx.sql.delete(from: "project_parties").where("project_id", .equal, SQLBind(id)).run()
            for (org, role, n) in [(contractorID, "contractor", contractorJobs)] + subcontractors.map({ ($0.organisation, "subcontractor", $0.jobs) }) {
                try await ctx.sql.insert(into: "project_parties").columns("project_id", "organisation_id", "role", "jobs").values(SQLBind(id), SQLBind(org), SQLBind(role), SQLBind(n)).run()
            }
            try await ctx.sql.update("projects").set("contractor_id", to: SQLBind(contractorID)).set("version", to: SQLBind(p.version + 1)).where("id", .equal, SQLBind(id)).run()
            try ctx.audit("parties", entity: "project", id: String(id), after: PartiesSnapshot(contractor_id: contractorID, jobs: contractorJobs,
                                                                                                  subcontractors: Dictionary(uniqueKeysWithValues: subcontractors.map { (String($0.organisation), $0.jobs) })))
        }
    }

    // MARK: the pipeline (E2)

    /// E2: what a project lacks to be proposed: the jobs figures (a project without them is not considered), the
    /// design documents, the average wage, local content (E8) and, for Programme 2020 direction 4, co-financing (E10).
    public static func proposalProblems(_ p: ProjectRow, rules: RuleContext) throws -> [FieldError] {
        var errors: [FieldError] = []
        if p.jobs_created == nil { errors.append(FieldError("jobs_created", "project_jobs_required")) }
        if p.permanent_jobs == nil { errors.append(FieldError("permanent_jobs", "project_jobs_required")) }
        if p.average_wage == nil { errors.append(FieldError("average_wage", "project_wage_required")) }
        if !p.design_docs { errors.append(FieldError("design_docs", "project_design_docs_required")) }
        if let d = p.domestic_cost {
            if !(try Rules.localContentOK(totalCost: Money(tiyn: p.cost_total), domesticCost: Money(tiyn: d), rules).value.ok) {
                errors.append(FieldError("domestic_cost", "project_local_content", ["percent": (try? rules.p("local_content_min_percent").value.description) ?? "90"]))
            }
        } else { errors.append(FieldError("domestic_cost", "project_domestic_cost")) }
        if p.programmeValue == .programmeDirection4 {
            let c = try Rules.cofinancingOK(totalCost: Money(tiyn: p.cost_total), localBudget: Money(tiyn: p.cost_local), entrepreneurs: Money(tiyn: p.cost_cofinancing), rules)
            if !c.value.ok { errors.append(FieldError("cost_cofinancing", "project_cofinancing")) }
        }
        return errors
    }

    /// The quotas of a project as the regional commission sets them: E4 (Roadmap: at least 20 % of the jobs, the
    /// commission may ask more) or E10 (direction 4: at most 50 % of the jobs go to participants), and E5.
    public static func quotas(jobs: Int, permanentJobs: Int, programme: ProjectProgramme, asked: Int?, rules: RuleContext) throws -> (quota: Int, permanent: Int, participantMax: Int?, steps: [ExplanationStep], errors: [FieldError]) {
        let permanent = try Rules.referralQuotaPermanent(permanentJobs: permanentJobs, rules)
        var steps = permanent.steps
        var errors: [FieldError] = []
        let quota: Int
        var participantMax: Int? = nil
        switch programme {
        case .roadmap:
            let least = try Rules.referralQuotaWorks(jobsCreated: jobs, rules)
            steps = least.steps + steps
            quota = asked ?? least.value
            if quota < least.value || quota > jobs { errors.append(FieldError("referral_quota", "project_quota_range", ["min": String(least.value), "max": String(jobs)])) }
        case .programmeDirection4:
            let most = try Rules.ruralProjectParticipantJobs(jobsCreated: jobs, rules)
            steps = most.steps + steps
            participantMax = most.value
            quota = asked ?? most.value
            if quota < 1 || quota > most.value { errors.append(FieldError("referral_quota", "project_quota_range", ["min": "1", "max": String(most.value)])) }
        }
        steps.append(ExplanationStep(rule: programme == .roadmap ? "E4" : "E10", text: "quota set by the regional commission: \(quota) of \(jobs) jobs"))
        return (quota, permanent.value, participantMax, steps, errors)
    }

    struct StepSnapshot: Encodable, Sendable { let step: String; let from: String; let to: String; let decided_on: String; let decision: String; let details: [String: String] }

    /// Takes a step of the pipeline or the works for a project. Only the step's body may take it, on a project of
    /// its territory; anyone else is refused and the attempt audited. Returns the new state.
    @discardableResult
    public func act(_ id: Int, _ step: ProjectStep, _ input: StepInput, env: RulesEnvironment, by user: UserContext) async throws -> ProjectState {
        guard let p = try await row(id, on: store.sql) else { throw StoreError.notFound }
        guard try await may(user, as: step.body, on: p) else { try await refuse(user, step.rawValue, p) }
        guard step.from.contains(p.stateValue) else { throw FieldErrors(errors: [FieldError("step", "project_step_not_allowed", ["state": p.state])]) }
        let on = input.on ?? today()
        let rules = env.context(on: on)
        var errors: [FieldError] = []
        var details: [String: String] = [:]
        let decision = input.decision.trimmingCharacters(in: .whitespaces), note = input.note.trimmingCharacters(in: .whitespaces)
        if decision.count > 200 { errors.append(FieldError("decision", "name_required")) }
        if note.count > 2000 { errors.append(FieldError("note", "note_required")) }
        // Commissions decide by a protocol; their steps need its number.
        if [.regionalCommission, .workingGroup, .interagencyCommission].contains(step.body) && decision.isEmpty { errors.append(FieldError("decision", "project_decision_required")) }
        if on > today() { errors.append(FieldError("on", "date_future")) }
        var set: [(String, any Encodable & Sendable)] = []
        var replacement: ProjectRow? = nil
        var saving: Int64? = nil
        /// The limit share an amendment leaves the project with, and the final cost at completion (for the limits).
        var amendedShare: Int64? = nil, finalCost: Int64? = nil
        switch step {
        case .propose:
            errors += try Self.proposalProblems(p, rules: rules)
        case .returnToAkimat, .rejectRegional, .remove:
            if note.isEmpty { errors.append(FieldError("note", "note_required")) }
        case .approveRegional:
            guard let jobs = p.jobs_created, let perm = p.permanent_jobs else { errors.append(FieldError("referral_quota", "project_jobs_required")); break }
            guard let asked = input.referralQuota else { errors.append(FieldError("referral_quota", "project_quota_required")); break }
            let q = try Self.quotas(jobs: jobs, permanentJobs: perm, programme: p.programmeValue, asked: asked, rules: rules)
            errors += q.errors
            set += [("referral_quota", q.quota), ("permanent_quota", q.permanent), ("participant_max", q.participantMax), ("quota_explanation", try CaseStore.explanationJSON(q.steps))]
            details["referral_quota"] = String(q.quota); details["permanent_quota"] = String(q.permanent)
        case .replace:
            guard let rid = input.replacementID, rid != id, let r = try await row(rid, on: store.sql) else { errors.append(FieldError("replacement_id", "choose_from_list")); break }
            if r.stateValue != .consolidated || r.year != p.year || r.programme != p.programme { errors.append(FieldError("replacement_id", "project_replacement_invalid")) }
            replacement = r
            set.append(("replaced_by_id", rid))
            details["replacement"] = r.number
        case .approve, .add: break
        case .amend:
            let jobs = input.jobsCreated ?? p.jobs_created ?? 0, perm = input.permanentJobs ?? p.permanent_jobs ?? 0
            if !(1...1_000_000).contains(jobs) { errors.append(FieldError("jobs_created", "project_jobs_invalid")) }
            if !(0...1_000_000).contains(perm) { errors.append(FieldError("permanent_jobs", "project_jobs_invalid")) }
            let republican = input.republican ?? Money(tiyn: p.cost_republican), fund = input.nationalFund ?? Money(tiyn: p.cost_national_fund)
            for (f, m) in [("cost_republican", republican), ("cost_national_fund", fund)] where m.tiyn < 0 || m.tiyn > AmountLimit.project {
                errors.append(FieldError(f, "amount_invalid"))
            }
            let total = p.cost_total - p.cost_republican - p.cost_national_fund + republican.tiyn + fund.tiyn
            if total <= 0 { errors.append(FieldError("cost_republican", "project_cost_required")) }
            if let e = input.endsOn, e < (CivilDate(iso: p.starts_on) ?? e) { errors.append(FieldError("ends_on", "end_before_start")) }
            guard errors.isEmpty else { break }
            // An amended project keeps the commission's quota while it still fits the new jobs; otherwise the least quota
            // applies. A quota the commission asks for must fit.
            let kept = try Self.quotas(jobs: jobs, permanentJobs: perm, programme: p.programmeValue, asked: input.referralQuota ?? p.referral_quota, rules: rules)
            let checked = input.referralQuota == nil && !kept.errors.isEmpty
                ? try Self.quotas(jobs: jobs, permanentJobs: perm, programme: p.programmeValue, asked: nil, rules: rules) : kept
            errors += checked.errors
            amendedShare = Self.limitShare(nationalFund: fund.tiyn, republican: republican.tiyn)
            set += [("jobs_created", jobs), ("permanent_jobs", perm), ("cost_republican", republican.tiyn), ("cost_national_fund", fund.tiyn), ("cost_total", total),
                    ("referral_quota", checked.quota), ("permanent_quota", checked.permanent), ("participant_max", checked.participantMax),
                    ("quota_explanation", try CaseStore.explanationJSON(checked.steps))]
            if let e = input.endsOn { set.append(("ends_on", e.iso)) }
            details = ["jobs_created": "\(p.jobs_created ?? 0) → \(jobs)", "permanent_jobs": "\(p.permanent_jobs ?? 0) → \(perm)",
                       "cost_total": "\(Money(tiyn: p.cost_total).decimalString) → \(Money(tiyn: total).decimalString)", "referral_quota": "\(p.referral_quota ?? 0) → \(checked.quota)"]
            if let e = input.endsOn { details["ends_on"] = "\(p.ends_on) → \(e.iso)" }
        case .start:
            if p.contractor_id == nil { errors.append(FieldError("contractor_id", "project_contractor_required")) }
            set.append(("started_on", on.iso))
        case .complete:
            guard let final = input.finalCost, final.tiyn > 0, final.tiyn <= AmountLimit.project else { errors.append(FieldError("final_cost", "amount_invalid")); break }
            set += [("completed_on", on.iso), ("final_cost", final.tiyn)]
            finalCost = final.tiyn
            details["final_cost"] = final.decimalString
            // E11: money left over is a saving of the project, to be directed only through the working group and the commission.
            if final.tiyn < p.cost_total { saving = p.cost_total - final.tiyn; details["saving"] = Money(tiyn: p.cost_total - final.tiyn).decimalString }
        case .compile, .consolidate, .select: break
        }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let to = step.to(p.stateValue)
        let org = user.organisationID
        let changes = set, det = details, rep = replacement, savingAmount = saving, newShare = amendedShare, final = finalCost
        try await store.write(as: user.actor) { ctx in
            var u = ctx.sql.update("projects").set("state", to: SQLBind(to.rawValue)).set("version", to: SQLBind(p.version + 1))
            for (k, v) in changes { u = u.set(SQLIdentifier(k), to: SQLBind(v)) }
            let n = try await u.where("id", .equal, SQLBind(id)).where("version", .equal, SQLBind(p.version)).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("step", "project_changed")]) }
            try await record(ctx, project: id, step: step.rawValue, from: p.state, to: to.rawValue, on: on, decision: decision, note: note, details: det, org: org)
            if let r = rep {
                // The replacement is selected in the same decision and remembers what it replaced.
                let m = try await ctx.sql.update("projects").set("state", to: SQLBind(ProjectState.selected.rawValue)).set("replaces_id", to: SQLBind(id)).set("version", to: SQLBind(r.version + 1))
                    .where("id", .equal, SQLBind(r.id)).where("version", .equal, SQLBind(r.version)).where("state", .equal, SQLBind(ProjectState.consolidated.rawValue)).returning("id").all()
                guard m.count == 1 else { throw FieldErrors(errors: [FieldError("replacement_id", "project_changed")]) }
                try await record(ctx, project: r.id, step: "select", from: r.state, to: ProjectState.selected.rawValue, on: on, decision: decision, note: note, details: ["replaces": p.number], org: org)
            }
            // The approved project draws its republican money (National Fund transfers and the republican budget) on
            // the limit of its region and district (F1, F2); an amendment of an approved project draws or gives back
            // the difference. The limit's conditional update refuses the last money to all but one.
            let reference = "project:\(id)", direction = FundingDirection.of(p.programmeValue)
            if step == .approve || step == .add {
                let share = Self.limitShare(nationalFund: p.cost_national_fund, republican: p.cost_republican)
                if share > 0 {
                    try await LimitStore.commit(ctx, year: p.year, direction: direction, region: p.region_iso, district: p.district_id, kind: .project, reference: reference, amount: share, on: on)
                }
            } else if step == .amend, p.stateValue == .approved, let after = newShare {
                let before = try await LimitStore.commitments(ctx.sql, kind: .project, reference: reference).reduce(Int64(0)) { $0 + $1.amount }
                if after > before {
                    try await LimitStore.commit(ctx, year: p.year, direction: direction, region: p.region_iso, district: p.district_id, kind: .project, reference: reference, amount: after - before, on: on)
                } else if after < before {
                    try await LimitStore.release(ctx, kind: .project, reference: reference, amount: before - after, on: on, change: nil, reason: "amend")
                }
            } else if step == .complete, let final {
                // The republican money spent: its share of the final cost (the rest is the saving, returned to the
                // limit once the working group and the commission have decided on it, E11).
                let share = Self.limitShare(nationalFund: p.cost_national_fund, republican: p.cost_republican)
                let spent = p.cost_total > 0 ? Money(tiyn: share).multiplied(by: min(final, p.cost_total), dividedBy: p.cost_total, rounding: .halfUp).tiyn : 0
                try await LimitStore.spend(ctx, kind: .project, reference: reference, total: spent)
            }
            if let s = savingAmount {
                try await ctx.sql.insert(into: "project_savings").columns("project_id", "amount", "recorded_on", "state").values(SQLBind(id), SQLBind(s), SQLBind(on.iso), SQLBind("recorded")).run()
                try ctx.audit("create", entity: "project_saving", id: String(id), after: ["amount": Money(tiyn: s).decimalString])
            }
        }
        return to
    }

    func record(_ ctx: WriteContext, project id: Int, step: String, from: String, to: String, on: CivilDate, decision: String, note: String, details: [String: String], org: Int?) async throws {
        try await ctx.sql.insert(into: "project_steps").columns("project_id", "step", "from_state", "to_state", "decided_on", "decision", "note", "details", "by_login", "by_organisation_id", "at")
            .values(SQLBind(id), SQLBind(step), SQLBind(from), SQLBind(to), SQLBind(on.iso), SQLBind(decision), SQLBind(note),
                    SQLBind(details.isEmpty ? nil : try AuditLog.canonicalJSON(details)), SQLBind(ctx.actor.login), SQLBind(org), SQLBind(AuditLog.timestamp(ctx.now))).run()
        try ctx.audit(step, entity: "project", id: String(id), after: StepSnapshot(step: step, from: from, to: to, decided_on: on.iso, decision: decision, details: details))
    }

    /// The part of a project's money that draws on the programme's limits: the republican money (the National Fund
    /// transfers and the republican budget); the local budget and co-financing do not.
    static func limitShare(nationalFund: Int64, republican: Int64) -> Int64 { nationalFund + republican }

    // MARK: ranking (E3)

    /// The E3 ranking of a list of projects (those with jobs figures), with each criterion's points.
    public static func ranking(_ projects: [ProjectRow], rules: RuleContext) throws -> Explained<[Rules.PriorityScore]>? {
        let facts = projects.compactMap { p -> Rules.PriorityFacts? in
            guard let jobs = p.jobs_created, jobs >= 1, p.cost_total > 0, let s = CivilDate(iso: p.starts_on), let e = CivilDate(iso: p.ends_on) else { return nil }
            let planned = min(jobs, p.referral_quota ?? Self.leastQuota(jobs: jobs, programme: p.programmeValue, rules: rules))
            return Rules.PriorityFacts(id: String(p.id), cost: Money(tiyn: p.cost_total), jobs: jobs, permanentJobs: p.permanent_jobs ?? 0,
                                       durationMonths: Rules.durationMonths(from: s, to: e), plannedReferrals: planned)
        }
        guard !facts.isEmpty else { return nil }
        return try Rules.projectPriority(facts, rules)
    }

    /// Planned referrals before the commission sets the quota: the E4 least (or the E10 most for direction 4).
    static func leastQuota(jobs: Int, programme: ProjectProgramme, rules: RuleContext) -> Int {
        switch programme {
        case .roadmap: (try? Rules.referralQuotaWorks(jobsCreated: jobs, rules).value) ?? 0
        case .programmeDirection4: (try? Rules.ruralProjectParticipantJobs(jobsCreated: jobs, rules).value) ?? 0
        }
    }
}
