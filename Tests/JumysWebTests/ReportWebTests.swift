import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import SQLKit
import Testing
import Vapor
@testable import JumysWeb

/// The Roadmap's monthly report in the pages and as files, and the reporting calendar: a region files last month's
/// report, late when today is past its due date.
@Suite struct ReportWebTests {
    func user(_ store: Store, _ login: String) async throws -> UserContext {
        try #require(try await Directory(store: store).credentials(login: login)?.user)
    }

    /// A Karaganda project in works since 50 days ago with last month's progress accepted; returns last month.
    func projectWithLastMonth(_ store: Store) async throws -> Payroll.Month {
        let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
        let today = CivilDate(iso: Days.from(0))!
        let start = today.adding(days: -50), last = today.adding(months: -1)
        let month = Payroll.Month(String(format: "%04d-%02d", last.year, last.month))!
        let projects = ProjectStore(store: store)
        let akimat = try await user(store, "akimat.KZ-35")
        let district = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "350300000").first()?.id)
        let id = try await projects.create(ProjectInput(programme: .roadmap, districtID: district, settlement: "Топар", name: "Ремонт дороги Топар — Абай", objectType: .roads, workType: .repair,
                                                        nationalFund: .zero, republican: Money(tenge: 370_000_000), localBudget: Money(tenge: 30_000_000), cofinancing: .zero,
                                                        domesticCost: Money(tenge: 380_000_000), designDocs: true, expertisePassed: true, startsOn: start, endsOn: today.adding(months: 6),
                                                        jobsCreated: 37, permanentJobs: 4, averageWage: Money(tenge: 150_000)), by: akimat)
        try await projects.act(id, .propose, StepInput(on: start.adding(days: -10)), env: env, by: akimat)
        try await projects.act(id, .compile, StepInput(on: start.adding(days: -9)), env: env, by: try await user(store, "coordinator.KZ-35"))
        try await projects.act(id, .approveRegional, StepInput(on: start.adding(days: -8), decision: "Протокол №3", referralQuota: 8), env: env, by: try await user(store, "commission.KZ-35"))
        try await projects.act(id, .consolidate, StepInput(on: start.adding(days: -7)), env: env, by: try await user(store, "ministry.officer"))
        try await projects.act(id, .select, StepInput(on: start.adding(days: -6), decision: "Протокол РГ №2"), env: env, by: try await user(store, "working-group"))
        for y in Set([start.year, today.year]) { try await allocate(store, year: y, .roadmapProjects, tenge: 100_000_000_000) }
        try await projects.act(id, .approve, StepInput(on: start.adding(days: -5), decision: "Протокол МВК №1"), env: env, by: try await user(store, "interagency"))
        let contractor = try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == "contractor.KZ-35").first()?.id)
        try await projects.setParties(id, contractorID: contractor, contractorJobs: 37, subcontractors: [], by: akimat)
        try await projects.act(id, .start, StepInput(on: start), env: env, by: akimat)
        try await projects.submitReport(project: id, month: month.description, ProjectStore.Progress(workDonePercent: FixedDecimal(30), workDoneAmount: Money(tenge: 120_000_000), jobsFilled: 33,
                                                                                                    jobsByReferral: 0, referredAverageWage: .zero), env: env, by: try await user(store, "contractor.KZ-35"))
        try await projects.checkReport(project: id, month: month.description, accept: true, reason: "", by: akimat)
        return month
    }

    @Test func theRoadmapReportOnScreenAsXLSXAndCSVAndFiledByTheRegion() async throws {
        try await withJumys(persons: 0) { app, store in
            let month = try await projectWithLastMonth(store)
            let analyst = Browser(app)
            analyst.acceptLanguage = "ru"
            _ = try await analyst.signIn("analyst")
            let page = try await analyst.request(.GET, "/reports/roadmap_monthly/\(month)")
            #expect(page.status == .ok && page.body.contains("Карагандинская область") && page.body.contains("По республике") && page.body.contains(Money(tenge: 120_000_000).formatted()))
            // The CSV: twenty regions and the nation, whose figures are the sums of the regions'.
            let csv = try await analyst.request(.GET, "/reports/roadmap_monthly/\(month).csv")
            #expect(csv.status == .ok && csv.headers.contentType?.description.contains("text/csv") == true)
            let rows = csv.body.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            #expect(rows.count == 22)
            for col in 1...7 {
                let sum = rows[1...20].compactMap { Decimal(string: $0[col]) }.reduce(Decimal(0), +)
                #expect(Decimal(string: rows[21][col]) == sum, "column \(col)")
            }
            #expect(rows[21][5] == "120000000.00" && rows[21][6] == "33")
            // The XLSX, kept for scripts/xlsx_check.sh, which opens it with LibreOffice.
            let xlsx = try await analyst.request(.GET, "/reports/roadmap_monthly/\(month).xlsx")
            #expect(xlsx.status == .ok && xlsx.bytes.prefix(2) == Data([0x50, 0x4B]))
            let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("artifacts")
            try? FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
            try? xlsx.bytes.write(to: artifacts.appendingPathComponent("g1-sample.xlsx"))
            // The Programme's consolidated report (G4) the same way: the nation is the sum of the regions.
            let g4 = try await analyst.request(.GET, "/reports/programme_monthly/\(month)")
            #expect(g4.status == .ok && g4.body.contains("Программа 2020: ежемесячная сводная информация (G4)") && g4.body.contains("По республике"))
            let g4csv = try await analyst.request(.GET, "/reports/programme_monthly/\(month).csv")
            let g4rows = g4csv.body.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            #expect(g4rows.count == 22 && g4rows[1].count == 12)   // (the header's titles hold quoted commas)
            for col in 1...11 {
                #expect(Decimal(string: g4rows[21][col]) == g4rows[1...20].compactMap { Decimal(string: $0[col]) }.reduce(Decimal(0), +), "G4 column \(col)")
            }
            #expect(try await analyst.request(.GET, "/reports/programme_monthly/\(month).xlsx").bytes.prefix(2) == Data([0x50, 0x4B]))
            // The region's districts.
            let region = try await analyst.request(.GET, "/reports/roadmap_monthly/\(month)?region=KZ-35")
            #expect(region.body.contains("Абайский район") && region.body.contains("Сдать") == false)
            // Karaganda's akimat files it; the calendar shows it, late when today is past the due date (H2).
            let akimat = Browser(app)
            akimat.acceptLanguage = "ru"
            _ = try await akimat.signIn("akimat.KZ-35")
            #expect(try await akimat.request(.GET, "/reports/roadmap_monthly/\(month)").status == .seeOther)   // to its own region
            let own = try await akimat.request(.GET, "/reports/roadmap_monthly/\(month)?region=KZ-35")
            #expect(own.body.contains("Сдать"))
            #expect(try await akimat.request(.GET, "/reports/roadmap_monthly/\(month)?region=KZ-71").status == .notFound)
            #expect(try await akimat.post("/reports/roadmap_monthly/\(month)/KZ-35/save", ["submit": "true"]).status == .seeOther)
            let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
            let due = try Rules.reportDeadline(report: .roadmapMonthly, periodYear: month.year, periodMonth: month.month, env.context(on: month.last)).value
            let late = CivilDate(iso: Days.from(0))! > due
            let calendar = try await akimat.request(.GET, "/reports?year=\(month.year)")
            #expect(calendar.body.contains(due.iso) && calendar.body.contains(late ? "Сдан с опозданием" : "Сдан"))
            // The authorised body accepts it.
            let ministry = Browser(app)
            ministry.acceptLanguage = "ru"
            _ = try await ministry.signIn("ministry.officer")
            _ = try await ministry.request(.GET, "/reports/roadmap_monthly/\(month)?region=KZ-35")
            #expect(try await ministry.post("/reports/roadmap_monthly/\(month)/KZ-35/decide", ["accept": "true"]).status == .seeOther)
            #expect(try await akimat.request(.GET, "/reports?year=\(month.year)").body.contains("Принят"))
            let closed = try await akimat.post("/reports/roadmap_monthly/\(month)/KZ-35/save", ["submit": "true"])
            #expect(closed.status == .unprocessableEntity, "\(closed.status) \(closed.body.prefix(300))")
        }
    }

    @Test func theDashboardDrawsTheMapAndTheChartOnTheServer() async throws {
        try await withJumys(persons: 0) { app, store in
            let month = try await projectWithLastMonth(store)
            for lang in ["kk", "ru"] {
                let b = Browser(app)
                b.acceptLanguage = lang
                _ = try await b.signIn("analyst")
                let page = try await b.request(.GET, "/dashboard?measure=jobs&month=\(month)")
                #expect(page.status == .ok)
                // Twenty regions drawn as SVG with their values on hover, the same values in a table, no script.
                #expect(page.body.components(separatedBy: "<path ").count - 1 == 20)
                let karaganda = lang == "kk" ? "Қарағанды облысы" : "Карагандинская область"
                #expect(page.body.contains("<title>\(karaganda): 33</title>"))
                #expect(page.body.contains("Boundaries: geokz") && !page.body.contains("<script>"))
                #expect(page.body.contains("href=\"/dashboard/KZ-35?measure=jobs&amp;month=\(month)\""))
                let region = try await b.request(.GET, "/dashboard/KZ-35?measure=jobs&month=\(month)")
                #expect(region.body.contains(lang == "kk" ? "Абай ауданы" : "Абайский район") && region.body.contains("33"))
            }
            let analyst = Browser(app)
            _ = try await analyst.signIn("analyst")
            let limit = try await analyst.request(.GET, "/dashboard?measure=limit&month=\(month)")
            #expect(limit.body.contains("%</title>"))
            #expect(try await analyst.request(.GET, "/dashboard/KZ-99").status == .notFound)
            // A month with nothing in it: the legend's steps are still whole ranges, not "0–0".
            let empty = try await analyst.request(.GET, "/dashboard?measure=placed&month=2019-01")
            #expect(empty.body.contains(">0–1</text>") && !empty.body.contains(">0–0</text>"))
            // The plan of measures: read by all, kept by the authorised body.
            let plan = try await analyst.request(.GET, "/plan")
            #expect(plan.status == .ok && plan.body.contains("<td>28</td>"))
            #expect(!plan.body.contains("action=\"/plan/1\""))
            let ministry = Browser(app)
            ministry.acceptLanguage = "ru"
            _ = try await ministry.signIn("ministry.officer")
            #expect(try await ministry.request(.GET, "/plan").body.contains("Создание межведомственной комиссии по вопросам занятости населения"))
            let missing = try await ministry.post("/plan/roadmap/13", ["status": "done", "evidence": ""])
            #expect(missing.status == .unprocessableEntity && missing.body.contains("Укажите документ, подтверждающий выполнение"))
            #expect(try await ministry.post("/plan/roadmap/13", ["status": "done", "evidence": "Заключение № 12-3/456"]).status == .seeOther)
            #expect(try await ministry.request(.GET, "/plan").body.contains("Заключение № 12-3/456"))
            // The Programme 2020's own plan: 37 measures of 2011–2013, those waiting for the law not overdue.
            let programme = try await ministry.request(.GET, "/plan?plan=programme")
            #expect(programme.status == .ok && programme.body.contains("<td>4.2</td>") && programme.body.contains("после принятия Закона") && programme.body.contains("РБ- 11538,2 млн. тенге"))
            #expect(try await ministry.post("/plan/programme/4.2", ["status": "done", "evidence": "Постановление № 1"]).status == .seeOther)
            #expect(try await ministry.request(.GET, "/plan?plan=programme").body.contains("Постановление № 1"))
            #expect(!(try await ministry.request(.GET, "/plan").body.contains("Постановление № 1")))
            #expect(try await ministry.post("/plan/programme/99", ["status": "done", "evidence": "x"]).status == .notFound)
            let indicators = try await analyst.request(.GET, "/indicators?year=2013")
            #expect(indicators.status == .ok && indicators.body.contains("20 %") && indicators.body.contains("/parameters/target_unemployment_rate"))
            let regional = try await analyst.request(.GET, "/indicators?year=2013&region=KZ-35")
            #expect(regional.status == .ok && regional.body.contains("<option value=\"KZ-35\" selected=\"selected\">"))
            #expect(try await analyst.request(.GET, "/indicators?year=2013&region=KZ-99").status == .ok)
        }
    }

    /// A credit organisation files its C7 report with Astana's akimat through the pages, the akimat accepts it; the
    /// dashboard tells each body what waits for it.
    @Test func aLenderFilesWithTheAkimatAndTheDashboardSaysWhatWaits() async throws {
        try await withJumys(persons: 0) { app, store in
            let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
            try await allocate(store, year: Days.thisYear, .roadmapCredit, tenge: 100_000_000_000)
            try await allocate(store, year: Days.thisYear - 1, .roadmapCredit, tenge: 100_000_000_000)
            func org(_ code: String) async throws -> Int { try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == code).first()?.id) }
            let credits = CreditStore(store: store)
            // The credit came three months ago: the lender owes its reports for the months since.
            let start = CivilDate(iso: Days.from(-95))!
            let local = try await credits.grant(level: .localBody, parent: nil, year: start.year, direction: .roadmapCredit, region: "KZ-71", borrower: try await org("akimat.KZ-71"),
                                                amount: Money(tenge: 1_000_000_000), graceMonths: 12, transferredOn: start, decision: "Договор №1", env: env, by: try await user(store, "ministry.officer"))
            _ = try await credits.grant(level: .creditOrganisation, parent: local, year: 0, direction: .roadmapCredit, region: "", borrower: try await org("lender.demo"),
                                        amount: Money(tenge: 900_000_000), graceMonths: 12, transferredOn: start, decision: "Договор №2", env: env, by: try await user(store, "akimat.KZ-71"))
            let lenderID = try await org("lender.demo")
            let last = CivilDate(iso: Days.from(0))!.adding(months: -1)
            let month = String(format: "%04d-%02d", last.year, last.month)
            let lender = Browser(app)
            lender.acceptLanguage = "ru"
            _ = try await lender.signIn("lender.demo")
            let calendar = try await lender.request(.GET, "/reports?year=\(last.year)")
            #expect(calendar.status == .ok && calendar.body.contains("Кредитная организация: выданные кредиты") && !calendar.body.contains("Дорожная карта: ежемесячный отчёт (G1)"))
            let path = "/reports/loans_issued_by_lender/\(month)?region=KZ-71&filer=lender-\(lenderID)"
            #expect(calendar.body.contains(path))
            let page = try await lender.request(.GET, path)
            #expect(page.status == .ok && page.body.contains("Принимает или возвращает местный исполнительный орган") && page.body.contains("name=\"filer\" value=\"lender-\(lenderID)\""))
            // Another lender's filing, or a region's, is not the lender's to see.
            #expect(try await lender.request(.GET, "/reports/loans_issued_by_lender/\(month)?region=KZ-71&filer=lender-\(lenderID + 1)").status == .notFound)
            #expect(try await lender.request(.GET, "/reports/roadmap_monthly/\(month)?region=KZ-71").status == .notFound)
            // Before filing, the lender's dashboard counts its overdue reports (the months before last are past due).
            let before = try await lender.request(.GET, "/dashboard")
            #expect(before.body.contains("Отчёты к сдаче"))
            #expect(try await lender.post("/reports/loans_issued_by_lender/\(month)/KZ-71/save", ["submit": "true", "filer": "lender-\(lenderID)"]).status == .seeOther)
            let filed = try await MonitoringStore(store: store).submissions(report: .loansIssuedByLender, period: month, filer: MonitoringStore.Filer(region: "KZ-71", lender: lenderID))
            #expect(filed.count == 1 && filed[0].state == "submitted")
            // The akimat sees it waiting on its dashboard, and accepts it; the authorised body may not.
            let akimat = Browser(app)
            akimat.acceptLanguage = "ru"
            _ = try await akimat.signIn("akimat.KZ-71")
            let dash = try await akimat.request(.GET, "/dashboard")
            #expect(dash.body.contains("Сданные отчёты ждут вашего решения: 1") && dash.body.contains("href=\"/dashboard/KZ-71\""))
            let ministry = Browser(app)
            _ = try await ministry.signIn("ministry.officer")
            _ = try await ministry.request(.GET, "/reports")
            #expect(try await ministry.post("/reports/loans_issued_by_lender/\(month)/KZ-71/decide", ["accept": "true", "filer": "lender-\(lenderID)"]).status == .unprocessableEntity)
            _ = try await akimat.request(.GET, "/reports")
            #expect(try await akimat.post("/reports/loans_issued_by_lender/\(month)/KZ-71/decide", ["accept": "true", "filer": "lender-\(lenderID)"]).status == .seeOther)
            #expect(try await MonitoringStore(store: store).submissions(report: .loansIssuedByLender, period: month, filer: MonitoringStore.Filer(region: "KZ-71", lender: lenderID)).first?.state == "accepted")
            #expect(!(try await akimat.request(.GET, "/dashboard").body.contains("ждут вашего решения")))
            // The calendar as a file: the due dates are dates.
            let csv = try await akimat.request(.GET, "/reports.csv?year=\(last.year)")
            #expect(csv.status == .ok && csv.body.contains("Кредитная организация: выданные кредиты") && csv.body.contains(",Принят,"))
            let xlsx = try await akimat.request(.GET, "/reports.xlsx?year=\(last.year)")
            #expect(xlsx.status == .ok && xlsx.headers.contentType?.subType.contains("spreadsheetml") == true)
            // The quarterly report (G2) has its own period form; a month is not a quarter.
            #expect(try await akimat.request(.GET, "/reports/roadmap_quarterly/\(month)?region=KZ-71").status == .notFound)
            let q = (last.month - 1) / 3 + 1
            #expect(try await akimat.request(.GET, "/reports/roadmap_quarterly/\(last.year)-Q\(q)?region=KZ-71").status == .ok)
        }
    }
}
