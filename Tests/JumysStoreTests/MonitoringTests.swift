import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

/// The Roadmap's monthly report (G1) and the reporting calendar (G1, C7, H2) on the fixture's clock, 2021-05-05.
@Suite struct MonitoringTests {
    func codes(_ body: () async throws -> Void) async -> [String] {
        do { try await body(); return [] } catch let e as FieldErrors { return e.errors.map(\.code) } catch { return ["\(error)"] }
    }

    @Test func theRoadmapReportRollsUpFromDistrictsToTheNation() async throws {
        try await withCases { f in
            let projects = ProjectStore(store: f.store), monitoring = MonitoringStore(store: f.store)
            let id = try await ProjectTests().approved(f)   // Karaganda Region, Abay District, works from 2021-04-12
            let akimat = try await f.user("akimat.KZ-35")
            try await projects.submitReport(project: id, month: "2021-04", ProjectStore.Progress(workDonePercent: FixedDecimal(20), workDoneAmount: Money(tenge: 80_000_000), jobsFilled: 30,
                                                                                                 jobsByReferral: 0, referredAverageWage: .zero), env: f.env, by: try await f.user("contractor.KZ-35"))
            let april = try #require(Payroll.Month("2021-04"))
            // Not yet accepted by the akimat: the work done does not count.
            #expect(try await monitoring.roadmapMonthly(month: april).total.workDone == 0)
            try await projects.checkReport(project: id, month: "2021-04", accept: true, reason: "", by: akimat)
            let nation = try await monitoring.roadmapMonthly(month: april)
            #expect(nation.lines.count == 20 && nation.level == "region")
            let karaganda = try #require(nation.lines.first { $0.place == "KZ-35" })
            #expect(karaganda.contractors == 2 && karaganda.inWorks == 1 && karaganda.started == 1 && karaganda.startedByWork == ["repair": 1] && karaganda.startedByObject == ["roads": 1])
            #expect(karaganda.workDone == 8_000_000_000 && karaganda.jobs == 30 && karaganda.finished == 0)
            // The nation is the sum of its regions; the region the sum of its districts, and the same as its line.
            var sum = MonitoringStore.G1Line(place: "KZ")
            for l in nation.lines { sum.add(l) }
            #expect(sum == nation.total)
            let districts = try await monitoring.roadmapMonthly(month: april, region: "KZ-35")
            #expect(districts.level == "district" && districts.lines.count == 7)
            var region = districts.total; region.place = "KZ-35"
            #expect(region == karaganda)
            // May: nothing started, the project still in works; March: before the works.
            #expect(try await monitoring.roadmapMonthly(month: Payroll.Month("2021-05")!).total.inWorks == 1)
            #expect(try await monitoring.roadmapMonthly(month: Payroll.Month("2021-03")!).total == MonitoringStore.G1Line(place: "KZ"))
        }
    }

