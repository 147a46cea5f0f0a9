import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// Vacancies from employers or an agency: `external_ref` (the sender's own number for the vacancy),
/// `employer_bin, title, isco, district, wage, places, valid_from, valid_until` required, `requirements` optional.
/// Each row goes through the same checks as the vacancy form; an employer's account imports its own vacancies
/// only. A vacancy whose employer already has one with the same reference is left as it is.
struct VacanciesImport: Importer {
    static let required = ["external_ref", "employer_bin", "title", "isco", "district", "wage", "places", "valid_from", "valid_until"]
    static let columns = required + ["requirements"]
    let store: Store
    /// The districts by KATO code, read once for the run.
    let byKATO: [String: DistrictRecord]
    var labour: LabourStore { LabourStore(store: store) }

    struct Item: Sendable { let vacancy: LabourStore.PreparedVacancy; let ref: String }

    func check(_ rows: [(number: Int, cells: [String])], table: TableFile, user: UserContext) async throws -> [RowOutcome<Item>] {
        let bins = Set(rows.map { table.cell($0.cells, "employer_bin") })
        let orgs = try await OrganisationRecord.query(on: store.db).filter(\.$bin ~~ Array(bins)).all()
        let byBIN = Dictionary(orgs.compactMap { o in o.bin.map { ($0, o) } }, uniquingKeysWith: { a, _ in a })
        // References already stored for these employers, in one query.
        struct R: Decodable { let employer_id: Int; let external_ref: String }
        let ids = orgs.compactMap(\.id)
        var known = Set(ids.isEmpty ? [] : try await store.sql.select().columns("employer_id", "external_ref").from("vacancies").where("employer_id", .in, SQLBind.group(ids))
            .where("external_ref", .in, SQLBind.group(rows.map { table.cell($0.cells, "external_ref") })).all(decoding: R.self).map { "\($0.employer_id)|\($0.external_ref)" })
        var out: [RowOutcome<Item>] = []
        for row in rows {
            func v(_ c: String) -> String { table.cell(row.cells, c) }
            var errors: [FieldError] = []
            let ref = v("external_ref")
            if ref.isEmpty || ref.count > 100 { errors.append(FieldError("external_ref", "name_required")) }
            let employer = byBIN[v("employer_bin")]
            if employer == nil { errors.append(FieldError("employer_bin", (try? BIN(v("employer_bin"))) == nil ? "bin_invalid" : "choose_from_list")) }
            if let e = employer, user.role == .contractor, e.id != user.organisationID { errors.append(FieldError("employer_bin", "own_form")) }
            if let e = employer, known.contains("\(e.id!)|\(ref)") { out.append(.present); continue }
            let district = byKATO[v("district")]
            if district == nil { errors.append(FieldError("district", v("district").isEmpty ? "district_required" : "choose_from_list")) }
            // Values that do not read are passed on as missing: the form's checks name them.
            let wage = TableFile.amount(v("wage"))
            do {
                let p = try await labour.prepareVacancy(VacancyInput(employerID: employer?.id, title: v("title"), isco: v("isco"), districtID: district?.id, wage: wage, places: Int(v("places")),
                                                                     requirements: v("requirements").nilIfEmpty, validFrom: TableFile.date(v("valid_from")),
                                                                     validUntil: TableFile.date(v("valid_until"))), by: user)
                guard errors.isEmpty, let employer else { out.append(.bad(errors)); continue }
                known.insert("\(employer.id!)|\(ref)")
                out.append(.add(Item(vacancy: p, ref: ref)))
            } catch let e as FieldErrors {
                let mine = Set(errors.map(\.field))
                out.append(.bad(errors + e.errors.map { FieldError(Self.column[$0.field] ?? $0.field, $0.code, $0.args) }.filter { !mine.contains($0.field) }))
            }
        }
        return out
    }

    /// The form's field names as the file's columns.
    static let column = ["employer_id": "employer_bin", "district_id": "district"]

    func write(_ ctx: WriteContext, _ items: [Item], user: UserContext) async throws -> [Int] {
        var ids: [Int] = []
        for i in items { ids.append(try await labour.insertVacancy(ctx, i.vacancy, externalRef: i.ref)) }
        return ids
    }
}

