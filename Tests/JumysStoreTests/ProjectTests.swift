import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

/// Infrastructure projects (E1–E11, G1) on the fixture's clock, Wednesday 2021-05-05 (holidays on 7 and 10 May).
@Suite struct ProjectTests {
    func district(_ f: CaseFixture, _ kato: String) async throws -> Int {
        try #require(try await DistrictRecord.query(on: f.store.db).filter(\.$kato == kato).first()?.id)
    }
    func codes(_ body: () async throws -> Void) async -> [String] {
        do { try await body(); return [] } catch let e as FieldErrors { return e.errors.map(\.code) } catch let e as ProjectRefused { return ["refused:\(e.visible)"] } catch { return ["\(error)"] }
    }
    func d(_ s: String) -> CivilDate { CivilDate(iso: s)! }

    func input(_ f: CaseFixture, jobs: Int? = 37, permanent: Int? = 4, programme: ProjectProgramme = .roadmap, republican: Int64 = 370_000_000) async throws -> ProjectInput {
        ProjectInput(programme: programme, districtID: try await district(f, "350300000"), settlement: "Топар", name: "Реконструкция дороги Топар — Абай", objectType: .roads, workType: .repair,
                     nationalFund: Money(tenge: 0), republican: Money(tenge: republican), localBudget: Money(tenge: 30_000_000), cofinancing: Money(tenge: 0),
                     domesticCost: Money(tenge: (republican + 30_000_000) / 100 * 95), designDocs: true, expertisePassed: true, startsOn: d("2021-04-01"), endsOn: d("2021-10-31"),
                     jobsCreated: jobs, permanentJobs: permanent, averageWage: Money(tenge: 150_000))
    }

    /// Walks a project to the working group's selection with the right body at each step.
    func selected(_ f: CaseFixture, jobs: Int = 37) async throws -> Int {
        let akimat = try await f.user("akimat.KZ-35"), coord = try await f.user("coordinator.KZ-35"), commission = try await f.user("commission.KZ-35")
        let ministry = try await f.user("ministry.officer"), wg = try await f.user("working-group")
        let projects = ProjectStore(store: f.store)
        let id = try await projects.create(try await input(f, jobs: jobs), by: akimat)
        try await projects.act(id, .propose, StepInput(on: d("2021-04-01")), env: f.env, by: akimat)
        try await projects.act(id, .compile, StepInput(on: d("2021-04-02")), env: f.env, by: coord)
        try await projects.act(id, .approveRegional, StepInput(on: d("2021-04-05"), decision: "Протокол №3", referralQuota: 8), env: f.env, by: commission)
        try await projects.act(id, .consolidate, StepInput(on: d("2021-04-06")), env: f.env, by: ministry)
        try await projects.act(id, .select, StepInput(on: d("2021-04-07"), decision: "Протокол РГ №2"), env: f.env, by: wg)
        return id
    }

    /// The year's national limit for Roadmap projects, split between the regions and approved.
    func allocate(_ f: CaseFixture, tenge: Int64) async throws {
        let limits = LimitStore(store: f.store)
        let id = try await limits.propose(year: 2021, direction: .roadmapProjects, total: Money(tenge: tenge), period: LimitStore.shippedPeriod, on: d("2021-04-08"), by: try await f.user("ministry.officer"))
        try await limits.approve(allocation: id, decision: "Протокол МВК №1", on: d("2021-04-08"), by: try await f.user("interagency"))
    }

    /// Walks a project to approval with the right body at each step.
    func approved(_ f: CaseFixture, jobs: Int = 37) async throws -> Int {
        let akimat = try await f.user("akimat.KZ-35"), iac = try await f.user("interagency")
        let projects = ProjectStore(store: f.store)
        let id = try await selected(f, jobs: jobs)
        if try await LimitStore(store: f.store).allocations(year: 2021).isEmpty { try await allocate(f, tenge: 100_000_000_000) }
        try await projects.act(id, .approve, StepInput(on: d("2021-04-08"), decision: "Протокол МВК №1"), env: f.env, by: iac)
        try await projects.setParties(id, contractorID: try await f.org("contractor.KZ-35"), contractorJobs: 27, subcontractors: [(try await f.org("subcontractor.KZ-35"), 10)], by: akimat)
        try await projects.act(id, .start, StepInput(on: d("2021-04-12")), env: f.env, by: akimat)
        return id
    }

