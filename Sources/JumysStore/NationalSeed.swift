import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// A synthetic dataset the size of Kazakhstan's programmes (issue "Scale"), or a fraction of it: participants with
/// valid IINs and realistic names spread over the regions by labour force, their categories, one application each in
/// every state with its social contract, vacancies of synthetic employers (valid BINs), referrals and hires,
/// subsidised placements with their payroll lines, training referrals, relocation subsidies, microcredits with
/// their schedules and disbursements, and infrastructure projects in every state of the pipeline with monthly
/// progress — over the months of history before today. Rows stream in blocks (never the whole set in memory), each
/// block one transaction; the same seed number gives the same data.
public struct NationalSeed: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    /// How many of each: `scale` 1 is the national size.
    public struct Plan: Sendable {
        public let participants: Int, vacancies: Int, employers: Int, projects: Int, months: Int
        public init(scale: Double, months: Int = 24) {
            func n(_ x: Double, min m: Int) -> Int { Swift.max(m, Int((x * scale).rounded())) }
            participants = n(1_500_000, min: 100)
            vacancies = n(240_000, min: 40)
            employers = n(25_000, min: 20)
            projects = n(14_000, min: 20)
            self.months = months
        }
    }

    /// What was written.
    public struct Counts: Sendable, CustomStringConvertible {
        public var persons = 0, applications = 0, contracts = 0, employers = 0, vacancies = 0, referrals = 0, hires = 0, placements = 0, payrollLines = 0
        public var trainings = 0, relocations = 0, loans = 0, scheduleLines = 0, projects = 0, projectReports = 0
        public var total: Int { persons * 2 + applications + contracts + employers + vacancies + referrals + hires + placements + payrollLines + trainings + relocations + loans * 2 + scheduleLines + projects + projectReports }
        public var description: String {
            "persons \(persons), applications \(applications), social contracts \(contracts), employers \(employers), vacancies \(vacancies), referrals \(referrals), hires \(hires), "
                + "placements \(placements), payroll lines \(payrollLines), training referrals \(trainings), relocation subsidies \(relocations), microcredits \(loans) "
                + "(schedule lines \(scheduleLines)), projects \(projects) (monthly reports \(projectReports))"
        }
    }

    struct District { let id: Int; let region: String; let rural: Bool }

    /// The tables the seed writes with ids of its own (counted on from the largest id already there).
    static let tables = ["organisations", "vacancies", "persons", "person_categories", "applications", "contracts", "referrals", "labour_contracts", "placements", "payroll_lines",
                         "training_referrals", "payments", "budget_credits", "loans", "loan_schedule_lines", "loan_disbursements", "courses"]

    /// Fills the store. Refuses a registry that already holds people (the synthetic IINs must not meet real ones).
    /// `progress` is told the phase, the rows done and the rows planned.
    public func run(_ plan: Plan, seed: UInt64, progress: @escaping @Sendable (String, Int, Int) -> Void = { _, _, _ in }) async throws -> Counts {
        struct N: Decodable { let n: Int }
        let have = try await store.sql.raw("SELECT COUNT(*) AS n FROM persons").first(decoding: N.self)?.n ?? 0
        guard have == 0 else { throw StoreError.invalid(field: "persons", reason: "the seed fills an empty registry; this one holds \(have) persons") }
        var rng = SeededRandom(seed: seed)
        var counts = Counts()
        let today = store.today()
        let end = CivilDate(year: today.year, month: today.month, day: 1)!.adding(days: -1)          // the last day of last month
        let first = CivilDate(year: end.year, month: end.month, day: 1)!.adding(months: -(plan.months - 1))

        let regions = try await RegionRecord.query(on: store.db).all().sorted { $0.id! < $1.id! }
        let districts = try await DistrictRecord.query(on: store.db).all().map { District(id: $0.id!, region: $0.regionISO, rural: $0.settlementKind == "rural") }
        let byRegion = Dictionary(grouping: districts, by: \.region)
        let weights = regions.map { Double($0.labourForce) }
        let totalWeight = weights.reduce(0, +)
        let totalLabourForce = regions.reduce(0) { $0 + $1.labourForce }
        func pickRegion(_ rng: inout SeededRandom) -> String {
            var x = Double.random(in: 0..<totalWeight, using: &rng)
            for (i, w) in weights.enumerated() { if x < w { return regions[i].id! }; x -= w }
            return regions.last!.id!
        }
        func day(_ rng: inout SeededRandom) -> CivilDate { first.adding(days: Int.random(in: 0..<(first.days(until: end) + 1), using: &rng)) }
        let now = AuditLog.timestamp(Date()), created = Date()
        var nextID: [String: Int] = [:]
        for t in Self.tables {
            nextID[t] = (try await store.sql.raw("SELECT COALESCE(MAX(id), 0) AS n FROM \(unsafeRaw: t)").first(decoding: N.self)?.n ?? 0) + 1
        }
        func id(_ t: String) -> Int { let v = nextID[t]!; nextID[t] = v + 1; return v }

        // Employers, a lender and a training provider per region, each region's credit chain and a course.
        var employers: [String: [Int]] = [:]
        var lenders: [String: (org: Int, credit: Int)] = [:]
        var providers: [String: Int] = [:], courses: [String: Int] = [:]
        // Each region's own akimat (not a district's), the borrower of its budget credit.
        var akimats: [String: Int] = [:]
        for o in try await OrganisationRecord.query(on: store.db).filter(\.$kind == OrganisationKind.akimat.rawValue).filter(\.$districtID == nil).all() {
            if let r = o.regionISO, akimats[r] == nil { akimats[r] = o.id }
        }
        var orgRows: [[any Encodable & Sendable]] = []
        var serial = 0
        func bin() -> String {
            while true {
                serial += 1
                if let b = BIN.make(year: 2000 + serial % 20, month: 1 + serial % 12, kind: 4, serial: serial % 100_000) { return b.value }
            }
        }
        for r in regions {
            let share = Int((Double(plan.employers) * Double(r.labourForce) / totalWeight).rounded(.up))
            let ds = byRegion[r.id!] ?? []
            for k in 0..<Swift.max(1, share) {
                let i = id("organisations")
                employers[r.id!, default: []].append(i)
                let d = ds.isEmpty ? nil : ds[k % ds.count].id
                orgRows.append([i, "seed.employer.\(i)", OrganisationKind.contractor.rawValue, r.id!, d, bin(), "«Жұмыс-\(i)» ЖШС", "ТОО «Жумыс-\(i)»", "Zhumys-\(i) LLP"])
            }
            let lender = id("organisations"), provider = id("organisations")
            orgRows.append([lender, "seed.lender.\(r.id!)", OrganisationKind.creditOrganisation.rawValue, r.id!, nil as Int?, bin(), "\(r.nameKk) өңірлік қаржы ұйымы", "Региональная финансовая организация (\(r.nameRu))", "Regional finance organisation of \(r.nameEn)"])
            orgRows.append([provider, "seed.provider.\(r.id!)", OrganisationKind.educationProvider.rawValue, r.id!, nil as Int?, bin(), "\(r.nameKk) колледжі", "Колледж (\(r.nameRu))", "College of \(r.nameEn)"])
            lenders[r.id!] = (lender, 0)
            providers[r.id!] = provider
        }
        counts.employers = orgRows.count
        try await insert("organisations", ["id", "code", "kind", "region_iso", "district_id", "bin", "name_kk", "name_ru", "name_en"], orgRows)
        var creditRows: [[any Encodable & Sendable]] = [], courseRows: [[any Encodable & Sendable]] = []
        for r in regions {
            guard let akimat = akimats[r.id!], let l = lenders[r.id!] else { continue }
            let local = id("budget_credits"), onward = id("budget_credits")
            // Two million tenge per participant, the region's share by labour force, in tiyn.
            let amount = Money(tenge: 2_000_000).tiyn * Int64(plan.participants) / Int64(max(1, totalLabourForce)) * Int64(r.labourForce)
            creditRows.append([local, "local_body", nil as Int?, first.year, FundingDirection.programmeBusiness.rawValue, r.id!, akimat, amount, Int64(100), 120, 40, first.iso, first.adding(months: 6).iso, amount, "seed", "seed", now])
            creditRows.append([onward, "credit_organisation", local, first.year, FundingDirection.programmeBusiness.rawValue, r.id!, l.org, amount, Int64(100), 120, 40, first.iso, end.adding(months: 12).iso, Int64(0), "seed", "seed", now])
            lenders[r.id!] = (l.org, onward)
            let course = id("courses")
            courseRows.append([course, providers[r.id!]!, "Дәнекерлеуші", "Сварщик", "Welder", "7212", 3, Int64(15_000_000)])
            courses[r.id!] = course
        }
        try await insert("budget_credits", ["id", "level", "parent_id", "year", "direction", "region_iso", "borrower_id", "amount", "rate", "term_months", "grace_months", "transferred_on", "use_by", "used",
                                            "decision", "by_login", "at"], creditRows)
        try await insert("courses", ["id", "provider_id", "title_kk", "title_ru", "title_en", "occupation_isco", "months", "cost"], courseRows)

        // Vacancies: half open now, half closed in the history.
        let occupations = ["7212", "7115", "8322", "9313", "5223", "4110", "2330", "3221", "7411", "9112"]
        var vacancies: [String: [(id: Int, employer: Int, wage: Int64, isco: String)]] = [:]
        var batch: [[any Encodable & Sendable]] = []
        for k in 0..<plan.vacancies {
            let region = pickRegion(&rng)
            let ds = byRegion[region] ?? []
            guard !ds.isEmpty, let es = employers[region] else { continue }
            let d = ds[Int.random(in: 0..<ds.count, using: &rng)]
            let v = id("vacancies"), e = es[Int.random(in: 0..<es.count, using: &rng)]
            let open = k % 2 == 0
            let from = open ? end.adding(days: -Int.random(in: 0..<60, using: &rng)) : day(&rng)
            let until = open ? today.adding(days: Int.random(in: 30...180, using: &rng)) : from.adding(days: 60)
            let wage = Int64.random(in: 90_000...450_000, using: &rng) / 1000 * 1000 * 100
            let isco = occupations[Int.random(in: 0..<occupations.count, using: &rng)]
            vacancies[region, default: []].append((v, e, wage, isco))
            batch.append([v, e, "Вакансия \(isco)", isco, region, d.id, wage, Int.random(in: 1...5, using: &rng), from.iso, until.iso, "seed", "seed", open ? "open" : "closed"])
            if batch.count >= 5_000 { try await insert("vacancies", ["id", "employer_id", "title", "occupation_isco", "region_iso", "district_id", "wage", "places", "valid_from", "valid_until", "source", "entered_by", "state"], batch); batch = [] }
            if k % 20_000 == 0 { progress("vacancies", k, plan.vacancies) }
        }
        try await insert("vacancies", ["id", "employer_id", "title", "occupation_isco", "region_iso", "district_id", "wage", "places", "valid_from", "valid_until", "source", "entered_by", "state"], batch)
        counts.vacancies = plan.vacancies
        progress("vacancies", plan.vacancies, plan.vacancies)

        // Participants, block by block, with everything that follows from their application.
        let measures: [(Measure, Int)] = [(.vacancyPlacement, 35), (.socialJob, 15), (.youthPractice, 10), (.training, 15), (.infrastructureReferral, 10), (.entrepreneurship, 10), (.relocation, 5)]
        let categories: [(PersonCategory, Int)] = [(.unemployed, 50), (.jobSeeker, 20), (.lowIncome, 10), (.selfEmployed, 10), (.neetYouth, 5), (.schoolLeaver, 5)]
        func weighted<T>(_ xs: [(T, Int)], _ rng: inout SeededRandom) -> T {
            var x = Int.random(in: 0..<100, using: &rng)
            for (v, w) in xs { if x < w { return v }; x -= w }
            return xs[0].0
        }
        var seenIIN = Set<String>()
        seenIIN.reserveCapacity(plan.participants)
        var done = 0
        let block = 2_000
        while done < plan.participants {
            var t = Tables()
            for _ in 0..<Swift.min(block, plan.participants - done) {
                let region = pickRegion(&rng)
                guard let ds = byRegion[region], !ds.isEmpty else { continue }
                let d = ds[Int.random(in: 0..<ds.count, using: &rng)]
                let sex: Sex = Bool.random(using: &rng) ? .male : .female
                let birth = CivilDate(year: 1966, month: 1, day: 1)!.adding(days: Int.random(in: 0..<(40 * 365), using: &rng))
                guard let iin = IIN.make(birthDate: birth, sex: sex, serial: Int.random(in: 0..<10_000, using: &rng)), seenIIN.insert(iin.value).inserted else { continue }
                let name = SyntheticNames.person(sex, &rng)
                let pid = id("persons")
                // Most applications over the months of history; a few in the last days, still waiting for a decision.
                let submitted = Int.random(in: 0..<100, using: &rng) < 2 ? today.adding(days: -Int.random(in: 0..<7, using: &rng)) : day(&rng)
                t.persons.append([pid, iin.value, name.last, name.first, name.middle, PersonRecord.searchName(last: name.last, first: name.first, middle: name.middle), birth.iso, sex.rawValue,
                                  region, d.id, d.rural, "+7 7" + String(format: "%02d %03d %04d", Int.random(in: 0...99, using: &rng), Int.random(in: 0...999, using: &rng), Int.random(in: 0...9999, using: &rng)),
                                  created, created, submitted.iso, "registry", "seed"])
                t.categories.append([id("person_categories"), pid, weighted(categories, &rng).rawValue, submitted.iso, nil as String?])
                // The application and how far it has come by today.
                let measure = weighted(measures, &rng)
                let age = submitted.days(until: today)
                let months = measure == .training ? 3 : measure == .vacancyPlacement || measure == .infrastructureReferral ? 1 : 6
                let refused = Int.random(in: 0..<100, using: &rng) < 10
                let decided = submitted.adding(days: 5), signed = submitted.adding(days: 9)
                let startsOn = submitted.adding(days: 14), endsOn = startsOn.adding(months: months)
                let state: ApplicationState
                if age < 5 { state = .submitted } else if age < 7 { state = .underReview } else if refused { state = .refused } else if age < 9 { state = .included }
                else if age < 14 { state = .contractSigned } else if endsOn > today { state = .active } else { state = Int.random(in: 0..<100, using: &rng) < 5 ? .terminated : .completed }
                let app = id("applications")
                t.applications.append([app, pid, region, d.id, measure.rawValue, state.rawValue, submitted.iso, submitted.adding(days: 10).iso, !refused, "", "[]",
                                       age >= 5 && state != .underReview ? decided.iso : nil, refused && state == .refused ? "not_eligible" : nil, nil as String?,
                                       [.included].contains(state) ? decided.adding(days: 5).iso : nil, now])
                guard [.contractSigned, .active, .completed, .terminated].contains(state) else { continue }
                let nextMonitoring = startsOn.adding(months: 1).iso
                // The worklist's due date while the application runs (`WorklistDueDates`).
                let monitoringDue: String? = state.isRunning ? nextMonitoring : nil
                t.contracts.append([id("contracts"), app, pid, region, d.id, "SC-\(app)", signed.iso, startsOn.iso, endsOn.iso, nextMonitoring, monitoringDue])
                guard [.active, .completed, .terminated].contains(state) else { continue }
                switch measure {
                case .vacancyPlacement, .infrastructureReferral, .socialJob, .youthPractice:
                    guard let vs = vacancies[region], !vs.isEmpty else { continue }
                    let v = vs[Int.random(in: 0..<vs.count, using: &rng)]
                    if measure == .vacancyPlacement && Bool.random(using: &rng) {
                        // An earlier referral the employer turned down.
                        let w = vs[Int.random(in: 0..<vs.count, using: &rng)]
                        let r0 = id("referrals")
                        t.referrals.append([r0, "R-\(r0)", pid, w.id, w.employer, region, d.id, signed.iso, "refused", "qualification", signed.adding(days: 3).iso])
                    }
                    let r = id("referrals")
                    t.referrals.append([r, "R-\(r)", pid, v.id, v.employer, region, d.id, startsOn.adding(days: -4).iso, "hired", nil as String?, startsOn.iso])
                    let lc = id("labour_contracts")
                    let subsidised = measure == .socialJob || measure == .youthPractice
                    t.hires.append([lc, r, pid, v.employer, "Қызметкер / Работник", startsOn.iso, subsidised || measure == .infrastructureReferral ? endsOn.iso : nil, v.wage])
                    guard subsidised else { continue }
                    let pl = id("placements")
                    t.placements.append([pl, pid, v.employer, lc, measure.rawValue, region, d.id, startsOn.iso, endsOn.iso, v.wage])
                    // The payroll's regular line for every month of the placement up to last month.
                    var m = CivilDate(year: startsOn.year, month: startsOn.month, day: 1)!, n = 1
                    let amount: Int64 = measure == .socialJob ? Swift.min(v.wage / 2, 4_250_000) : 8_500_000
                    while m <= end && m < endsOn {
                        t.payroll.append([id("payroll_lines"), pl, String(format: "%04d-%02d", m.year, m.month), 1, "regular", n, amount, "seed", region, d.id, now])
                        m = m.adding(months: 1); n += 1
                    }
                case .training:
                    let tr = id("training_referrals")
                    t.trainings.append([tr, "T-\(tr)", pid, app, courses[region] ?? 1, region, d.id, startsOn.iso, "vacancies", state == .active ? "issued" : state == .completed ? "completed" : "dropped",
                                        state == .active ? nil : endsOn.iso, nil as String?])
                case .relocation:
                    t.payments.append([id("payments"), pid, app, region, d.id, "relocation_subsidy", String(format: "%04d-%02d", startsOn.year, startsOn.month), decided.iso, Int64(36_900_000), "seed", now])
                case .entrepreneurship:
                    guard let l = lenders[region], l.credit > 0 else { continue }
                    let loan = id("loans")
                    let amount = Int64.random(in: 1_000...8_000, using: &rng) * 100_000   // 1–8 million tenge, in tiyn
                    let contract = decided.adding(days: 10)
                    t.loans.append([loan, "MC-\(loan)", LoanKind.microcredit.rawValue, l.credit, l.org, region, d.id, "iin", iin.value, name.last + " " + name.first, true, "investment", "Шаруашылық / Хозяйство",
                                    amount, 60, Int64(6) * FixedDecimal.scale, 6, "annuity", 1, contract.iso, amount, contract.adding(days: 5).iso, contract.adding(months: 6).iso,
                                    state == .completed ? contract.adding(months: 5).iso : nil, contract.adding(months: 24).iso, "disbursed", 1, "seed", now])
                    t.disbursements.append([id("loan_disbursements"), loan, amount, contract.adding(days: 5).iso, "seed", now])
                    if let s = try? Rules.loanSchedule(principal: Money(tiyn: amount), ratePercent: FixedDecimal(6), termMonths: 60, graceMonths: 6, method: .annuity, startDate: contract.adding(days: 5)).value {
                        for line in s { t.schedule.append([id("loan_schedule_lines"), loan, line.n, line.date.iso, line.principal.tiyn, line.interest.tiyn, line.balance.tiyn]) }
                    }
                }
            }
            // A draw that met an IIN already given is drawn again in the next block: the count is exact.
            guard !t.persons.isEmpty else { throw StoreError.invalid(field: "seed", reason: "no person could be drawn") }
            try await write(t)
            counts.add(t)
            done += t.persons.count
            progress("participants", Swift.min(done, plan.participants), plan.participants)
        }
        progress("projects", 0, plan.projects)
        let reports = try await Self.seedProjects(store, projects: plan.projects, first: first, end: end, seed: seed &+ 1)
        counts.projects = plan.projects
        counts.projectReports = reports
        progress("projects", plan.projects, plan.projects)
        try await resetSequences()
        let summary = ["rows": String(counts.total), "counts": counts.description, "from": first.iso, "to": end.iso]
        try await store.write(as: .system) { ctx in try ctx.audit("seed", entity: "dataset", id: String(seed), after: summary) }
        return counts
    }

    /// One block's rows, by table.
    struct Tables {
        var persons: [[any Encodable & Sendable]] = [], categories: [[any Encodable & Sendable]] = [], applications: [[any Encodable & Sendable]] = []
        var contracts: [[any Encodable & Sendable]] = [], referrals: [[any Encodable & Sendable]] = [], hires: [[any Encodable & Sendable]] = []
        var placements: [[any Encodable & Sendable]] = [], payroll: [[any Encodable & Sendable]] = [], trainings: [[any Encodable & Sendable]] = []
        var payments: [[any Encodable & Sendable]] = [], loans: [[any Encodable & Sendable]] = [], disbursements: [[any Encodable & Sendable]] = [], schedule: [[any Encodable & Sendable]] = []
    }

    func write(_ t: Tables) async throws {
        try await store.bookkeeping { db in
            let sql = db as! any SQLDatabase
            try await Self.insert(sql, "persons", ["id", "iin", "last_name", "first_name", "middle_name", "search_name", "birth_date", "sex", "region_iso", "district_id", "is_rural", "phone",
                                                  "created_at", "updated_at", "consent_on", "consent_scope", "consent_by"], t.persons)
            try await Self.insert(sql, "person_categories", ["id", "person_id", "category", "from_date", "to_date"], t.categories)
            try await Self.insert(sql, "applications", ["id", "person_id", "region_iso", "district_id", "measure", "state", "submitted_on", "decision_due", "eligible", "priorities", "eligibility",
                                                       "decided_on", "refusal_reason", "refusal_text", "signing_due", "updated_at"], t.applications)
            try await Self.insert(sql, "contracts", ["id", "application_id", "person_id", "region_iso", "district_id", "number", "signed_on", "starts_on", "ends_on", "next_monitoring", "monitoring_due"], t.contracts)
            try await Self.insert(sql, "referrals", ["id", "number", "person_id", "vacancy_id", "employer_id", "region_iso", "district_id", "referred_on", "state", "reason", "outcome_on"], t.referrals)
            try await Self.insert(sql, "labour_contracts", ["id", "referral_id", "person_id", "employer_id", "position", "starts_on", "ends_on", "wage"], t.hires)
            try await Self.insert(sql, "placements", ["id", "person_id", "employer_id", "labour_contract_id", "measure", "region_iso", "district_id", "starts_on", "ends_on", "wage"], t.placements)
            try await Self.insert(sql, "payroll_lines", ["id", "placement_id", "month", "line_no", "kind", "month_index", "amount", "explanation", "region_iso", "district_id", "created_at"], t.payroll)
            try await Self.insert(sql, "training_referrals", ["id", "number", "person_id", "application_id", "course_id", "region_iso", "district_id", "referred_on", "demand", "state", "outcome_on", "note"], t.trainings)
            try await Self.insert(sql, "payments", ["id", "person_id", "application_id", "region_iso", "district_id", "kind", "month", "decided_on", "amount", "explanation", "created_at"], t.payments)
            try await Self.insert(sql, "loans", ["id", "number", "kind", "credit_id", "lender_id", "region_iso", "district_id", "borrower_kind", "borrower_id", "borrower_name", "tax_registered", "purpose",
                                                "purpose_text", "amount", "term_months", "rate", "grace_months", "method", "jobs_promised", "contract_on", "disbursed", "disbursed_on", "target_use_by",
                                                "target_use_confirmed_on", "jobs_by", "state", "version", "by_login", "at"], t.loans)
            try await Self.insert(sql, "loan_disbursements", ["id", "loan_id", "amount", "on_date", "by_login", "at"], t.disbursements)
            try await Self.insert(sql, "loan_schedule_lines", ["id", "loan_id", "n", "due_on", "principal", "interest", "balance"], t.schedule)
        }
    }

    func insert(_ table: String, _ columns: [String], _ rows: [[any Encodable & Sendable]]) async throws {
        try await store.bookkeeping { db in try await Self.insert(db as! any SQLDatabase, table, columns, rows) }
    }

    /// Multi-row inserts, as many rows per statement as the databases' bound-parameter limits allow.
    static func insert(_ sql: any SQLDatabase, _ table: String, _ columns: [String], _ rows: [[any Encodable & Sendable]]) async throws {
        guard !rows.isEmpty else { return }
        let per = Swift.max(1, 30_000 / columns.count)
        var start = 0
        while start < rows.count {
            var q = sql.insert(into: table).columns(columns)
            for r in rows[start..<Swift.min(start + per, rows.count)] { q = q.values(r.map { SQLBind($0) }) }
            try await q.run()
            start += per
        }
    }

    /// Explicit ids leave PostgreSQL's identity sequences behind: move each to the table's largest id.
    func resetSequences() async throws {
        guard store.isPostgres else { return }
        for t in Self.tables + ["projects", "project_parties", "project_reports"] {
            try await store.sql.raw("SELECT setval(pg_get_serial_sequence('\(unsafeRaw: t)', 'id'), COALESCE((SELECT MAX(id) FROM \(unsafeRaw: t)), 0) + 1, false)").run()
        }
    }

    /// Projects spread over the regions by labour force: most in works or completed between `first` and `end` (3–12
    /// months of works, one to three contractors, an accepted report for every month of works), the rest at the
    /// earlier steps of the pipeline. Returns the number of monthly reports.
    public static func seedProjects(_ store: Store, projects: Int, first: CivilDate, end: CivilDate, seed: UInt64) async throws -> Int {
        var rng = SeededRandom(seed: seed)
        struct N: Decodable { let n: Int }
        let regions = try await RegionRecord.query(on: store.db).all()
        let districts = Dictionary(grouping: try await DistrictRecord.query(on: store.db).all(), by: \.regionISO).mapValues { $0.compactMap(\.id) }
        let contractors = try await OrganisationRecord.query(on: store.db).filter(\.$kind == OrganisationKind.contractor.rawValue).all().compactMap(\.id)
        let orgs = contractors.isEmpty ? try await OrganisationRecord.query(on: store.db).all().compactMap(\.id) : contractors
        let weights = regions.map { Double($0.labourForce) }
        let totalWeight = weights.reduce(0, +)
        var pid = (try await store.sql.raw("SELECT COALESCE(MAX(id), 0) AS n FROM projects").first(decoding: N.self)?.n ?? 0)
        let early: [ProjectState] = [.draft, .proposed, .compiled, .regionalApproved, .regionalRejected, .consolidated, .selected, .approved, .replaced, .removed]
        var reportsWritten = 0
        var batch: [(Int, String, Int, String, String, String?, Int64, Int, ProjectState)] = []
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let rows = batch
            batch = []
            reportsWritten += try await store.bookkeeping { db in
                let sql = db as! any SQLDatabase
                var p = sql.insert(into: "projects").columns("id", "number", "programme", "year", "region_iso", "district_id", "settlement", "name", "object_type", "work_type", "state",
                                                                  "cost_total", "cost_national_fund", "cost_republican", "cost_local", "cost_cofinancing", "design_docs", "expertise_passed",
                                                                  "starts_on", "ends_on", "jobs_created", "permanent_jobs", "started_on", "completed_on", "version", "created_by", "created_at")
                var parties = sql.insert(into: "project_parties").columns("project_id", "organisation_id", "role", "jobs")
                var reports: [[any Encodable & Sendable]] = []
                for (id, region, district, start, endDate, completed, cost, jobs, state) in rows {
                    let objects = ObjectType.allCases, works = WorkType.allCases
                    let inWorks = state == .inWorks || state == .completed
                    p = p.values(SQLBind(id), SQLBind("B-\(id)"), SQLBind("roadmap"), SQLBind(Int(start.prefix(4))!), SQLBind(region), SQLBind(district), SQLBind("—"), SQLBind("Жоба / Проект \(id)"),
                                 SQLBind(objects[id % objects.count].rawValue), SQLBind(works[id % works.count].rawValue), SQLBind(state.rawValue),
                                 SQLBind(cost), SQLBind(Int64(0)), SQLBind(cost), SQLBind(Int64(0)), SQLBind(Int64(0)), SQLBind(true), SQLBind(true), SQLBind(start), SQLBind(endDate),
                                 SQLBind(jobs), SQLBind(jobs / 10), SQLBind(inWorks ? start : nil), SQLBind(completed), SQLBind(1), SQLBind("seed"), SQLBind(AuditLog.timestamp(Date())))
                    let n = 1 + id % 3
                    for k in 0..<n { parties = parties.values(SQLBind(id), SQLBind(orgs[(id * 7 + k * 13) % orgs.count]), SQLBind(k == 0 ? "contractor" : "subcontractor"), SQLBind(jobs / n)) }
                    guard inWorks else { continue }
                    var m = CivilDate(iso: start)!
                    let last = CivilDate(iso: completed ?? end.iso)!
                    var pct = 0
                    while m <= last && m <= end {
                        let key = String(format: "%04d-%02d", m.year, m.month)
                        pct = Swift.min(100, pct + 15)
                        reports.append([id, key, orgs[(id * 7) % orgs.count], Int64(pct) * FixedDecimal.scale, cost / 10, jobs - id % 5, 0, Int64(0), key + "-28", "accepted", key + "-28", key + "-28"])
                        m = CivilDate(year: m.year, month: m.month, day: 1)!.adding(months: 1)
                    }
                }
                try await p.run()
                try await parties.run()
                try await Self.insert(sql, "project_reports", ["project_id", "month", "organisation_id", "work_done_percent", "work_done_amount", "jobs_filled", "jobs_by_referral",
                                                               "referred_avg_wage", "due_on", "state", "contractor_submitted_on", "akimat_submitted_on"], reports)
                return reports.count
            }
        }
        let months = Swift.max(1, (end.year - first.year) * 12 + end.month - first.month + 1)
        for k in 0..<projects {
            pid += 1
            var pick = Double.random(in: 0..<totalWeight, using: &rng)
            var region = regions[0]
            for (i, w) in weights.enumerated() { if pick < w { region = regions[i]; break }; pick -= w }
            let ds = districts[region.id!] ?? []
            guard !ds.isEmpty else { continue }
            let district = ds[Int.random(in: 0..<ds.count, using: &rng)]
            let start = first.adding(months: Int.random(in: 0..<months, using: &rng)).adding(days: Int.random(in: 0..<27, using: &rng))
            let planned = start.adding(months: Int.random(in: 3...12, using: &rng))
            // One project in ten waits at an earlier step; the others are in works or done.
            let state: ProjectState = k % 10 == 9 ? early[(k / 10) % early.count] : planned <= end ? .completed : .inWorks
            let completed = state == .completed ? planned.iso : nil
            batch.append((pid, region.id!, district, start.iso, planned.iso, completed, Int64.random(in: 50_000_000...2_000_000_000, using: &rng) * 100, Int.random(in: 10...120, using: &rng), state))
            if batch.count == 200 { try await flush() }
        }
        try await flush()
        return reportsWritten
    }
}