/// Labour contracts from the labour-contract system (or an employer's file): `referral_number, position,
/// starts_on, wage` required, `ends_on` and `subsidised` (youth_practice or social_job, decided by the centre)
/// optional. Each hire closes its referral as the outcome form does; a referral already hired is left as it is.
struct LabourContractsImport: Importer {
    static let required = ["referral_number", "position", "starts_on", "wage"]
    static let columns = required + ["ends_on", "subsidised"]
    let store: Store
    /// The rules a hire on a project's vacancy is checked with (E6, E7), read once for the run.
    let env: RulesEnvironment
    var labour: LabourStore { LabourStore(store: store) }

    struct Item: Sendable { let referral: LabourStore.ReferralRow; let outcome: ReferralOutcome }

    func check(_ rows: [(number: Int, cells: [String])], table: TableFile, user: UserContext) async throws -> [RowOutcome<Item>] {
        var seen = Set<String>()
        var out: [RowOutcome<Item>] = []
        for row in rows {
            func v(_ c: String) -> String { table.cell(row.cells, c) }
            let number = v("referral_number")
            guard let r = try await labour.referralFor(number: number, user: user), labour.mayRecord(user, r) else {
                out.append(.bad([FieldError("referral_number", "line_referral_unknown")])); continue
            }
            if r.state == "hired" || seen.contains(number) { out.append(.present); continue }
            guard r.state == "issued" else { out.append(.bad([FieldError("referral_number", "referral_closed")])); continue }
            var errors: [FieldError] = []
            let starts = TableFile.date(v("starts_on")), ends = v("ends_on").isEmpty ? nil : TableFile.date(v("ends_on"))
            if starts == nil { errors.append(FieldError("starts_on", "date_invalid")) }
            if !v("ends_on").isEmpty && ends == nil { errors.append(FieldError("ends_on", "date_invalid")) }
            let wage = TableFile.amount(v("wage"))
            if wage == nil { errors.append(FieldError("wage", "amount_invalid")) }
            let measure: Measure?? = v("subsidised").isEmpty ? .some(nil) : Measure(rawValue: v("subsidised")).map { .some($0) }
            if measure == nil { errors.append(FieldError("subsidised", "choose_from_list")) }
            guard errors.isEmpty, let starts, let wage, let measure else { out.append(.bad(errors)); continue }
            let outcome = ReferralOutcome.hired(position: v("position"), startsOn: starts, endsOn: ends, wage: wage, subsidised: measure)
            let problems = LabourStore.validate(outcome, referral: r, by: user)
            guard problems.isEmpty else { out.append(.bad(problems)); continue }
            seen.insert(number)
            out.append(.add(Item(referral: r, outcome: outcome)))
        }
        return out
    }

    func write(_ ctx: WriteContext, _ items: [Item], user: UserContext) async throws -> [Int] {
        guard !items.isEmpty else { return [] }
        let today = CivilDate(kazakhstanAt: ctx.now)
        for i in items { try await labour.apply(ctx, i.referral, i.outcome, today: today, env: env) }
        return items.map(\.referral.id)
    }
}

/// Projects an akimat records from its own register, as drafts: `external_ref` (the akimat's number),
/// `programme, district, settlement, name, object_type, work_type, starts_on, ends_on` required; the four sources of
/// cost (`cost_national_fund, cost_republican, cost_local, cost_cofinancing`, tenge, empty is none),
/// `domestic_cost, design_docs, expertise_passed, jobs_created, permanent_jobs, average_wage` optional. The project
/// form's checks apply; a project the region already has under that reference is left as it is.
struct ProjectsImport: Importer {
    static let required = ["external_ref", "programme", "district", "settlement", "name", "object_type", "work_type", "starts_on", "ends_on"]
    static let columns = required + ["cost_national_fund", "cost_republican", "cost_local", "cost_cofinancing", "domestic_cost", "design_docs", "expertise_passed",
                                     "jobs_created", "permanent_jobs", "average_wage"]
    let store: Store
    /// The districts by KATO code, read once for the run.
    let byKATO: [String: DistrictRecord]
    var projects: ProjectStore { ProjectStore(store: store) }

