import Foundation
import JumysDomain
import JumysStore
import Testing
import Vapor
@testable import JumysWeb

/// Background work on the pages: a report pack with its progress page and its workbook; who may ask for it and
/// see it; the API's payroll run going through the same job.
@Suite struct JobWebTests {
    @Test func aReportPackIsMadeInTheBackgroundAndDownloaded() async throws {
        try await withJumys(persons: 40) { app, store in
            let analyst = Browser(app)
            _ = try await analyst.signIn("analyst")
            let report = try await analyst.request(.GET, "/reports/programme_monthly/2026-09")
            #expect(report.body.contains("action=\"/reports/programme_monthly/2026-09/pack\""))
            let asked = try await analyst.post("/reports/programme_monthly/2026-09/pack", [:])
            #expect(asked.status == .seeOther)
            // Asked again while it waits or runs: the same job.
            let location = try #require(asked.headers.first(name: .location))
            let page = try await analyst.finished(asked)
            #expect(page.body.contains("/jobs/") && page.body.contains("/file"))
            let job = try #require(try await JobStore(store: store).job(Int(location.split(separator: "/").last!)!))
            #expect(job.state == "done" && job.figures["sheets"] == "21" && job.done == 21 && job.total == 21)
            let file = try await analyst.request(.GET, location + "/file")
            #expect(file.status == .ok && file.bytes.prefix(2) == Data([0x50, 0x4B]))
            #expect(file.headers.first(name: .contentDisposition)?.contains("g4-2026-09-pack.xlsx") == true)
            #expect(try await analyst.request(.GET, "/jobs").body.contains(location))
            // Someone else's job is not theirs to see; the administrator sees every job.
            let akimat = Browser(app)
            _ = try await akimat.signIn("akimat.KZ-35")
            #expect(try await akimat.request(.GET, location).status == .notFound)
            #expect(try await akimat.request(.GET, location + "/file").status == .notFound)
            let admin = Browser(app)
            _ = try await admin.signIn("admin")
            #expect(try await admin.request(.GET, location).status == .ok)
            // A region's officer gets the region by district: one sheet.
            try await akimat.request(.GET, "/reports/roadmap_monthly/2026-09?region=KZ-35")
            let own = try await akimat.finished(try await akimat.post("/reports/roadmap_monthly/2026-09/pack", [:]))
            #expect(own.body.contains("confirmation"))
            let officer = try #require(try await Directory(store: store).credentials(login: "akimat.KZ-35")?.user)
            let ownJob = try #require(try await JobStore(store: store).jobs(for: officer).first)
            #expect(ownJob.figures["sheets"] == "1" && ownJob.parameters["regions"] == "KZ-35")
            // A lender has no such report; a report that is not monthly has no pack.
            let lender = Browser(app)
            _ = try await lender.signIn("lender.demo")
            try await lender.request(.GET, "/")
            #expect(try await lender.post("/reports/programme_monthly/2026-09/pack", [:]).status == .notFound)
            #expect(try await analyst.post("/reports/loan_monitoring/2026-09/pack", [:]).status == .notFound)
        }
    }

    @Test func theAPIsPayrollRunIsTheBackgroundJobAndTwoAtOnceRunItOnce() async throws {
        try await withJumys(persons: 40) { app, store in
            let b = Browser(app)
            let token = try await apiToken(app, "admin")
            let month = Days.nextMonth
            try await allocate(store, year: CivilDate(iso: month + "-01")!.year, .programmeTraining)
            async let first = Browser(app).request(.POST, "/api/v1/payroll/\(month)/run", json: "{}", bearer: token)
            async let second = Browser(app).request(.POST, "/api/v1/payroll/\(month)/run", json: "{}", bearer: token)
            let (r1, r2) = try await (first, second)
            #expect(r1.status == .ok && r2.status == .ok)
            struct Run: Decodable { let added: Int; let placements: Int; let job_id: Int }
            let a = try JSONDecoder().decode(Run.self, from: r1.bytes), c = try JSONDecoder().decode(Run.self, from: r2.bytes)
            // Either both waited on one job, or the second came after the first had finished and added nothing.
            #expect(a.job_id == c.job_id ? a.added == c.added : min(a.added, c.added) == 0)
            let administrator = try #require(try await Directory(store: store).credentials(login: "admin")?.user)
            let jobs = try await JobStore(store: store).jobs(for: administrator, kind: .payroll)
            #expect(jobs.allSatisfy { $0.runs == 1 && $0.state == "done" })
            // The page's payroll for the month shows the latest run's outcome; a month out of the rules is 422 at once.
            #expect(try await b.request(.POST, "/api/v1/payroll/2007-02/run", json: "{}", bearer: token).status == .unprocessableEntity)
        }
    }
}