    @Test func submittedReportsAreFrozenVersionedAndLateAfterTheirDueDate() async throws {
        try await withCases { f in
            let monitoring = MonitoringStore(store: f.store)
            _ = try await ProjectTests().approved(f)
            let akimat = try await f.user("akimat.KZ-35"), ministry = try await f.user("ministry.officer")
            let april = try #require(MonitoringStore.Period("2021-04", for: .roadmapMonthly)), march = try #require(MonitoringStore.Period("2021-03", for: .roadmapMonthly))
            let karaganda = MonitoringStore.Filer(region: "KZ-35")
            // H2: April's report is due by 10 May 2021, a day off (Victory Day moved from Sunday 9 May): so 11 May.
            var cal = try await monitoring.calendar(year: 2021, regions: ["KZ-35"], env: f.env, today: f.store.today())
            let aprilLine = try #require(cal.first { $0.report == .roadmapMonthly && $0.period == "2021-04" })
            #expect(aprilLine.due == CivilDate(iso: "2021-05-11") && aprilLine.status == .notStarted)
            // March's was due by 10 April, a Saturday: so Monday 12 April — passed, and not submitted.
            let marchLine = try #require(cal.first { $0.report == .roadmapMonthly && $0.period == "2021-03" })
            #expect(marchLine.due == CivilDate(iso: "2021-04-12") && marchLine.status == .overdue)
            #expect(!cal.contains { $0.period == "2021-05" })   // May has not ended
            // G3: the monthly report to the interagency commission is due by the 25th.
            #expect(cal.first { $0.report == .roadmapCommission && $0.period == "2021-04" }?.due == CivilDate(iso: "2021-05-25"))
            // Only the region's akimat submits; a draft first, then the submission (version 1, on time).
            #expect(await codes { try await monitoring.save(report: .roadmapMonthly, period: april, filer: karaganda, submit: true, env: f.env, by: ministry) } == ["limit_not_your_body"])
            #expect(await codes { try await monitoring.save(report: .roadmapMonthly, period: april, filer: MonitoringStore.Filer(region: "KZ-71"), submit: true, env: f.env, by: akimat) } == ["limit_not_your_body"])
            try await monitoring.save(report: .roadmapMonthly, period: april, filer: karaganda, submit: false, env: f.env, by: akimat)
            let v1 = try await monitoring.save(report: .roadmapMonthly, period: april, filer: karaganda, submit: true, env: f.env, by: akimat)
            #expect(v1.version == 1 && v1.state == "submitted" && !v1.late && v1.status == .submitted && v1.submitted_on == "2021-05-05")
            let frozen = try JSONDecoder().decode(MonitoringStore.G1Report.self, from: Data(v1.snapshot.utf8))
            #expect(frozen.total.inWorks == 1 && frozen.region == "KZ-35")
            // March submitted today, after its due date: late.
            let late = try await monitoring.save(report: .roadmapMonthly, period: march, filer: karaganda, submit: true, env: f.env, by: akimat)
            #expect(late.late && late.status == .late)
            // The authorised body returns April; the correction is version 2; once accepted it is closed.
            #expect(await codes { try await monitoring.decide(report: .roadmapMonthly, period: april, filer: karaganda, accept: false, reason: "", by: ministry) } == ["note_required"])
            try await monitoring.decide(report: .roadmapMonthly, period: april, filer: karaganda, accept: false, reason: "Не указаны субподрядчики", by: ministry)
            let v2 = try await monitoring.save(report: .roadmapMonthly, period: april, filer: karaganda, submit: true, env: f.env, by: akimat)
            #expect(v2.version == 2)
            try await monitoring.decide(report: .roadmapMonthly, period: april, filer: karaganda, accept: true, reason: "", by: ministry)
            #expect(await codes { try await monitoring.save(report: .roadmapMonthly, period: april, filer: karaganda, submit: true, env: f.env, by: akimat) } == ["report_accepted"])
            let versions = try await monitoring.submissions(report: .roadmapMonthly, period: "2021-04", filer: karaganda)
            #expect(versions.map(\.version) == [2, 1] && versions.map(\.state) == ["accepted", "returned"])
            cal = try await monitoring.calendar(year: 2021, regions: ["KZ-35"], env: f.env, today: f.store.today())
            #expect(cal.first { $0.report == .roadmapMonthly && $0.period == "2021-04" }?.status == .accepted)
            #expect(cal.first { $0.report == .roadmapMonthly && $0.period == "2021-03" }?.status == .late)
            // The loan reports of the second direction start with February 2021 (C7).
            #expect(cal.first { $0.report == .loansIssuedByAkimat && $0.period == "2021-01" } == nil)
            #expect(cal.first { $0.report == .loansIssuedByAkimat && $0.period == "2021-02" }?.due == CivilDate(iso: "2021-03-15"))
        }
    }