    struct Item: Sendable { let input: ProjectInput; let district: DistrictRecord; let ref: String }

    func check(_ rows: [(number: Int, cells: [String])], table: TableFile, user: UserContext) async throws -> [RowOutcome<Item>] {
        guard try await projects.body(of: user) == .akimat else { return rows.map { _ in .bad([FieldError("name", "project_not_your_body")]) } }
        struct R: Decodable { let region_iso: String; let external_ref: String }
        var known = Set(try await store.sql.select().columns("region_iso", "external_ref").from("projects")
            .where("external_ref", .in, SQLBind.group(rows.map { table.cell($0.cells, "external_ref") })).all(decoding: R.self).map { "\($0.region_iso)|\($0.external_ref)" })
        var out: [RowOutcome<Item>] = []
        for row in rows {
            func v(_ c: String) -> String { table.cell(row.cells, c) }
            var errors: [FieldError] = []
            func money(_ c: String, optional: Bool = true) -> Money? {
                if v(c).isEmpty { return optional ? Money(tiyn: 0) : nil }
                guard let m = TableFile.amount(v(c)) else { errors.append(FieldError(c, "amount_invalid")); return nil }
                return m
            }
            func int(_ c: String) -> Int? {
                guard !v(c).isEmpty else { return nil }
                guard let n = Int(v(c)) else { errors.append(FieldError(c, "project_jobs_invalid")); return nil }
                return n
            }
            let ref = v("external_ref")
            if ref.isEmpty || ref.count > 100 { errors.append(FieldError("external_ref", "name_required")) }
            let district = byKATO[v("district")]
            if district == nil { errors.append(FieldError("district", v("district").isEmpty ? "district_required" : "choose_from_list")) }
            if let d = district, known.contains("\(d.regionISO)|\(ref)") { out.append(.present); continue }
            let programme = ProjectProgramme(rawValue: v("programme"))
            if programme == nil { errors.append(FieldError("programme", "choose_from_list")) }
            if !v("object_type").isEmpty && ObjectType(rawValue: v("object_type")) == nil { errors.append(FieldError("object_type", "choose_from_list")) }
            if !v("work_type").isEmpty && WorkType(rawValue: v("work_type")) == nil { errors.append(FieldError("work_type", "choose_from_list")) }
            // A yes/no column left blank is "no"; anything but yes or no is refused, not read as "no".
            for c in ["design_docs", "expertise_passed"] where !v(c).isEmpty && TableFile.flag(v(c)) == nil { errors.append(FieldError(c, "choose_from_list")) }
            let input = ProjectInput(programme: programme ?? .roadmap, districtID: district?.id, settlement: v("settlement"), name: v("name"),
                                     objectType: ObjectType(rawValue: v("object_type")), workType: WorkType(rawValue: v("work_type")),
                                     nationalFund: money("cost_national_fund") ?? Money(tiyn: 0), republican: money("cost_republican") ?? Money(tiyn: 0),
                                     localBudget: money("cost_local") ?? Money(tiyn: 0), cofinancing: money("cost_cofinancing") ?? Money(tiyn: 0),
                                     domesticCost: v("domestic_cost").isEmpty ? nil : money("domestic_cost"), designDocs: TableFile.flag(v("design_docs")) ?? false,
                                     expertisePassed: TableFile.flag(v("expertise_passed")) ?? false, startsOn: TableFile.date(v("starts_on")), endsOn: TableFile.date(v("ends_on")),
                                     jobsCreated: int("jobs_created"), permanentJobs: int("permanent_jobs"), averageWage: v("average_wage").isEmpty ? nil : money("average_wage"))
            let mine = Set(errors.map(\.field))
            let (_, formErrors) = try await projects.validate(input, user: user)
            errors += formErrors.map { FieldError($0.field == "district_id" ? "district" : $0.field, $0.code, $0.args) }.filter { !mine.contains($0.field) }
            guard errors.isEmpty, let district else { out.append(.bad(errors)); continue }
            known.insert("\(district.regionISO)|\(ref)")
            out.append(.add(Item(input: input, district: district, ref: ref)))
        }
        return out
    }