extension NationalSeed.Counts {
    mutating func add(_ t: NationalSeed.Tables) {
        persons += t.persons.count; applications += t.applications.count; contracts += t.contracts.count; referrals += t.referrals.count; hires += t.hires.count
        placements += t.placements.count; payrollLines += t.payroll.count; trainings += t.trainings.count; relocations += t.payments.count; loans += t.loans.count
        scheduleLines += t.schedule.count
    }
}

/// Realistic names for synthetic people: Kazakh (about seven in ten) or Russian, with the patronymic.
enum SyntheticNames {
    static func person(_ sex: Sex, _ rng: inout SeededRandom) -> (last: String, first: String, middle: String) {
        if Int.random(in: 0..<100, using: &rng) < 72 {
            return (Names.surname(Names.kazakhSurnameStems.randomElement(using: &rng)!, sex),
                    (sex == .male ? Names.kazakhMale : Names.kazakhFemale).randomElement(using: &rng)!,
                    Names.kazakhPatronymic(Names.kazakhMale.randomElement(using: &rng)!, sex))
        }
        return (Names.surname(Names.russianSurnameStems.randomElement(using: &rng)!, sex),
                (sex == .male ? Names.russianMale : Names.russianFemale).randomElement(using: &rng)!,
                Names.russianPatronymic(Names.russianPatronymicStems.randomElement(using: &rng)!, sex))
    }
}