    /// G2 and C7 in the calendar: the akim's quarterly report goes to the interagency commission; a credit organisation
    /// files its own loan reports with the region's akimat, which accepts them; the half-year monitoring is the akimat's.
    @Test func quarterlyLenderAndHalfYearReportsHaveTheirFilersAndDeciders() async throws {
        try await withCases { f in
            let monitoring = MonitoringStore(store: f.store)
            _ = try await FinanceTests().chain(f)   // Astana's akimat lends on to the demo credit organisation on 2021-03-15
            let lender = try await f.user("lender.demo"), lenderOrg = try await f.org("lender.demo")
            let astana = try await f.user("akimat.KZ-71"), ministry = try await f.user("ministry.officer"), iac = try await f.user("interagency")
            let own = MonitoringStore.Filer(region: "KZ-71", lender: lenderOrg)
            // The lender's calendar holds its own two reports for March and April only (its credit came in March).
            let mine = try await monitoring.calendar(year: 2021, regions: [], lender: lenderOrg, env: f.env, today: f.store.today())
            #expect(Set(mine.map { "\($0.report.rawValue) \($0.period)" }) == ["loans_issued_by_lender 2021-03", "loans_use_by_lender 2021-03", "loans_issued_by_lender 2021-04", "loans_use_by_lender 2021-04"])
            #expect(mine.allSatisfy { $0.filer == own })
            // By the 10th: 10 May 2021 is the day off for Victory Day, so the 11th.
            #expect(mine.first { $0.report == .loansIssuedByLender && $0.period == "2021-04" }?.due == CivilDate(iso: "2021-05-11"))
            // Astana's calendar holds its own reports, the lender's, the first quarter's G2 (due 25 April, a Sunday:
            // the 26th) and no half-year yet (the first half has not ended on 5 May).
            let city = try await monitoring.calendar(year: 2021, regions: ["KZ-71"], env: f.env, today: f.store.today())
            #expect(city.contains { $0.filer == own && $0.report == .loansUseByLender && $0.period == "2021-04" })
            let q1 = try #require(city.first { $0.report == .roadmapQuarterly })
            #expect(q1.period == "2021-Q1" && q1.due == CivilDate(iso: "2021-04-26") && q1.status == .overdue && q1.filer.lender == nil)
            #expect(!city.contains { $0.report == .loanMonitoring })
            // The lender files; the akimat cannot file the lender's report, and the lender cannot file the akimat's.
            let april = try #require(MonitoringStore.Period("2021-04", for: .loansIssuedByLender))
            #expect(await codes { try await monitoring.save(report: .loansIssuedByLender, period: april, filer: own, submit: true, env: f.env, by: astana) } == ["limit_not_your_body"])
            #expect(await codes { try await monitoring.save(report: .loansIssuedByAkimat, period: april, filer: MonitoringStore.Filer(region: "KZ-71"), submit: true, env: f.env, by: lender) } == ["limit_not_your_body"])
            #expect(await codes { try await monitoring.save(report: .loansIssuedByLender, period: april, filer: MonitoringStore.Filer(region: "KZ-35", lender: lenderOrg), submit: true, env: f.env, by: lender) } == ["limit_not_your_body"])
            let filed = try await monitoring.save(report: .loansIssuedByLender, period: april, filer: own, submit: true, env: f.env, by: lender)
            #expect(filed.filer == "lender-\(lenderOrg)" && filed.region_iso == "KZ-71" && !filed.late)
            // The local body decides on it, not the authorised body.
            #expect(await codes { try await monitoring.decide(report: .loansIssuedByLender, period: april, filer: own, accept: true, reason: "", by: ministry) } == ["limit_not_your_body"])
            try await monitoring.decide(report: .loansIssuedByLender, period: april, filer: own, accept: true, reason: "", by: astana)
            #expect(try await monitoring.submissions(report: .loansIssuedByLender, period: "2021-04", filer: own).first?.state == "accepted")
            // G2: the akimat files the quarter late, with each month's G1 frozen; the commission decides, not the ministry.
            let quarter = try #require(MonitoringStore.Period("2021-Q1", for: .roadmapQuarterly))
            #expect(MonitoringStore.Period("2021-03", for: .roadmapQuarterly) == nil && MonitoringStore.Period("2021-Q5", for: .roadmapQuarterly) == nil)
            let g2 = try await monitoring.save(report: .roadmapQuarterly, period: quarter, filer: MonitoringStore.Filer(region: "KZ-71"), submit: true, env: f.env, by: astana)
            #expect(g2.late && g2.period == "2021-Q1")
            let months = try JSONDecoder().decode([MonitoringStore.G1Report].self, from: Data(g2.snapshot.utf8))
            #expect(months.map(\.month) == ["2021-01", "2021-02", "2021-03"])
            #expect(await codes { try await monitoring.decide(report: .roadmapQuarterly, period: quarter, filer: MonitoringStore.Filer(region: "KZ-71"), accept: true, reason: "", by: ministry) } == ["limit_not_your_body"])
            try await monitoring.decide(report: .roadmapQuarterly, period: quarter, filer: MonitoringStore.Filer(region: "KZ-71"), accept: true, reason: "", by: iac)
            // The half-year monitoring of 2021's first half shows once the half has ended, due 10 September.
            let later = try await monitoring.calendar(year: 2021, regions: ["KZ-71"], env: f.env, today: CivilDate(iso: "2021-07-01")!)
            #expect(later.first { $0.report == .loanMonitoring }.map { "\($0.period) \($0.due.iso)" } == "2021-H1 2021-09-10")
        }
    }