    @Test func aProjectWalksThePipelineAndOnlyTheRightBodyActs() async throws {
        try await withCases { f in
            let akimat = try await f.user("akimat.KZ-35"), coord = try await f.user("coordinator.KZ-35"), commission = try await f.user("commission.KZ-35")
            let otherCommission = try await f.user("commission.KZ-71"), ministry = try await f.user("ministry.officer"), wg = try await f.user("working-group")
            let iac = try await f.user("interagency"), admin = try await f.user("admin")
            let projects = ProjectStore(store: f.store)
            // E2: a project without its jobs figures is saved as a draft but cannot be proposed.
            let bare = try await projects.create(try await input(f, jobs: nil, permanent: nil), by: akimat)
            #expect(await codes { try await projects.act(bare, .propose, StepInput(), env: f.env, by: akimat) } == ["project_jobs_required", "project_jobs_required"])
            // Another region's akimat cannot even record a project here.
            #expect(await codes { _ = try await projects.create(try await input(f), by: try await f.user("akimat.KZ-71")) } == ["choose_from_list"])

            let id = try await projects.create(try await input(f), by: akimat)
            try await projects.act(id, .propose, StepInput(on: d("2021-04-01")), env: f.env, by: akimat)
            // The coordinator's step is not the akimat's; the attempt is refused and audited.
            #expect(await codes { try await projects.act(id, .compile, StepInput(), env: f.env, by: akimat) } == ["refused:true"])
            try await projects.act(id, .returnToAkimat, StepInput(note: "Нет заключения экспертизы"), env: f.env, by: coord)
            try await projects.act(id, .propose, StepInput(on: d("2021-04-02")), env: f.env, by: akimat)
            try await projects.act(id, .compile, StepInput(on: d("2021-04-02")), env: f.env, by: coord)
            // Another region's commission does not see the project: refused as not found, and audited.
            #expect(await codes { try await projects.act(id, .approveRegional, StepInput(decision: "№1", referralQuota: 8), env: f.env, by: otherCommission) } == ["refused:false"])
            // E4: 37 jobs need at least ⌈7.4⌉ = 8 referred workers; the commission may not set fewer.
            #expect(await codes { try await projects.act(id, .approveRegional, StepInput(decision: "Протокол №3", referralQuota: 7), env: f.env, by: commission) } == ["project_quota_range"])
            #expect(await codes { try await projects.act(id, .approveRegional, StepInput(referralQuota: 8), env: f.env, by: commission) } == ["project_decision_required"])
            try await projects.act(id, .approveRegional, StepInput(on: d("2021-04-05"), decision: "Протокол №3", referralQuota: 8), env: f.env, by: commission)
            var p = try #require(try await projects.project(id, for: admin))
            #expect(p.state == "regional_approved" && p.referral_quota == 8 && p.permanent_quota == 1)
            try await projects.act(id, .consolidate, StepInput(on: d("2021-04-06")), env: f.env, by: ministry)

            // A second project is consolidated too; the working group replaces the first with it, and the first keeps its history.
            let other = try await projects.create(try await input(f, jobs: 20, republican: 100_000_000), by: akimat)
            try await projects.act(other, .propose, StepInput(on: d("2021-04-01")), env: f.env, by: akimat)
            try await projects.act(other, .compile, StepInput(on: d("2021-04-02")), env: f.env, by: coord)
            try await projects.act(other, .approveRegional, StepInput(on: d("2021-04-05"), decision: "Протокол №3", referralQuota: 5), env: f.env, by: commission)
            try await projects.act(other, .consolidate, StepInput(on: d("2021-04-06")), env: f.env, by: ministry)
            try await projects.act(id, .replace, StepInput(on: d("2021-04-07"), decision: "Протокол РГ №2", replacementID: other), env: f.env, by: wg)
            p = try #require(try await projects.project(id, for: admin))
            let o = try #require(try await projects.project(other, for: admin))
            #expect(p.state == "replaced" && p.replaced_by_id == other && o.state == "selected" && o.replaces_id == id)
            #expect(try await projects.steps(of: id).map(\.step) == ["propose", "return", "propose", "compile", "approve_regional", "consolidate", "replace"])

            // Approval draws on the region's limit (F1); it may add the replaced project back when the limit allows.
            #expect(await codes { try await projects.act(other, .approve, StepInput(decision: "МВК №1"), env: f.env, by: iac) } == ["limit_not_set"])
            try await allocate(f, tenge: 5_000_000_000) // Karaganda Region gets about 293 million
            try await projects.act(other, .approve, StepInput(on: d("2021-04-08"), decision: "МВК №1"), env: f.env, by: iac)
            #expect(await codes { try await projects.act(id, .add, StepInput(decision: "МВК №1"), env: f.env, by: iac) } == ["limit_exceeded"])
            let limits = LimitStore(store: f.store)
            try await limits.proposeChange(year: 2021, kind: .correction, from: nil, to: .init(.roadmapProjects, "KZ-35"), amount: Money(tenge: 500_000_000), reason: "Дополнительные средства", by: ministry)
            try await limits.decideChange(try #require(try await limits.history(year: 2021).first { $0.state == "proposed" }).id, approve: true, decision: "МВК №2", by: iac)
            try await projects.act(id, .add, StepInput(on: d("2021-04-09"), decision: "МВК №2"), env: f.env, by: iac)
            // Amend: the commission cuts the jobs; the quota follows E4 for the new figure.
            try await projects.act(other, .amend, StepInput(decision: "МВК №3", jobsCreated: 11), env: f.env, by: iac)
            #expect(try await projects.project(other, for: admin)?.referral_quota == 5)
            #expect(await codes { try await projects.act(other, .amend, StepInput(decision: "МВК №3", referralQuota: 2), env: f.env, by: iac) } == ["project_quota_range"])
            // An amended cost is bounded as a new project's is, each field by its own name.
            do {
                try await projects.act(other, .amend, StepInput(decision: "МВК №3", republican: Money(tiyn: AmountLimit.project + 1), nationalFund: Money(tiyn: -1)), env: f.env, by: iac)
                Issue.record("an amended cost out of bounds was taken")
            } catch let e as FieldErrors {
                #expect(e.errors.map { "\($0.field):\($0.code)" } == ["cost_republican:amount_invalid", "cost_national_fund:amount_invalid"])
            }
            // The administrator is no body of the pipeline.
            #expect(await codes { try await projects.act(other, .start, StepInput(), env: f.env, by: admin) } == ["refused:true"])
            #expect(await codes { try await projects.act(other, .start, StepInput(), env: f.env, by: akimat) } == ["project_contractor_required"])

            // Every refusal is in the audit log.
            struct A: Decodable { let n: Int }
            let refused = try await f.store.sql.select().column(SQLRaw("COUNT(*)"), as: "n").from("audit_log").where("action", .equal, SQLBind("refused")).first(decoding: A.self)?.n
            #expect(refused == 3)
            guard case .intact = try await AuditLog.verify(f.store.sql) else { Issue.record("audit chain broken"); return }
        }
    }

    @Test func localContentCofinancingAndTheDirection4QuotaAreChecked() async throws {
        try await withCases { f in
            let akimat = try await f.user("akimat.KZ-35"), coord = try await f.user("coordinator.KZ-35"), commission = try await f.user("commission.KZ-35")
            let ministry = try await f.user("ministry.officer"), wg = try await f.user("working-group"), iac = try await f.user("interagency")
            let projects = ProjectStore(store: f.store)
            // E8: 359,999,999.99 of 400,000,000 is a tiyn short of 90 %; 360,000,000 is exactly 90 %.
            var i = try await input(f)
            i.domesticCost = Money(string: "359999999.99")
            let poor = try await projects.create(i, by: akimat)
            #expect(await codes { try await projects.act(poor, .propose, StepInput(), env: f.env, by: akimat) } == ["project_local_content"])
            i.domesticCost = Money(tenge: 360_000_000)
            try await projects.update(poor, i, by: akimat)
            try await projects.act(poor, .propose, StepInput(), env: f.env, by: akimat)
            // E10: a direction 4 project needs 10 % from the local budget and 10 % from entrepreneurs (from 2014).
            var rural = try await input(f, jobs: 20, programme: .programmeDirection4, republican: 70_000_000)
            rural.localBudget = Money(tenge: 10_000_000); rural.cofinancing = Money(tenge: 5_000_000); rural.domesticCost = Money(tenge: 80_000_000)
            let dir4 = try await projects.create(rural, by: akimat)
            #expect(await codes { try await projects.act(dir4, .propose, StepInput(), env: f.env, by: akimat) } == ["project_cofinancing"])
            rural.republican = Money(tenge: 60_000_000); rural.localBudget = Money(tenge: 10_000_000); rural.cofinancing = Money(tenge: 10_000_000)
            try await projects.update(dir4, rural, by: akimat)
            try await projects.act(dir4, .propose, StepInput(), env: f.env, by: akimat)
            try await projects.act(dir4, .compile, StepInput(), env: f.env, by: coord)
            // E10: at most ⌊20 × 50 %⌋ = 10 of its jobs go to participants by referral.
            #expect(await codes { try await projects.act(dir4, .approveRegional, StepInput(decision: "№4", referralQuota: 11), env: f.env, by: commission) } == ["project_quota_range"])
            try await projects.act(dir4, .approveRegional, StepInput(decision: "№4", referralQuota: 10), env: f.env, by: commission)
            #expect(try await projects.project(dir4, for: ministry)?.participant_max == 10)
            // The regional commission may reject (with the reason); the interagency commission may remove (with the reason).
            try await projects.act(poor, .compile, StepInput(), env: f.env, by: coord)
            #expect(await codes { try await projects.act(poor, .rejectRegional, StepInput(decision: "№4"), env: f.env, by: commission) } == ["note_required"])
            try await projects.act(poor, .rejectRegional, StepInput(decision: "№4", note: "Нет экспертизы"), env: f.env, by: commission)
            #expect(try await projects.project(poor, for: ministry)?.state == "regional_rejected")
            try await projects.act(dir4, .consolidate, StepInput(), env: f.env, by: ministry)
            try await projects.act(dir4, .select, StepInput(decision: "РГ №3"), env: f.env, by: wg)
            try await projects.act(dir4, .remove, StepInput(decision: "МВК №4", note: "Нет средств"), env: f.env, by: iac)
            #expect(try await projects.project(dir4, for: ministry)?.state == "removed")
            // A step from the wrong stage is refused by name.
            #expect(await codes { try await projects.act(dir4, .approve, StepInput(decision: "МВК №4"), env: f.env, by: iac) } == ["project_step_not_allowed"])
        }
    }

    @Test func thirtySevenJobsNeedEightReferralsAndTheBonusIsDueInThreeWorkingDays() async throws {
        try await withCases { f in
            let cw = try await f.user("caseworker.KZ-35"), contractor = try await f.user("contractor.KZ-35"), sub = try await f.user("subcontractor.KZ-35")
            let admin = try await f.user("admin")
            let projects = ProjectStore(store: f.store), labour = LabourStore(store: f.store)
            let id = try await approved(f)
            let p = try #require(try await projects.project(id, for: admin))
            #expect(p.referral_quota == 8 && p.state == "in_works")
            // A vacancy of the project: only its contractors may open one.
            func vacancy(_ u: UserContext, places: Int = 10) async throws -> Int {
                try await labour.createVacancy(VacancyInput(employerID: nil, title: "Дорожный рабочий", isco: "9312", districtID: nil, wage: Money(tenge: 120_000), places: places, requirements: nil,
                                                            validFrom: d("2021-05-01"), validUntil: d("2021-10-31"), projectID: id, projectPhase: .works), by: u)
            }
            let main = try await vacancy(contractor), subVacancy = try await vacancy(sub, places: 2)
            #expect(await codes { _ = try await vacancy(try await f.user("contractor.demo")) } == ["choose_from_list"])
            var people: [Int] = []
            for n in 0..<9 {
                people.append(try await f.cases.register(Registration(iin: iin(1990, 1, 1 + n, .male, 500 + n).value, lastName: "Рабочий", firstName: "Номер\(n)",
                                                                      settlement: n == 0 ? "Караганда" : "Топар", rural: true, categories: [.unemployed], categoriesFrom: d("2021-01-01"), consent: true), by: cw))
            }
            func hire(_ person: Int, _ v: Int, by u: UserContext, wage: Int64 = 120_000) async throws {
                let r = try await labour.refer(person: person, vacancy: v, by: cw)
                try await labour.recordOutcome(referral: r, .hired(position: "Дорожный рабочий", startsOn: d("2021-05-05"), endsOn: nil, wage: Money(tenge: wage), subsidised: nil), env: f.env, by: u)
            }
            func status(on day: String = "2021-05-05") async throws -> ProjectStore.Compliance {
                try await projects.compliance(of: try #require(try await projects.project(id, for: admin)), env: f.env, today: d(day))
            }
            // Six on the contractor's vacancy (one from Karaganda, one paid below the E6 floor), one on the subcontractor's.
            for (n, person) in people.prefix(6).enumerated() { try await hire(person, main, by: contractor, wage: n == 1 ? 80_000 : 120_000) }
            try await hire(people[6], subVacancy, by: sub)
            var c = try await status()
            #expect(c.quota == 8 && c.referred == 7 && c.status == .atRisk)
            #expect(c.wageBreaches == 1)
            // The subcontractor's share of the quota: ⌈10 × 8 / 37⌉ = 3; the contractor's ⌈27 × 8 / 37⌉ = 6, met.
            #expect(c.parties.map { "\($0.role):\($0.quota):\($0.referred):\($0.status.rawValue)" } == ["contractor:6:6:met", "subcontractor:3:1:at_risk"])
            try await hire(people[7], main, by: contractor)
            c = try await status()
            #expect(c.referred == 8 && c.status == .met)

            // E7: the worker from Karaganda gets 2 × 42,500; hired on Wednesday 5 May, the bonus is due on 12 May
            // (7 May is a holiday, 8–9 the weekend, 10 May the moved day off).
            let bonus = try #require(try await projects.hires(of: id).first { $0.from_other_settlement })
            #expect(bonus.bonus_amount == Money(tenge: 85_000).tiyn && bonus.bonus_due == "2021-05-12")
            #expect(try await status(on: "2021-05-12").bonusesOverdue == 0)
            #expect(try await status(on: "2021-05-13").bonusesOverdue == 1)
            // Another contractor may not record it paid; the employer may, and it is then on time.
            #expect(await codes { try await projects.recordBonusPaid(hire: bonus.id, paidOn: d("2021-05-05"), by: sub) } == ["refused:true"])
            try await projects.recordBonusPaid(hire: bonus.id, paidOn: d("2021-05-05"), by: contractor)
            #expect(try await status(on: "2021-05-13").bonusesOverdue == 0)

            // The quota is breached when the works end below it.
            #expect(ProjectStore.compliance(try #require(try await projects.project(id, for: admin)), hires: Array(try await projects.hires(of: id).prefix(7)), parties: [], reports: [],
                                            dueDates: { _, _ in nil }, today: d("2021-11-01")).status == .breached)
        }
    }

