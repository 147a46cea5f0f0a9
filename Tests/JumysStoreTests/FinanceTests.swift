import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

/// The year's national limit of a direction split between the regions and approved, for tests that pay or commit.
func fund(_ f: CaseFixture, year: Int = 2021, _ direction: FundingDirection = .programmeTraining, tenge: Int64 = 10_000_000_000) async throws {
    let dir = Directory(store: f.store), limits = LimitStore(store: f.store)
    let ministry = try #require(try await dir.credentials(login: "ministry.officer")?.user), iac = try #require(try await dir.credentials(login: "interagency")?.user)
    let id = try await limits.propose(year: year, direction: direction, total: Money(tenge: tenge), period: LimitStore.shippedPeriod, by: ministry)
    try await limits.approve(allocation: id, decision: "Протокол МВК №1", by: iac)
}

/// Funding limits (F1, F2, E11) and the credit chain (C2, C4–C8) on the fixture's clock, Wednesday 2021-05-05.
@Suite struct FinanceTests {
    func codes(_ body: () async throws -> Void) async -> [String] {
        do { try await body(); return [] } catch let e as FieldErrors { return e.errors.map(\.code) } catch { return ["\(error)"] }
    }
    func d(_ s: String) -> CivilDate { CivilDate(iso: s)! }

    /// Proposes and approves a year's national limit of a direction.
    @discardableResult
    func allocate(_ f: CaseFixture, year: Int = 2021, _ direction: FundingDirection, tenge: Int64) async throws -> Int {
        let limits = LimitStore(store: f.store)
        let id = try await limits.propose(year: year, direction: direction, total: Money(tenge: tenge), period: LimitStore.shippedPeriod, by: try await f.user("ministry.officer"))
        try await limits.approve(allocation: id, decision: "Протокол МВК №1", by: try await f.user("interagency"))
        return id
    }