    /// The migration that keys filings by filer and plan states by plan carries the rows kept before it, both ways.
    @Test func filingsAndPlanStatesSurviveTheMigrationBothWays() async throws {
        try await withCases { f in
            let monitoring = MonitoringStore(store: f.store), plan = PlanStore(store: f.store)
            _ = try await ProjectTests().approved(f)
            let karaganda = MonitoringStore.Filer(region: "KZ-35")
            let april = try #require(MonitoringStore.Period("2021-04", for: .roadmapMonthly))
            try await monitoring.save(report: .roadmapMonthly, period: april, filer: karaganda, submit: true, env: f.env, by: try await f.user("akimat.KZ-35"))
            try await plan.update(.roadmap, "13", status: .done, evidence: "Приказ № 1", by: try await f.user("ministry.officer"))
            struct N: Decodable { let n: Int }
            func count(_ table: String) async throws -> Int { try await f.store.sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first(decoding: N.self)!.n }
            try await MonitoringFilersAndPlans().revert(on: f.store.db)
            let old = (try await count("report_submissions"), try await count("plan_measures"))
            #expect(old == (1, 1))
            try await MonitoringFilersAndPlans().prepare(on: f.store.db)
            let back = try await monitoring.submissions(report: .roadmapMonthly, period: "2021-04", filer: karaganda)
            #expect(back.count == 1 && back[0].state == "submitted" && back[0].filer == "akimat")
            #expect(try await plan.lines(.roadmap, today: f.store.today(), env: f.env).first { $0.measure.n == "13" }?.evidence == "Приказ № 1")
            // New rows after the move get new ids.
            try await monitoring.save(report: .roadmapMonthly, period: april, filer: karaganda, submit: true, env: f.env, by: try await f.user("akimat.KZ-35"))
            #expect(try await monitoring.submissions(report: .roadmapMonthly, period: "2021-04", filer: karaganda).map(\.version) == [2, 1])
        }
    }