    func write(_ ctx: WriteContext, _ items: [Item], user: UserContext) async throws -> [Int] {
        var ids: [Int] = []
        for i in items { ids.append(try await projects.insert(ctx, i.input, district: i.district, user: user, externalRef: i.ref)) }
        return ids
    }
}

/// Contractors' monthly progress reports: `project` (its number), `month` (YYYY-MM), `work_done_percent,
/// work_done_amount, jobs_filled, jobs_by_referral` required, `referred_avg_wage` optional. The report form's
/// checks apply (a month of works that has ended, a share that never goes back, referred workers among those
/// hired); a month already reported (and not returned) is left as it is. Months of one project in one file are
/// checked against what is stored, not against each other's rows.
struct ProgressImport: Importer {
    static let required = ["project", "month", "work_done_percent", "work_done_amount", "jobs_filled", "jobs_by_referral"]
    static let columns = required + ["referred_avg_wage"]
    let store: Store
    /// The rules the reports' due dates come from, read once for the run.
    let env: RulesEnvironment
    var projects: ProjectStore { ProjectStore(store: store) }

    typealias Item = ProjectStore.PreparedReport

    func check(_ rows: [(number: Int, cells: [String])], table: TableFile, user: UserContext) async throws -> [RowOutcome<Item>] {
        struct P: Decodable { let id: Int; let number: String }
        let ids = Dictionary(try await store.sql.select().columns("id", "number").from("projects").where("number", .in, SQLBind.group(rows.map { table.cell($0.cells, "project") }))
            .all(decoding: P.self).map { ($0.number, $0.id) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        var out: [RowOutcome<Item>] = []
        for row in rows {
            func v(_ c: String) -> String { table.cell(row.cells, c) }
            guard let id = ids[v("project")] else { out.append(.bad([FieldError("project", "choose_from_list")])); continue }
            let key = "\(id)|\(v("month"))"
            let reported = try await projects.hasReport(project: id, month: v("month"))
            if seen.contains(key) || reported { out.append(.present); continue }
            var errors: [FieldError] = []
            func money(_ c: String) -> Money? {
                if v(c).isEmpty && c == "referred_avg_wage" { return Money(tiyn: 0) }
                guard let m = TableFile.amount(v(c)) else { errors.append(FieldError(c, "amount_invalid")); return nil }
                return m
            }
            let pct = FixedDecimal(v("work_done_percent").replacingOccurrences(of: ",", with: "."))
            if pct == nil { errors.append(FieldError("work_done_percent", "project_percent_invalid")) }
            let amount = money("work_done_amount"), wage = money("referred_avg_wage")
            let filled = Int(v("jobs_filled")), referred = Int(v("jobs_by_referral"))
            if filled == nil { errors.append(FieldError("jobs_filled", "project_jobs_invalid")) }
            if referred == nil { errors.append(FieldError("jobs_by_referral", "project_jobs_invalid")) }
            guard errors.isEmpty, let pct, let amount, let wage, let filled, let referred else { out.append(.bad(errors)); continue }
            do {
                let p = try await projects.prepareReport(project: id, month: v("month"), ProjectStore.Progress(workDonePercent: pct, workDoneAmount: amount, jobsFilled: filled,
                                                                                                                jobsByReferral: referred, referredAverageWage: wage), env: env, by: user)
                seen.insert(key)
                out.append(.add(p))
            } catch let e as FieldErrors {
                out.append(.bad(e.errors.map { FieldError($0.field == "name" ? "project" : $0.field, $0.code, $0.args) }))
            } catch StoreError.notFound {
                out.append(.bad([FieldError("project", "choose_from_list")]))
            } catch is ProjectRefused {
                out.append(.bad([FieldError("project", "project_not_your_body")]))
            }
        }
        return out
    }

    func write(_ ctx: WriteContext, _ items: [Item], user: UserContext) async throws -> [Int] {
        for i in items { try await projects.writeReport(ctx, i) }
        return items.map(\.id)
    }
}