    @Test func aNationalLimitIsSplitExactlyAndReallocatedOnlyByApproval() async throws {
        try await withCases { f in
            let limits = LimitStore(store: f.store)
            let ministry = try await f.user("ministry.officer"), iac = try await f.user("interagency"), akimat = try await f.user("akimat.KZ-35")
            // The shipped labour force has all 20 regions; an odd total leaves remainders to hand out.
            #expect(try await limits.labourForce(period: "2023").count == 20)
            let total: Int64 = 123_456_789_017
            #expect(await codes { try await limits.propose(year: 2021, direction: .roadmapProjects, total: Money(tenge: total), period: "2023", by: iac) } == ["limit_not_your_body"])
            let id = try await limits.propose(year: 2021, direction: .roadmapProjects, total: Money(tenge: total), period: "2023", by: ministry)
            #expect(try await limits.limits(year: 2021).isEmpty) // nothing until the commission approves
            #expect(await codes { try await limits.approve(allocation: id, decision: "МВК №1", by: ministry) } == ["limit_not_your_body"])
            try await limits.approve(allocation: id, decision: "Протокол МВК №1", by: iac)
            let rows = try await limits.limits(year: 2021)
            #expect(rows.count == 20)
            #expect(rows.reduce(Int64(0)) { $0 + $1.amount } == total * 100)
            // Proportional to the labour force: Almaty city (1,098.1 thousand) gets more than Ulytau Region (110.1).
            let by = Dictionary(uniqueKeysWithValues: rows.map { ($0.region_iso, $0.amount) })
            #expect(by["KZ-75"]! > by["KZ-62"]! * 9)
            // F1: a direction is allocated once; later changes are corrections and reallocations.
            #expect(await codes { try await limits.propose(year: 2021, direction: .roadmapProjects, total: Money(tenge: 1000), period: "2023", by: ministry) } == ["limit_already_allocated"])

            // A reallocation between two regions: proposed, then approved by the commission, and in the history.
            let change = try await limits.proposeChange(year: 2021, kind: .reallocation, from: .init(.roadmapProjects, "KZ-35"), to: .init(.roadmapProjects, "KZ-71"),
                                                        amount: Money(tenge: 1_000_000), reason: "Перераспределение по итогам I квартала", by: ministry)
            #expect(try await limits.limits(year: 2021).first { $0.region_iso == "KZ-35" }!.amount == by["KZ-35"]!) // not moved yet
            try await limits.decideChange(change, approve: true, decision: "Протокол МВК №4", by: iac)
            let after = Dictionary(uniqueKeysWithValues: try await limits.limits(year: 2021).map { ($0.region_iso, $0.amount) })
            #expect(after["KZ-35"]! == by["KZ-35"]! - 100_000_000 && after["KZ-71"]! == by["KZ-71"]! + 100_000_000)
            #expect(after.values.reduce(0, +) == total * 100)
            let history = try await limits.history(year: 2021)
            let moved = try #require(history.first { $0.id == change })
            #expect(moved.kind == "reallocation" && moved.state == "approved" && moved.decision == "Протокол МВК №4" && moved.from_region == "KZ-35" && moved.to_region == "KZ-71")
            #expect(history.filter { $0.kind == "allocation" }.count == 20)
            // A refused change moves nothing.
            let refused = try await limits.proposeChange(year: 2021, kind: .correction, from: nil, to: .init(.roadmapProjects, "KZ-10"), amount: Money(tenge: 5_000_000), reason: "Уточнение", by: ministry)
            try await limits.decideChange(refused, approve: false, decision: "Протокол МВК №5", by: iac)
            #expect(try await limits.limits(year: 2021).first { $0.region_iso == "KZ-10" }!.amount == by["KZ-10"]!)

            // A commitment made before the region splits its limit belongs to its district once the district gets a share.
            let nura = try #require(try await DistrictRecord.query(on: f.store.db).filter(\.$kato == "350600000").first()?.id)
            try await f.store.write(as: .system) { ctx in
                try await LimitStore.commit(ctx, year: 2021, direction: .roadmapProjects, region: "KZ-35", district: nura, kind: .project, reference: "project:0", amount: 5_000_000_000, on: CivilDate(iso: "2021-05-05")!)
            }
            #expect(try await limits.limits(year: 2021, region: "KZ-35").first { $0.district_id == 0 && $0.direction == "rm_projects" }?.committed == 5_000_000_000)
            // The region splits its limit by district; the districts never hold more than the region.
            let abay = try #require(try await DistrictRecord.query(on: f.store.db).filter(\.$kato == "350300000").first()?.id)
            #expect(await codes { try await limits.splitByDistrict(year: 2021, direction: .roadmapProjects, region: "KZ-35", amounts: [abay: Money(tiyn: after["KZ-35"]! + 100)], decision: "Постановление №1", by: akimat) }
                    == ["limit_districts_exceed"])
            try await limits.splitByDistrict(year: 2021, direction: .roadmapProjects, region: "KZ-35", amounts: [abay: Money(tenge: 400_000_000)], decision: "Постановление акимата №1", by: akimat)
            #expect(try await limits.limits(year: 2021, region: "KZ-35").first { $0.district_id == abay }?.amount == 40_000_000_000)
            #expect(await codes { try await limits.splitByDistrict(year: 2021, direction: .roadmapProjects, region: "KZ-71", amounts: [:], decision: "x", by: akimat) } == ["limit_not_your_body"])
            #expect(await codes { try await limits.splitByDistrict(year: 2021, direction: .roadmapProjects, region: "KZ-35", amounts: [nura: Money(tenge: 40_000_000)], decision: "Постановление №2", by: akimat) } == ["limit_below_committed"])
            try await limits.splitByDistrict(year: 2021, direction: .roadmapProjects, region: "KZ-35", amounts: [nura: Money(tenge: 60_000_000)], decision: "Постановление №2", by: akimat)
            #expect(try await limits.limits(year: 2021, region: "KZ-35").first { $0.district_id == nura }?.committed == 5_000_000_000)
            // Now split, the region commits in a district only from a district's share.
            let osakarovka = try #require(try await DistrictRecord.query(on: f.store.db).filter(\.$kato == "350700000").first()?.id)
            #expect(await codes { _ = try await f.store.write(as: .system) { ctx in
                try await LimitStore.commit(ctx, year: 2021, direction: .roadmapProjects, region: "KZ-35", district: osakarovka, kind: .project, reference: "project:00", amount: 100, on: CivilDate(iso: "2021-05-05")!)
            } } == ["limit_not_set"])
        }
    }

    @Test func parallelCommitmentsNeverExceedTheLimit() async throws {
        try await withCases { f in
            // A region's limit with room for exactly seven commitments of 1,000,000 tenge.
            try await allocate(f, .programmeTraining, tenge: 1_000_000_000)
            let limits = LimitStore(store: f.store)
            let row = try #require(try await limits.limits(year: 2021).first { $0.direction == "ep_training" && $0.region_iso == "KZ-62" })
            let room: Int64 = 7 * 100_000_000
            try await limits.proposeChange(year: 2021, kind: .correction, from: nil, to: .init(.programmeTraining, "KZ-62"), amount: Money(tiyn: room - row.amount),
                                           reason: "Остаток", by: try await f.user("ministry.officer"))
            let change = try #require(try await limits.history(year: 2021).first { $0.state == "proposed" })
            try await limits.decideChange(change.id, approve: true, decision: "МВК №2", by: try await f.user("interagency"))
            // Fifty requests race for the last money.
            let store = f.store
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        do {
                            try await store.write(as: Actor(userID: nil, login: "race")) { ctx in
                                try await LimitStore.commit(ctx, year: 2021, direction: .programmeTraining, region: "KZ-62", district: nil, kind: .payroll, reference: "race:\(i)",
                                                            amount: 100_000_000, on: CivilDate(iso: "2021-05-05")!)
                            }
                            return true
                        } catch let e as FieldErrors where e.errors.map(\.code) == ["limit_exceeded"] { return false }
                    }
                }
                var out: [Bool] = []
                for try await ok in group { out.append(ok) }
                return out
            }
            #expect(outcomes.filter { $0 }.count == 7)
            let after = try #require(try await limits.limits(year: 2021).first { $0.direction == "ep_training" && $0.region_iso == "KZ-62" })
            #expect(after.amount == room && after.committed == room)
            struct S: Decodable { let n: Int; let s: Int64 }
            let c = try #require(try await f.store.sql.raw("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS s FROM limit_commitments WHERE reference LIKE 'race:%'").first(decoding: S.self))
            #expect(c.n == 7 && c.s == room)
            // A correction may not take the limit below what is committed.
            let cut = try await limits.proposeChange(year: 2021, kind: .correction, from: nil, to: .init(.programmeTraining, "KZ-62"), amount: Money(tenge: -1_000_000), reason: "Сокращение", by: try await f.user("ministry.officer"))
            #expect(await codes { try await limits.decideChange(cut, approve: true, decision: "МВК №3", by: try await f.user("interagency")) } == ["limit_below_committed"])
        }
    }

    @Test func reallocationsApprovedTogetherInOppositeDirectionsAllLand() async throws {
        try await withCases { f in
            try await allocate(f, .roadmapProjects, tenge: 100_000_000_000)
            let limits = LimitStore(store: f.store)
            let ministry = try await f.user("ministry.officer"), iac = try await f.user("interagency")
            let before = Dictionary(uniqueKeysWithValues: try await limits.limits(year: 2021).map { ($0.region_iso, $0.amount) })
            var ids: [Int] = []
            for i in 0..<12 {
                let (a, b) = i % 2 == 0 ? ("KZ-35", "KZ-71") : ("KZ-71", "KZ-35")
                ids.append(try await limits.proposeChange(year: 2021, kind: .reallocation, from: .init(.roadmapProjects, a), to: .init(.roadmapProjects, b),
                                                          amount: Money(tenge: Int64(1_000 * (i + 1))), reason: "Встречное перераспределение \(i)", by: ministry))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids { group.addTask { try await limits.decideChange(id, approve: true, decision: "МВК №\(id)", by: iac) } }
                try await group.waitForAll()
            }
            let after = Dictionary(uniqueKeysWithValues: try await limits.limits(year: 2021).map { ($0.region_iso, $0.amount) })
            // Six moves of 1, 3, 5 … 11 thousand one way and six of 2, 4 … 12 thousand back: 6,000 tenge net to Karaganda.
            #expect(after["KZ-35"]! == before["KZ-35"]! + 600_000 && after["KZ-71"]! == before["KZ-71"]! - 600_000)
            #expect(try await limits.history(year: 2021).filter { $0.kind == "reallocation" && $0.state == "approved" }.count == 12)
        }
    }

    @Test func projectsDrawOnTheirRegionsLimitAndSavingsGoBack() async throws {
        try await withCases { f in
            let projects = ProjectStore(store: f.store), limits = LimitStore(store: f.store)
            let iac = try await f.user("interagency"), akimat = try await f.user("akimat.KZ-35"), wg = try await f.user("working-group")
            let pt = ProjectTests()
            let id = try await pt.selected(f)
            // No limit allocated for the year: the approval is refused and nothing changes.
            #expect(await codes { try await projects.act(id, .approve, StepInput(on: d("2021-04-08"), decision: "МВК №1"), env: f.env, by: iac) } == ["limit_not_set"])
            #expect(try await projects.project(id, for: iac)?.state == "selected")
            try await allocate(f, .roadmapProjects, tenge: 100_000_000_000)
            // The district's share is too small for the project's 370 million of republican money.
            let abay = try #require(try await DistrictRecord.query(on: f.store.db).filter(\.$kato == "350300000").first()?.id)
            try await limits.splitByDistrict(year: 2021, direction: .roadmapProjects, region: "KZ-35", amounts: [abay: Money(tenge: 300_000_000)], decision: "Постановление №1", by: akimat)
            #expect(await codes { try await projects.act(id, .approve, StepInput(on: d("2021-04-08"), decision: "МВК №1"), env: f.env, by: iac) } == ["limit_exceeded"])
            let regionBefore = try #require(try await limits.limits(year: 2021, region: "KZ-35").first { $0.direction == "rm_projects" && $0.district_id == 0 })
            #expect(regionBefore.committed == 0) // the region's part rolled back with the district's refusal
            try await limits.splitByDistrict(year: 2021, direction: .roadmapProjects, region: "KZ-35", amounts: [abay: Money(tenge: 500_000_000)], decision: "Постановление №2", by: akimat)
            try await projects.act(id, .approve, StepInput(on: d("2021-04-08"), decision: "МВК №1"), env: f.env, by: iac)
            var rows = try await limits.limits(year: 2021, region: "KZ-35").filter { $0.direction == "rm_projects" }
            #expect(rows.map(\.committed) == [37_000_000_000, 37_000_000_000])
            // Completed for less: the saving returns to the limit after the working group and the commission.
            try await projects.setParties(id, contractorID: try await f.org("contractor.KZ-35"), contractorJobs: 27, subcontractors: [], by: akimat)
            try await projects.act(id, .start, StepInput(on: d("2021-04-12")), env: f.env, by: akimat)
            // April's works accepted by the akimat: 100 M done, of which the republican share (370 of 400) is spent.
            try await projects.submitReport(project: id, month: "2021-04", ProjectStore.Progress(workDonePercent: FixedDecimal(25), workDoneAmount: Money(tenge: 100_000_000), jobsFilled: 20,
                                                                                                 jobsByReferral: 0, referredAverageWage: .zero), env: f.env, by: try await f.user("contractor.KZ-35"))
            #expect(try await limits.spent(year: 2021)[rows[0].id] ?? 0 == 0) // not yet accepted
            try await projects.checkReport(project: id, month: "2021-04", accept: true, reason: "", by: akimat)
            #expect(try await limits.spent(year: 2021)[rows[0].id] == 9_250_000_000)
            try await projects.act(id, .complete, StepInput(on: d("2021-05-04"), finalCost: Money(tenge: 360_000_000)), env: f.env, by: akimat)
            // 400 M estimate (370 republican + 30 local), 360 M spent: the republican share spent is 333 M.
            #expect(try await limits.spent(year: 2021)[rows[0].id] == 33_300_000_000)
            try await projects.reviewSaving(project: id, note: "Экономия по торгам", by: wg)
            try await projects.decideSaving(project: id, target: nil, decision: "МВК №7", by: iac)
            rows = try await limits.limits(year: 2021, region: "KZ-35").filter { $0.direction == "rm_projects" }
            #expect(rows.map(\.committed) == [33_300_000_000, 33_300_000_000])
            let back = try #require(try await limits.history(year: 2021).first { $0.kind == "savings_return" })
            #expect(back.amount == 3_700_000_000 && back.reference == "project:\(id)" && back.to_district == abay && back.decision == "МВК №7")
        }
    }

    /// The credit chain of Astana: the republic lends to the akimat, the akimat to the demo credit organisation.
    func chain(_ f: CaseFixture, direction: FundingDirection = .roadmapCredit, toLender: Int64 = 500_000_000) async throws -> Int {
        try await allocate(f, direction, tenge: 50_000_000_000)
        let credits = CreditStore(store: f.store)
        let ministry = try await f.user("ministry.officer"), akimat = try await f.user("akimat.KZ-71")
        let local = try await credits.grant(level: .localBody, parent: nil, year: 2021, direction: direction, region: "KZ-71", borrower: try await f.org("akimat.KZ-71"),
                                            amount: Money(tenge: 1_000_000_000), graceMonths: 12, transferredOn: d("2021-03-01"), decision: "Договор №1", env: f.env, by: ministry)
        return try await credits.grant(level: .creditOrganisation, parent: local, year: 0, direction: direction, region: "", borrower: try await f.org("lender.demo"),
                                       amount: Money(tenge: toLender), graceMonths: 12, transferredOn: d("2021-03-15"), decision: "Договор №2", env: f.env, by: akimat)
    }

    func loanInput(_ f: CaseFixture, credit: Int, amount: Money, jobs: Int = 3, on: String = "2021-04-01") -> LoanInput {
        LoanInput(creditID: credit, districtID: f.district, borrowerID: BIN.make(year: 2015, month: 3, serial: 4711)!.value, borrowerName: "ТОО «Астана Агро»", taxRegistered: true,
                  purpose: .investment, purposeText: "Цех по переработке молока", amount: amount, termMonths: 84, ratePercent: FixedDecimal(6), graceMonths: 12,
                  method: .annuity, jobsPromised: jobs, contractOn: d(on))
    }

    @Test func theCreditChainDrawsOnEachLinkAndReturnsWhatIsUnused() async throws {
        try await withCases { f in
            let credits = CreditStore(store: f.store), limits = LimitStore(store: f.store)
            let ministry = try await f.user("ministry.officer"), akimat = try await f.user("akimat.KZ-71")
            let lenderCredit = try await chain(f)
            let local = try #require(try await credits.credit(lenderCredit)?.parent_id)
            let l = try #require(try await credits.credit(local))
            // C4: 10 years at 0.01 %, used by the local body within 6 months, by the credit organisation within 12.
            #expect(l.term_months == 120 && l.rate == 100 && l.use_by == "2021-09-01" && l.used == 50_000_000_000)
            #expect(try await credits.credit(lenderCredit)?.use_by == "2022-03-15")
            #expect(try await limits.limits(year: 2021, region: "KZ-71").first { $0.direction == "rm_credit" }?.committed == 100_000_000_000)
            // The akimat cannot pass on more than it received; the grace is at most a third of the term.
            let lender = try await f.org("lender.demo")
            #expect(await codes { try await credits.grant(level: .creditOrganisation, parent: local, year: 0, direction: .roadmapCredit, region: "", borrower: lender, amount: Money(tenge: 600_000_000),
                                                          graceMonths: 41, transferredOn: d("2021-04-01"), decision: "Договор №3", env: f.env, by: akimat) } == ["credit_grace_above_max"])
            #expect(await codes { try await credits.grant(level: .creditOrganisation, parent: local, year: 0, direction: .roadmapCredit, region: "", borrower: lender, amount: Money(tenge: 600_000_000),
                                                          graceMonths: 0, transferredOn: d("2021-04-01"), decision: "Договор №3", env: f.env, by: akimat) } == ["credit_exceeded"])
            #expect(await codes { try await credits.grant(level: .localBody, parent: nil, year: 2021, direction: .roadmapCredit, region: "KZ-71", borrower: try await f.org("akimat.KZ-71"),
                                                          amount: Money(tenge: 1), graceMonths: 0, transferredOn: d("2021-03-01"), decision: "x", env: f.env, by: akimat) } == ["limit_not_your_body"])
            // A loan disbursed; then the deadlines pass and what is unused goes back to the budget and the limit.
            let lenderUser = try await f.user("lender.demo")
            let loan = try await credits.createLoan(loanInput(f, credit: lenderCredit, amount: Money(tenge: 200_000_000)), env: f.env, by: lenderUser)
            try await credits.disburse(loan: loan, amount: Money(tenge: 200_000_000), on: d("2021-04-05"), env: f.env, by: lenderUser)
            #expect(await codes { try await credits.disburse(loan: loan, amount: Money(tenge: 1), on: d("2021-04-05"), env: f.env, by: lenderUser) } == ["loan_disbursed_above_amount"])
            #expect(try await credits.settleDue(on: d("2021-09-02"), by: ministry.actor) == 1) // the local body's 500 M
            #expect(try await credits.credit(local)?.returned == 50_000_000_000)
            #expect(try await credits.settleDue(on: d("2022-03-16"), by: ministry.actor) == 1) // the credit organisation's 300 M
            #expect(try await credits.credit(lenderCredit)?.returned == 30_000_000_000)
            #expect(try await credits.credit(local)?.returned == 80_000_000_000)
            #expect(try await limits.limits(year: 2021, region: "KZ-71").first { $0.direction == "rm_credit" }?.committed == 20_000_000_000)
            #expect(try await limits.history(year: 2021).filter { $0.kind == "credit_return" }.map(\.amount).sorted() == [30_000_000_000, 50_000_000_000])
            #expect(try await credits.settleDue(on: d("2022-03-16"), by: ministry.actor) == 0)
        }
    }

    /// C7: a district's figures are its own loans', disbursements included; the region's are the sum of its districts'.
    @Test func theLoanReportKeepsToTheUsersTerritory() async throws {
        try await withCases { f in
            let credits = CreditStore(store: f.store)
            let credit = try await chain(f)
            let lender = try await f.user("lender.demo")
            let other = try #require(try await DistrictRecord.query(on: f.store.db).filter(\.$regionISO == "KZ-71").all().compactMap(\.id).first { $0 != f.district })
            let own = try await credits.createLoan(loanInput(f, credit: credit, amount: Money(tenge: 10_000_000)), env: f.env, by: lender)
            var elsewhere = loanInput(f, credit: credit, amount: Money(tenge: 20_000_000))
            elsewhere.districtID = other
            let theirs = try await credits.createLoan(elsewhere, env: f.env, by: lender)
            for (id, tenge) in [(own, 10_000_000), (theirs, 20_000_000)] {
                try await credits.disburse(loan: id, amount: Money(tenge: Int64(tenge)), on: CivilDate(iso: "2021-04-05")!, env: f.env, by: lender)
            }
            let april = try #require(Payroll.Month("2021-04"))
            let district = try await credits.report(month: april, for: f.caseworker)   // the caseworker works in one district of Astana
            #expect(district.map(\.disbursed_amount) == [1_000_000_000] && district.map(\.issued) == [1])
            let region = try await credits.report(month: april, for: try await f.user("akimat.KZ-71"))
            #expect(region.map(\.disbursed_amount) == [3_000_000_000] && region.map(\.issued) == [2])
        }
    }

    @Test func parallelDisbursementsNeverExceedTheCredit() async throws {
        try await withCases { f in
            let credits = CreditStore(store: f.store)
            let credit = try await chain(f, toLender: 50_000_000)
            let lender = try await f.user("lender.demo")
            var loans: [Int] = []
            for _ in 0..<20 { loans.append(try await credits.createLoan(loanInput(f, credit: credit, amount: Money(tenge: 10_000_000)), env: f.env, by: lender)) }
            let env = f.env
            let ok = try await withThrowingTaskGroup(of: Bool.self) { group in
                for id in loans {
                    group.addTask {
                        do { try await credits.disburse(loan: id, amount: Money(tenge: 10_000_000), on: CivilDate(iso: "2021-04-05")!, env: env, by: lender); return true }
                        catch let e as FieldErrors where e.errors.map(\.code) == ["credit_exceeded"] { return false }
                    }
                }
                var n = 0
                for try await r in group where r { n += 1 }
                return n
            }
            #expect(ok == 5)
            #expect(try await credits.credit(credit)?.used == 5_000_000_000)
        }
    }

    @Test func loansAreCheckedScheduledAndTheirJobsConfirmed() async throws {
        let clock = TestClock()
        clock.set(CaseFixture.today)
        try await withStore(clock: clock) { store in
            let f = try await CaseFixture.make(store)
            let credits = CreditStore(store: f.store)
            let credit = try await chain(f)
            let lender = try await f.user("lender.demo")
            // C5: more than 70,000 MCI is refused with the limit at the contract date (MCI 2,917 in 2021).
            do {
                _ = try await credits.createLoan(loanInput(f, credit: credit, amount: Money(tenge: 204_190_001)), env: f.env, by: lender)
                Issue.record("a loan above 70,000 MCI was accepted")
            } catch let e as FieldErrors {
                #expect(e.errors.map(\.code) == ["loan_amount_above_max"])
                #expect(e.errors.first?.args == ["max": Money(tenge: 204_190_000).formatted(), "date": "2021-04-01"])
            }
            var bad = loanInput(f, credit: credit, amount: Money(tenge: 1_000_000))
            bad.taxRegistered = false; bad.ratePercent = FixedDecimal(7); bad.jobsPromised = 0; bad.borrowerID = "123456789012"
            #expect(await codes { try await credits.createLoan(bad, env: f.env, by: lender) } == ["borrower_id_invalid", "loan_rate_above_max", "loan_jobs_required", "loan_not_tax_registered"])
            #expect(await codes { try await credits.createLoan(loanInput(f, credit: credit, amount: Money(tenge: 1_000_000)), env: f.env, by: try await f.user("akimat.KZ-71")) } == ["read_only"])

            // A good loan: 84 months, 12 of grace, annuity at 6 %: the principal parts sum exactly to the loan.
            let amount = Money(tenge: 204_190_000)
            let id = try await credits.createLoan(loanInput(f, credit: credit, amount: amount), env: f.env, by: lender)
            let lines = try await credits.schedule(of: id)
            #expect(lines.count == 84 && lines.reduce(Int64(0)) { $0 + $1.principal } == amount.tiyn && lines.last?.balance == 0)
            #expect(lines.prefix(12).allSatisfy { $0.principal == 0 })
            try await credits.disburse(loan: id, amount: amount, on: d("2021-04-05"), env: f.env, by: lender)
            var loan = try #require(try await credits.loan(id, for: lender))
            #expect(loan.target_use_by == "2021-07-05" && loan.jobs_by == "2023-04-05")
            try await credits.confirmTargetUse(loan: id, on: d("2021-05-04"), by: lender)
            // The first line (interest only, in the grace) is due on 1 May and paid.
            try await credits.repay(loan: id, amount: Money(tiyn: lines[0].interest), on: d("2021-05-01"), by: lender)
            // Two of three jobs confirmed; a seasonal contract counts for nothing; a worker who left is replaced.
            try await credits.recordJob(loan: id, slot: nil, contractNumber: "ТД-1", contractOn: d("2021-04-20"), seasonal: false, by: lender)
            try await credits.recordJob(loan: id, slot: nil, contractNumber: "ТД-2", contractOn: d("2021-04-21"), seasonal: false, by: lender)
            try await credits.recordJob(loan: id, slot: 3, contractNumber: "ТД-С", contractOn: d("2021-04-22"), seasonal: true, by: lender)
            let first = try #require(try await credits.jobs(of: id).first { $0.contract_number == "ТД-1" })
            try await credits.endJob(loan: id, job: first.id, endedOn: d("2021-05-01"), by: lender)
            #expect(try await credits.standing(of: loan).flags == ["job_vacant"])
            try await credits.recordJob(loan: id, slot: 1, contractNumber: "ТД-3", contractOn: d("2021-05-03"), seasonal: false, by: lender)
            var s = try await credits.standing(of: loan)
            #expect(s.jobsConfirmed == 2 && s.flags.isEmpty && !s.demandable)
            // Before the deadline there is nothing to demand.
            #expect(await codes { try await credits.demand(loan: id, penalty: Money(tenge: 100_000), reason: "Не создано рабочее место", on: d("2021-05-05"), by: lender) } == ["loan_conditions_not_failed"])

            // Month 24 passes with two of three jobs: the loan is flagged and the demand for full repayment recorded.
            clock.set(Date(timeIntervalSince1970: 1_682_935_200)) // 2023-05-01
            loan = try #require(try await credits.loan(id, for: lender))
            s = try await credits.standing(of: loan)
            #expect(s.jobsConfirmed == 2 && s.jobsOverdue && s.flags.contains("jobs_overdue") && s.flags.contains("arrears") && s.demandable)
            #expect(s.arrears.tiyn == s.due.tiyn - lines[0].interest && s.overdueSince == d("2021-06-01"))
            #expect(try await credits.loans(for: lender).contains { $0.id == id })
            try await credits.demand(loan: id, penalty: Money(tenge: 2_041_900), reason: "Подтверждено 2 из 3 рабочих мест к 05.04.2023", on: d("2023-04-28"), by: lender)
            loan = try #require(try await credits.loan(id, for: lender))
            #expect(loan.state == "demanded" && loan.demanded_on == "2023-04-28" && loan.penalty == 204_190_000)
            struct A: Decodable { let action: String }
            #expect(try await f.store.sql.raw("SELECT action FROM audit_log WHERE entity = 'loan' AND entity_id = \(bind: String(id)) ORDER BY seq").all(decoding: A.self).map(\.action)
                    == ["create", "disburse", "target_use", "repay", "job", "job", "job", "job_ended", "job", "demand"])
            // Other territories and lenders do not see it.
            #expect(try await credits.loan(id, for: try await f.user("akimat.KZ-35")) == nil)
        }
    }

    @Test func microcreditsAndBondLoansFollowTheirOwnTerms() async throws {
        try await withCases { f in
            let credits = CreditStore(store: f.store)
            let credit = try await chain(f, direction: .programmeBusiness)
            let lender = try await f.user("lender.demo")
            #expect(try await credits.credit(credit)?.term_months == 60) // C2: 5 years to the local body
            var m = loanInput(f, credit: credit, amount: Money(tenge: 3_000_001), jobs: 0)
            m.termMonths = 60; m.graceMonths = 21; m.method = .equalPrincipal
            #expect(await codes { try await credits.createLoan(m, env: f.env, by: lender) } == ["loan_amount_above_max", "loan_grace_above_max"])
            m.amount = Money(tenge: 3_000_000); m.graceMonths = 20
            let id = try await credits.createLoan(m, env: f.env, by: lender)
            let loan = try #require(try await credits.loan(id, for: lender))
            #expect(loan.kind == "microcredit")
            let lines = try await credits.schedule(of: id)
            #expect(lines.reduce(Int64(0)) { $0 + $1.principal } == 300_000_000 && lines[20].principal == 7_500_000)
            // Repayments against the schedule; arrears when short.
            try await credits.disburse(loan: id, amount: Money(tenge: 3_000_000), on: d("2021-04-01"), env: f.env, by: lender)
            try await credits.repay(loan: id, amount: Money(tenge: 100), on: d("2021-05-01"), by: lender)
            let s = try await credits.standing(of: try #require(try await credits.loan(id, for: lender)))
            #expect(s.due.tiyn == lines[0].interest && s.arrears.tiyn == max(0, lines[0].interest - 10_000))

            // C8: 6.1 % a year, principal at the end; an early repayment lowers the interest of the years after it.
            let ministry = try await f.user("ministry.officer"), akimat = try await f.user("akimat.KZ-71")
            #expect(await codes { try await credits.issueBond(region: "KZ-71", borrower: try await f.org("akimat.KZ-71"), amount: Money(tenge: 1_000_000_000), years: 13, issuedOn: d("2021-03-01"), purpose: "Развитие региона", env: f.env, by: ministry) } == ["bond_years_invalid"])
            let bond = try await credits.issueBond(region: "KZ-71", borrower: try await f.org("akimat.KZ-71"), amount: Money(tenge: 1_000_000_000), years: 3, issuedOn: d("2021-03-01"), purpose: "Развитие региона", env: f.env, by: ministry)
            try await credits.recordBondEvent(bond, kind: .useReport, month: "2021-03", amount: Money(tenge: 250_000_000), on: d("2021-04-05"), note: "Дороги", by: akimat)
            #expect(await codes { try await credits.recordBondEvent(bond, kind: .useReport, month: "2021-03", amount: Money(tenge: 1), on: d("2021-04-06"), note: "", by: akimat) } == ["already_recorded"])
            try await credits.recordBondEvent(bond, kind: .earlyRepayment, month: nil, amount: Money(tenge: 400_000_000), on: d("2021-05-04"), note: "", by: ministry)
            let b = try #require(try await credits.bonds(for: ministry).first { $0.id == bond })
            let lines2 = try credits.bondSchedule(b, events: try await credits.bondEvents(bond), env: f.env)
            #expect(lines2.map(\.interest) == [Money(tenge: 61_000_000), Money(tenge: 36_600_000), Money(tenge: 36_600_000)])
            #expect(lines2.last?.principal == Money(tenge: 600_000_000))
        }
    }
}
