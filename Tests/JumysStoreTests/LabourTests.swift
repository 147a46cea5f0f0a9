import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

@Suite struct LabourTests {
    func seeker(_ f: CaseFixture, _ serial: Int, isco: String, rural: Bool = false) async throws -> Int {
        let id = try await f.cases.register(Registration(iin: iin(1995, 3, 3, .female, serial).value, lastName: "Қасымова", firstName: "Дана", rural: rural,
                                                         occupationISCO: isco, categories: [.jobSeeker], consent: true), by: f.caseworker)
        return id
    }

    @Test func iscoListIsLoaded() async throws {
        try await withCases { f in
            let list = try await ReferenceData.occupations(f.store)
            #expect(list.count == 436)
            #expect(list.first { $0.code == "7112" }?.title_en == "Bricklayers and related workers")
        }
    }

    /// The issue's "must show": match, refer two, hire one, and the next month's payroll pays the subsidy by the rules.
    @Test func matchReferHireAndPay() async throws {
        try await withCases { f in
            let labour = LabourStore(store: f.store)
            let employer = try #require(try await OrganisationRecord.query(on: f.store.db).filter(\.$code == "contractor.demo").first()?.id)
            let vacancy = try await labour.createVacancy(VacancyInput(employerID: employer, title: "Каменщик", isco: "7112", districtID: nil, wage: Money(tenge: 120_000), places: 2,
                                                                      requirements: nil, validFrom: CivilDate(iso: "2021-05-01"), validUntil: CivilDate(iso: "2021-06-30")), by: f.caseworker)
            let exact = try await seeker(f, 10, isco: "7112", rural: true)
            let near = try await seeker(f, 20, isco: "7113")
            _ = try await seeker(f, 30, isco: "2512")
            let matched = try await labour.candidates(for: vacancy, scope: f.caseworker.scope)
            #expect(matched.map(\.person.id) == [exact, near])
            #expect(matched.map(\.reason.occupationLevel) == [4, 3])
            let r1 = try await labour.refer(person: exact, vacancy: vacancy, by: f.caseworker)
            let r2 = try await labour.refer(person: near, vacancy: vacancy, by: f.caseworker)
            await #expect(throws: FieldErrors.self) { _ = try await labour.refer(person: exact, vacancy: vacancy, by: f.caseworker) }
            #expect(try await labour.referral(r1, scope: f.caseworker.scope)?.number == "R-KZ-71-2021-\(String(format: "%06d", r1))")
            try await labour.recordOutcome(referral: r1, .hired(position: "Каменщик", startsOn: CivilDate(iso: "2021-05-11")!, endsOn: nil, wage: Money(tenge: 120_000), subsidised: .socialJob), by: f.caseworker)
            try await labour.recordOutcome(referral: r2, .noShow, by: f.caseworker)
            await #expect(throws: FieldErrors.self) { try await labour.recordOutcome(referral: r2, .noShow, by: f.caseworker) }
            #expect(try await labour.placements(of: exact).count == 1)
            #expect(try await labour.vacancy(vacancy)?.places == 1)
            // June 2021 is month 2 of the placement: 50 % of 120,000 capped at 26,000.
            let payroll = Payroll(store: f.store)
            let june = try #require(Payroll.Month("2021-06"))
            // No limit for direction 1 yet: the line is held, not paid (F2); once the limit is approved, the next run pays it.
            let unfunded = try await payroll.run(month: june, env: f.env, by: .system)
            #expect(unfunded.added == 0 && unfunded.held == 1 && unfunded.heldTotal == Money(tenge: 26_000) && unfunded.heldRegions == ["KZ-71"])
            try await fund(f)
            let first = try await payroll.run(month: june, env: f.env, by: .system)
            #expect(first.added == 1 && first.total == Money(tenge: 26_000) && first.held == 0)
            let limit = try #require(try await LimitStore(store: f.store).limits(year: 2021, region: "KZ-71").first { $0.direction == "ep_training" })
            let spent = try await LimitStore(store: f.store).spent(year: 2021)
            #expect(limit.committed == 2_600_000 && spent[limit.id] == 2_600_000)
            // The Programme's consolidated report (G4): May placed one person by referral; June paid her subsidy.
            let monitoring = MonitoringStore(store: f.store)
            let may = try await monitoring.programmeMonthly(month: Payroll.Month("2021-05")!)
            #expect(may.lines.first { $0.place == "KZ-71" }?.placed == 1 && may.total.placed == 1 && may.lines.count == 20)
            let g4 = try await monitoring.programmeMonthly(month: june)
            #expect(g4.total.subsidies == 2_600_000 && g4.total.moneyUsed == 2_600_000 && g4.lines.first { $0.place == "KZ-71" }?.subsidies == 2_600_000)
            let astana = try await monitoring.programmeMonthly(month: june, region: "KZ-71")
            #expect(astana.level == "district" && astana.total.subsidies == 2_600_000 && astana.lines.contains { $0.place == String(f.district) && $0.subsidies == 2_600_000 })
            let again = try await payroll.run(month: june, env: f.env, by: .system)
            #expect(again.added == 0)
            var lines: [Payroll.PaymentLine] = []
            try await payroll.lines(month: june, scope: f.caseworker.scope) { lines += $0 }
            #expect(lines.count == 1 && lines[0].amount == 2_600_000 && lines[0].month_index == 2)
            #expect(lines[0].explanation.contains("social_job_band1_cap"))
            let other = try #require(try await Directory(store: f.store).credentials(login: "caseworker.KZ-75")?.user)
            var none: [Payroll.PaymentLine] = []
            try await payroll.lines(month: june, scope: other.scope) { none += $0 }
            #expect(none.isEmpty)
            let kinds = try await f.cases.timeline(of: exact).map(\.kind)
            #expect(kinds.contains("referral") && kinds.contains("referral_hired"))
            guard case .intact = try await AuditLog.verify(f.store.sql) else { Issue.record("audit chain broken"); return }
        }
    }

