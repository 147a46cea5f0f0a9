import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

/// Background jobs (payroll, report packs): asked for twice they are one job, raced for by two runners (two app
/// instances) they run once, and a runner that died leaves a job another runner finishes.
@Suite struct JobTests {
    /// Twelve people hired on social jobs from 11 May 2021: June 2021 is month 2 of each placement.
    func twelvePlacements(_ f: CaseFixture) async throws {
        let labour = LabourStore(store: f.store)
        let employer = try #require(try await OrganisationRecord.query(on: f.store.db).filter(\.$code == "contractor.demo").first()?.id)
        let vacancy = try await labour.createVacancy(VacancyInput(employerID: employer, title: "Каменщик", isco: "7112", districtID: nil, wage: Money(tenge: 120_000), places: 12,
                                                                  requirements: nil, validFrom: CivilDate(iso: "2021-05-01"), validUntil: CivilDate(iso: "2021-06-30")), by: f.caseworker)
        for serial in 0..<12 {
            let person = try await f.cases.register(Registration(iin: iin(1990, 4, 4, .male, 300 + serial).value, lastName: "Серіков", firstName: "Арман",
                                                                 occupationISCO: "7112", categories: [.jobSeeker], consent: true), by: f.caseworker)
            let referral = try await labour.refer(person: person, vacancy: vacancy, by: f.caseworker)
            try await labour.recordOutcome(referral: referral, .hired(position: "Каменщик", startsOn: CivilDate(iso: "2021-05-11")!, endsOn: nil, wage: Money(tenge: 120_000), subsidised: .socialJob),
                                           by: f.caseworker)
        }
        try await fund(f)
    }

    func count(_ f: CaseFixture, _ sql: String) async throws -> Int {
        struct C: Decodable { let n: Int }
        return try await f.store.sql.raw(SQLQueryString(sql)).first(decoding: C.self)?.n ?? -1
    }

    @Test func aPayrollAskedForTwiceAtOnceRunsOnce() async throws {
        try await withCases { f in
            try await twelvePlacements(f)
            let admin = try await f.user("admin")
            let jobs = JobStore(store: f.store)
            // Asked for at the same moment (two people, two instances): one job.
            async let a = jobs.submit(.payroll, subject: "2021-06", by: admin)
            async let b = jobs.submit(.payroll, subject: "2021-06", by: admin)
            let (ja, jb) = try await (a, b)
            #expect(ja.job.id == jb.job.id && ja.existing != jb.existing)
            // Two runners race for it: it runs once.
            let work = JobStore.payrollWork(store: f.store, env: { f.env })
            func race(_ owner: String) async throws -> String {
                do { return try await jobs.run(ja.job.id, owner: owner, work: work).state } catch JobStore.Failure.busy { return "busy" }
            }
            async let r1 = race("instance-a:\(UUID())")
            async let r2 = race("instance-b:\(UUID())")
            let outcomes = try await [r1, r2]
            #expect(outcomes.contains("done"))
            let job = try #require(try await jobs.job(ja.job.id))
            #expect(job.state == "done" && job.runs == 1 && job.done == 12 && job.total == 12)
            #expect(job.figures["added"] == "12" && job.figures["total"] == "312000.00")
            #expect(try await count(f, "SELECT COUNT(*) AS n FROM payroll_lines WHERE month = '2021-06'") == 12)
            #expect(try await count(f, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'payroll'") == 1)
            // Finished, the month may be asked for again: a new job, which adds nothing.
            let again = try await jobs.submit(.payroll, subject: "2021-06", by: admin)
            #expect(!again.existing && again.job.id != job.id)
            let second = try await jobs.run(again.job.id, work: work)
            #expect(second.figures["added"] == "0" && second.figures["placements"] == "12")
            #expect(try await jobs.latest(.payroll, subject: "2021-06")?.id == second.id)
            guard case .intact = try await AuditLog.verify(f.store.sql) else { Issue.record("audit chain broken"); return }
        }
    }

    @Test func aJobLeftByADeadRunnerIsTakenOverAndALiveOnesIsNot() async throws {
        try await withCases { f in
            try await twelvePlacements(f)
            let admin = try await f.user("admin")
            let jobs = JobStore(store: f.store)
            let id = try await jobs.submit(.payroll, subject: "2021-06", by: admin).job.id
            let work = JobStore.payrollWork(store: f.store, env: { f.env })
            let host = ProcessInfo.processInfo.hostName
            // A live process on this host (pid 1) holds an unexpired claim: nobody else may run the job.
            #expect(try await jobs.claim(id, owner: "\(host):1:live"))
            await #expect(throws: JobStore.Failure.busy) { try await jobs.run(id, owner: "other:\(UUID())", work: work) }
            // Its process is gone (a pid that does not exist): the claim is taken over at once and the job finished.
            try await f.store.sql.update("background_jobs").set("lease_owner", to: SQLBind("\(host):999999:dead")).where("id", .equal, SQLBind(id)).run()
            let finished = try await jobs.run(id, owner: "other:\(UUID())", work: work)
            #expect(finished.state == "done" && finished.runs == 2 && finished.figures["added"] == "12")
        }
    }

    @Test func aRunnerThatLostItsClaimStopsAndLeavesTheJobToTheNew() async throws {
        try await withCases { f in
            let admin = try await f.user("admin")
            let jobs = JobStore(store: f.store)
            let id = try await jobs.submit(.reportPack, subject: "roadmap_monthly/2021-06", scope: "test", by: admin).job.id
            let store = f.store
            // Half-way, another runner takes the job over (as after a lapsed lease): the first one's next step fails.
            let work: JobStore.Work = { job, progress in
                try await progress(1, 3)
                try await store.sql.update("background_jobs").set("lease_owner", to: SQLBind("newer")).where("id", .equal, SQLBind(job.id)).run()
                try await progress(2, 3)
                return (["never": "written"], nil)
            }
            await #expect(throws: JobStore.Failure.leaseLost) { try await jobs.run(id, owner: "older", work: work) }
            let job = try #require(try await jobs.job(id))
            #expect(job.state == "running" && job.done == 1 && job.result == nil)
            // Rules not in force make a failed job with its reason, not a runner's crash.
            let month = try await jobs.submit(.payroll, subject: "2007-02", by: admin).job.id
            let failed = try await jobs.run(month, work: JobStore.payrollWork(store: f.store, env: { f.env }))
            #expect(failed.state == "failed" && failed.problem == "rules_not_in_force")
        }
    }
}