    @Test func projectsAndTheirMonthlyProgressImportOnce() async throws {
        try await withCases { f in
            let akimat = try await f.user("akimat.KZ-35"), contractor = try await f.user("contractor.KZ-35")
            let imports = ImportStore(store: f.store)
            let projectsFile = """
            external_ref;programme;district;settlement;name;object_type;work_type;cost_republican;cost_local;domestic_cost;design_docs;expertise_passed;starts_on;ends_on;jobs_created;permanent_jobs;average_wage
            AK-1;roadmap;350300000;Топар;Ремонт школы;social_cultural;repair;200000000;10000000;200000000;yes;yes;2021-06-01;2021-11-30;25;2;150000
            AK-2;ep2020_dir4;350300000;Топар;Сети водоснабжения;utility_networks;new_construction;90 000 000;;;yes;yes;2021-06-01;2021-12-31;12;1;140000
            AK-3;roadmap;350300000;Топар;Без стоимости;bridges;repair;;;;no;no;2021-06-01;2021-05-01;;;
            """
            let job = try await imports.run(try await imports.submit(.projects, fileName: "p.csv", data: Data(projectsFile.utf8), by: akimat).job.id)
            let jobErrors = try await imports.errors(of: job.id).map { "\($0.row):\($0.column):\($0.code)" }
            #expect(job.added == 2 && job.failed == 1, "\(jobErrors)")
            let errs = Set(try await imports.errors(of: job.id).map { "\($0.row):\($0.column):\($0.code)" })
            #expect(errs.isSuperset(of: ["4:object_type:choose_from_list", "4:ends_on:end_before_start"]), "\(errs)")
            struct P: Decodable { let state: String; let external_ref: String?; let created_by: String }
            let drafts = try await f.store.sql.raw("SELECT state, external_ref, created_by FROM projects WHERE external_ref IS NOT NULL ORDER BY id").all(decoding: P.self)
            #expect(drafts.map(\.external_ref) == ["AK-1", "AK-2"] && drafts.allSatisfy { $0.state == "draft" && $0.created_by == "akimat.kz-35" })
            let again = try await imports.run(try await imports.submit(.projects, fileName: "p2.csv", data: Data((projectsFile + "\n").utf8), by: akimat).job.id)
            #expect(again.added == 0 && again.present == 2)
            await #expect(throws: FieldErrors.self) { try await imports.submit(.projects, fileName: "p.csv", data: Data(projectsFile.utf8), by: contractor) }
            // The contractor's monthly progress for a project in works.
            let id = try await approved(f)
            struct N: Decodable { let number: String }
            let number = try #require(try await f.store.sql.raw("SELECT number FROM projects WHERE id = \(bind: id)").first(decoding: N.self)).number
            let progressFile = """
            project,month,work_done_percent,work_done_amount,jobs_filled,jobs_by_referral,referred_avg_wage
            \(number),2021-04,12,48000000,20,4,120000
            \(number),2021-04,12,48000000,20,4,120000
            \(number),2021-05,20,80000000,20,4,120000
            IP-NONE,2021-04,12,1,1,0,
            \(number),2021-03,abc,1,2,3,
            """
            let p = try await imports.run(try await imports.submit(.progress, fileName: "r.csv", data: Data(progressFile.utf8), by: contractor).job.id)
            #expect(p.added == 1 && p.present == 1 && p.failed == 3)
            let perrs = Set(try await imports.errors(of: p.id).map { "\($0.row):\($0.column):\($0.code)" })
            #expect(perrs == ["4:month:project_report_month", "5:project:choose_from_list", "6:work_done_percent:project_percent_invalid"], "\(perrs)")
            #expect(try await ProjectStore(store: f.store).reports(of: id).map(\.state) == ["submitted"])
            // Another contractor's rows for this project are refused, and it learns nothing more.
            let other = try await imports.run(try await imports.submit(.progress, fileName: "x.csv", data: Data(progressFile.replacingOccurrences(of: "2021-04", with: "2021-06").utf8), by: try await f.user("contractor.demo")).job.id)
            #expect(other.added == 0)
        }
    }