    @Test func monthsOfAPlacementAndTheEndOfPayments() {
        let m = Payroll.Month("2021-12")!
        #expect(m.index(from: CivilDate(iso: "2021-12-31")!) == 1)
        #expect(m.index(from: CivilDate(iso: "2021-01-01")!) == 12)
        #expect(Payroll.Month("2021-13") == nil)
    }
}

@Suite struct ConcurrencyAndScopeFixTests {
    @Test func concurrentHiresOfOneReferralRecordOneContract() async throws {
        try await withCases { f in
            let labour = LabourStore(store: f.store)
            let employer = try #require(try await OrganisationRecord.query(on: f.store.db).filter(\.$code == "contractor.demo").first()?.id)
            let vacancy = try await labour.createVacancy(VacancyInput(employerID: employer, title: "Сварщик", isco: "7212", districtID: nil, wage: Money(tenge: 200_000), places: 5,
                                                                      requirements: nil, validFrom: CivilDate(iso: "2021-05-01"), validUntil: CivilDate(iso: "2021-06-30")), by: f.caseworker)
            let person = try await f.cases.register(Registration(iin: iin(1993, 3, 3, .male, 77).value, lastName: "Серікбаев", firstName: "Ержан", occupationISCO: "7212", categories: [.jobSeeker], consent: true), by: f.caseworker)
            let referral = try await labour.refer(person: person, vacancy: vacancy, by: f.caseworker)
            let results = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        (try? await labour.recordOutcome(referral: referral, .hired(position: "Сварщик", startsOn: CivilDate(iso: "2021-05-11")!, endsOn: nil, wage: Money(tenge: 200_000), subsidised: .socialJob), by: f.caseworker)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            struct C: Decodable { let n: Int }
            #expect(try await f.store.sql.raw("SELECT COUNT(*) AS n FROM labour_contracts").first(decoding: C.self)?.n == 1)
            #expect(try await labour.placements(of: person).count == 1)
            #expect(try await labour.vacancy(vacancy)?.places == 4)
        }
    }

    @Test func parallelSignInAttemptsCannotExceedTheLimit() async throws {
        try await withCases { f in
            let dir = Directory(store: f.store)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<30 { group.addTask { (try? await dir.countAttempt(keys: [("login:target", 10)], window: 900, lockFor: 900)) == nil } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 10)
        }
    }

    @Test func aDuplicateOutsideTheScopeSaysNothingMore() async throws {
        try await withCases { f in
            let other = try #require(try await Directory(store: f.store).credentials(login: "caseworker.KZ-75")?.user)
            let i = iin(1989, 9, 9, .female, 55)
            _ = try await CaseStore(store: f.store).register(Registration(iin: i.value, lastName: "A", firstName: "B", consent: true), by: other)
            do {
                _ = try await f.register(i)
                Issue.record("duplicate accepted")
            } catch let e as FieldErrors {
                #expect(e.errors.map(\.code) == ["iin_registered_elsewhere"])
                #expect(e.errors.first?.args["id"] == nil && e.errors.first?.args["district_ru"] == nil)
            }
        }
    }

    @Test func onlyTheCentreDoesCaseworkAndOrganisationsMustFitTheirPart() async throws {
        try await withCases { f in
            let akimat = try #require(try await Directory(store: f.store).credentials(login: "akimat.KZ-71")?.user)
            await #expect(throws: FieldErrors.self) {
                _ = try await f.cases.register(Registration(iin: iin(1990, 2, 2, .male, 66).value, lastName: "A", firstName: "B", districtID: f.district, consent: true), by: akimat)
            }
            let person = try await f.register(iin(1990, 2, 2, .male, 88))
            let app = try await f.cases.createApplication(person: person, measure: .training, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .startReview, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .include, env: f.env, by: f.caseworker)
            let lender = try #require(try await OrganisationRecord.query(on: f.store.db).filter(\.$code == "lender.demo").first()?.id)
            do {
                try await f.cases.transition(application: app, .signContract, input: .contract(ContractInput(startsOn: CivilDate(iso: "2021-05-11")!, endsOn: CivilDate(iso: "2021-08-11")!, providerID: lender)), env: f.env, by: f.caseworker)
                Issue.record("a lender accepted as education provider")
            } catch let e as FieldErrors { #expect(e.errors.map(\.field) == ["provider_id"]) }
        }
    }
}