    @Test func theTargetIndicatorsStandNextToTheFiguresFromTheData() async throws {
        try await withCases { f in
            // Two unemployed people included in 2021, one of them rural; a third only applied.
            for (serial, rural, include) in [(30, true, true), (40, false, true), (50, false, false)] {
                let person = try await f.register(iin(1995, 4, 4, .male, serial), categories: [.unemployed], rural: rural)
                let app = try await f.cases.createApplication(person: person, measure: .socialJob, env: f.env, by: f.caseworker)
                guard include else { continue }
                try await f.cases.transition(application: app, .startReview, env: f.env, by: f.caseworker)
                try await f.cases.transition(application: app, .include, env: f.env, by: f.caseworker)
            }
            let rows = try await MonitoringStore(store: f.store).indicators(year: 2021, env: f.env)
            func row(_ k: String) throws -> MonitoringStore.Indicator { try #require(rows.first { $0.key == k }) }
            // G5: 1.5 million by 2020, still the target in 2021; two covered, the gap shown and not met.
            #expect(try row("coverage_total").target == FixedDecimal(1_500_000) && row("coverage_total").actual == FixedDecimal(2) && row("coverage_total").met == false)
            #expect(try row("coverage_rural").actual == FixedDecimal(1))
            // Two of the 452,200 unemployed of 2023: 0.0 %; the yearly share targets ran to 2015, so none for 2021.
            #expect(try row("coverage_unemployed_share").actual == FixedDecimal(0) && row("coverage_unemployed_share").target == nil)
            #expect(try row("unemployment_rate").actual == nil && row("unemployment_rate").atMost)
            // By region: Astana's two, none in Karaganda; a region has no count target of its own.
            let astana = try await MonitoringStore(store: f.store).indicators(year: 2021, region: "KZ-71", env: f.env)
            let karaganda = try await MonitoringStore(store: f.store).indicators(year: 2021, region: "KZ-35", env: f.env)
            #expect(astana.first { $0.key == "coverage_total" }?.actual == FixedDecimal(2) && astana.first { $0.key == "coverage_total" }?.target == nil)
            #expect(karaganda.first { $0.key == "coverage_total" }?.actual == FixedDecimal(0))
            // 2013's targets: a share of the unemployed of 20 %, unemployment at most 5.7 %.
            let y2013 = try await MonitoringStore(store: f.store).indicators(year: 2013, env: f.env)
            #expect(y2013.first { $0.key == "coverage_unemployed_share" }?.target == FixedDecimal(20))
            #expect(y2013.first { $0.key == "unemployment_rate" }?.target == FixedDecimal(units: 57_000))
        }
    }

    @Test func thePlanOfMeasuresFlagsWhatIsOverdue() async throws {
        try await withCases { f in
            let plan = PlanStore(store: f.store)
            let measures = try PlanStore.measures()
            #expect(measures.count == 28 && measures.map(\.n) == (1...28).map(String.init))
            #expect(measures.allSatisfy { !($0.name["kk"] ?? "").isEmpty && !($0.name["ru"] ?? "").isEmpty && !($0.name["en"] ?? "").isEmpty && !($0.responsible["ru"] ?? "").isEmpty })
            // On 5 May 2021: the April 2020 measures are overdue until done; the monthly G1 entry is next due 11 May.
            var lines = try await plan.lines(today: f.store.today(), env: f.env)
            #expect(lines.first { $0.measure.n == "13" }?.overdue == true)
            #expect(lines.first { $0.measure.n == "7" }?.overdue == false)   // by December 2021
            #expect(lines.first { $0.measure.n == "21" }?.nextDue == CivilDate(iso: "2021-05-11") && lines.first { $0.measure.n == "21" }?.overdue == false)
            #expect(lines.first { $0.measure.n == "22" }?.nextDue == CivilDate(iso: "2021-05-25"))
            let ministry = try await f.user("ministry.officer")
            #expect(await codes { try await plan.update(.roadmap, "13", status: .done, evidence: "", by: ministry) } == ["plan_evidence_required"])
            #expect(await codes { try await plan.update(.roadmap, "13", status: .done, evidence: "x", by: try await f.user("akimat.KZ-35")) } == ["limit_not_your_body"])
            try await plan.update(.roadmap, "13", status: .done, evidence: "Заключение Минтруда № 12-3/456 от 20.04.2020", by: ministry)
            lines = try await plan.lines(today: f.store.today(), env: f.env)
            let done = try #require(lines.first { $0.measure.n == "13" })
            #expect(done.status == .done && !done.overdue && done.completedOn == "2021-05-05" && done.evidence.contains("12-3/456"))
            // The Programme 2020's plan: its measures of 2011 are overdue until done; those due after the law are not.
            let programme = try PlanStore.measures(.programme)
            #expect(programme.count == 37 && programme.first?.n == "1.1" && programme.allSatisfy { !($0.name["kk"] ?? "").isEmpty && !($0.name["en"] ?? "").isEmpty })
            let p = try await plan.lines(.programme, today: f.store.today(), env: f.env)
            #expect(p.first { $0.measure.n == "1.1" }?.overdue == true && p.first { $0.measure.n == "4.2" }?.overdue == false && p.first { $0.measure.n == "4.2" }?.measure.afterLaw == true)
            // The same number in the two plans is two measures.
            try await plan.update(.programme, "13", status: .inProgress, evidence: "", by: ministry)
            #expect(try await plan.lines(.roadmap, today: f.store.today(), env: f.env).first { $0.measure.n == "13" }?.status == .done)
        }
    }
}