    @Test func progressReportsAreDueByTheTenthAndSavingsNeedTheWorkingGroupAndTheCommission() async throws {
        try await withCases { f in
            let contractor = try await f.user("contractor.KZ-35"), akimat = try await f.user("akimat.KZ-35"), wg = try await f.user("working-group")
            let iac = try await f.user("interagency"), admin = try await f.user("admin")
            let projects = ProjectStore(store: f.store)
            let id = try await approved(f)
            let progress = ProjectStore.Progress(workDonePercent: FixedDecimal(12), workDoneAmount: Money(tenge: 48_000_000), jobsFilled: 20, jobsByReferral: 4, referredAverageWage: Money(tenge: 120_000))
            // May has not ended: only April can be reported.
            #expect(await codes { try await projects.submitReport(project: id, month: "2021-05", progress, env: f.env, by: contractor) } == ["project_report_month"])
            #expect(await codes { try await projects.submitReport(project: id, month: "2021-04", ProjectStore.Progress(workDonePercent: FixedDecimal(12), workDoneAmount: Money(tenge: 1), jobsFilled: 2, jobsByReferral: 3, referredAverageWage: Money(tenge: 1)), env: f.env, by: contractor) } == ["project_referred_jobs"])
            #expect(await codes { try await projects.submitReport(project: id, month: "2021-04", progress, env: f.env, by: try await f.user("contractor.demo")) } == ["refused:false"])
            // April's report is due on 10 May, a moved day off, so on Tuesday 11 May (H2).
            let p = try #require(try await projects.project(id, for: admin))
            #expect(try await projects.compliance(of: p, env: f.env, today: d("2021-05-11")).lateReports == 0)
            #expect(try await projects.compliance(of: p, env: f.env, today: d("2021-05-12")).lateReports == 1)
            try await projects.submitReport(project: id, month: "2021-04", progress, env: f.env, by: contractor)
            #expect(try await projects.reports(of: id).first?.due_on == "2021-05-11")
            try await projects.checkReport(project: id, month: "2021-04", accept: false, reason: "Сумма не сходится с актом", by: akimat)
            try await projects.submitReport(project: id, month: "2021-04", progress, env: f.env, by: contractor)
            try await projects.checkReport(project: id, month: "2021-04", accept: true, reason: "", by: akimat)
            #expect(try await projects.compliance(of: p, env: f.env, today: d("2021-05-12")).lateReports == 0)

            // Completion below the estimate records the saving (E11); it moves only after the working group's review and the commission's consent.
            try await projects.act(id, .complete, StepInput(on: d("2021-05-05"), finalCost: Money(tenge: 380_000_000)), env: f.env, by: akimat)
            let s = try #require(try await projects.saving(of: id))
            #expect(s.amount == Money(tenge: 20_000_000).tiyn && s.state == "recorded")
            let target = try await projects.create(try await input(f, jobs: 12, republican: 10_000_000), by: akimat)
            #expect(await codes { try await projects.decideSaving(project: id, target: target, decision: "МВК №5", by: iac) } == ["project_saving_state"])
            #expect(await codes { try await projects.reviewSaving(project: id, note: "Направить на школу", by: iac) } == ["refused:true"])
            try await projects.reviewSaving(project: id, note: "Направить на школу", by: wg)
            try await projects.decideSaving(project: id, target: target, decision: "МВК №5", by: iac)
            #expect(try await projects.saving(of: id)?.state == "directed")
            // Permanent jobs after commissioning: 4 jobs need ⌈0.6⌉ = 1 (and at least 1 with fewer than 6 staff); none yet.
            let done = try await projects.compliance(of: try #require(try await projects.project(id, for: admin)), env: f.env, today: d("2021-05-05"))
            #expect(done.permanentQuota == 1 && done.permanentStatus == .atRisk)
        }
    }
}
