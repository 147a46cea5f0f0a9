import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

/// Direction 2 (entrepreneurship: conclusions, decision, notification, follow-up) and direction 3 (relocation:
/// recommendation, subsidy, housing). The fixture's clock is Wednesday 2021-05-05 (holidays on 7 and 10 May).
@Suite struct DirectionsTests {
    func codes(_ body: () async throws -> Void) async -> [String] {
        do { try await body(); return [] } catch let e as FieldErrors { return e.errors.map(\.code) } catch { return ["\(error)"] }
    }

    @Test func businessApplicationFromRequestToNotificationWithALateLender() async throws {
        try await withCases { f in
            let cw = try await f.user("caseworker.KZ-35"), lender = try await f.user("lender.demo"), akim = try await f.user("akim.350300000")
            let bizdev = try await f.user("business.KZ-35"), infra = try await f.user("infra.KZ-35")
            let person = try await f.cases.register(Registration(iin: iin(1990, 3, 10, .female, 300).value, lastName: "Исаева", firstName: "Гүлнар", rural: true,
                                                                 categories: [.unemployed], categoriesFrom: CivilDate(iso: "2021-01-01"), consent: true), by: cw)
            let business = BusinessStore(store: f.store)
            func input(_ place: BusinessPlace) async throws -> BusinessInput {
                BusinessInput(settlement: "Қарабас", place: place, supportSettlement: true, expand: false, idea: "Мини-цех по производству кирпича", sector: "manufacturing",
                              amountAsked: Money(tenge: 2_500_000), needsInfrastructure: true, lenderID: try await f.org("lender.demo"), submittedOn: CivilDate(iso: "2021-04-19"))
            }
            // A business in a city is not direction 2; the application is taken and marked not eligible, with the reason.
            let city = try await business.apply(person: person, try await input(.city), env: f.env, by: cw)
            #expect(try await f.cases.application(city, scope: cw.scope)?.eligible == false)
            // The generic form does not take these measures.
            #expect(await codes { _ = try await f.cases.createApplication(person: person, measure: .entrepreneurship, env: f.env, by: cw) } == ["own_form"])
            let app = try await business.apply(person: person, try await input(.rural), env: f.env, by: cw)
            let a = try #require(try await f.cases.application(app, scope: cw.scope))
            #expect(a.eligible && a.priorities == "support_settlement,rural_resident,woman")
            // No decision before the conclusions.
            try await f.cases.transition(application: app, .startReview, env: f.env, by: cw)
            #expect(await codes { try await f.cases.transition(application: app, .include, env: f.env, by: cw) } == ["conclusions_missing"])
            // The organisations must be of the body's kind: a lender is not a business authority.
            let wrong = await codes { try await business.requestConclusions(application: app, organisations: [.businessAuthority: try await f.org("lender.demo")], env: f.env, by: cw) }
            #expect(wrong == ["choose_from_list"])
            try await business.requestConclusions(application: app, organisations: [.businessAuthority: try await f.org("bizdev.350300000"), .ruralAkim: try await f.org("akim.350300000"),
                                                                                    .infrastructureAuthority: try await f.org("infra.KZ-35")],
                                                  on: CivilDate(iso: "2021-04-20"), env: f.env, by: cw)
            let asked = try await business.conclusions(of: app)
            #expect(asked.map(\.body).sorted() == ["business_authority", "infrastructure_authority", "lender", "rural_akim"])
            #expect(Set(asked.map(\.due_on)) == ["2021-04-30"])   // 10 calendar days after 20 April (a Friday, a working day)
            // Each addressee sees only its own request.
            let lenderInbox = try await business.inbox(for: lender)
            #expect(lenderInbox.map(\.request.body) == ["lender"] && lenderInbox.first?.applicantName == "Исаева Гүлнар")
            let lenderRequest = try #require(lenderInbox.first?.request)
            #expect(try await business.request(lenderRequest.id, for: akim) == nil)
            await #expect(throws: StoreError.self) { try await business.answer(request: lenderRequest.id, positive: true, reason: "", by: akim) }
            // The others answer in time; a negative answer needs a reason.
            for (u, body) in [(bizdev, "business_authority"), (akim, "rural_akim"), (infra, "infrastructure_authority")] {
                let r = try #require(try await business.inbox(for: u).first { $0.request.body == body }?.request)
                if body == "business_authority" { #expect(await codes { try await business.answer(request: r.id, positive: false, reason: " ", by: u) } == ["reason_required"]) }
                try await business.answer(request: r.id, positive: true, reason: "", on: CivilDate(iso: "2021-04-28"), by: u)
            }
            // On 5 May the lender's answer is 5 days overdue: flagged to the lender and to the centre.
            let today = CivilDate(iso: "2021-05-05")!
            #expect(try await business.inbox(for: lender).first?.request.daysLate(today: today) == 5)
            let overdue = try await business.overdue(scope: cw.scope, today: today)
            #expect(overdue.map(\.kind) == ["conclusion"] && overdue.first?.detail == "lender" && overdue.first?.applicationID == app)
            #expect(await codes { try await f.cases.transition(application: app, .include, env: f.env, by: cw) } == ["conclusions_missing"])
            try await business.answer(request: lenderRequest.id, positive: true, reason: "", by: lender)
            #expect(await codes { try await business.answer(request: lenderRequest.id, positive: false, reason: "x", by: lender) } == ["already_answered"])
            let answered = try #require(try await business.conclusions(of: app).first { $0.body == "lender" })
            #expect(answered.answered_on == "2021-05-05" && answered.daysLate(today: today) == 5)
            #expect(try await business.overdue(scope: cw.scope, today: today).isEmpty)
            // The decision, then the notification within 3 working days: 6, 11, 12 May (7 and 10 May are holidays).
            try await f.cases.transition(application: app, .include, env: f.env, by: cw)
            var b = try #require(try await business.business(app, scope: cw.scope))
            #expect(b.notification_due == "2021-05-12" && b.notified_on == nil)
            #expect(try await business.overdue(scope: cw.scope, today: CivilDate(iso: "2021-05-13")!).map(\.kind) == ["notification"])
            #expect(await codes { try await business.recordNotification(application: app, sentOn: CivilDate(iso: "2021-05-04")!, by: cw) } == ["before_decision"])
            try await business.recordNotification(application: app, sentOn: today, by: cw)
            b = try #require(try await business.business(app, scope: cw.scope))
            #expect(b.notified_on == "2021-05-05")
            // Then the contract, training of at most a month, the plan, the lender's decision within the C2 terms, support.
            #expect(await codes { try await business.scheduleTraining(application: app, starts: today, ends: CivilDate(iso: "2021-05-20")!, env: f.env, by: cw) } == ["contract_not_running"])
            try await f.cases.transition(application: app, .signContract, input: .contract(ContractInput(startsOn: today, endsOn: CivilDate(iso: "2022-05-04")!)), env: f.env, by: cw)
            #expect(await codes { try await business.scheduleTraining(application: app, starts: CivilDate(iso: "2021-05-04")!, ends: CivilDate(iso: "2021-06-10")!, env: f.env, by: cw) } == ["training_too_long"])
            try await business.scheduleTraining(application: app, starts: CivilDate(iso: "2021-05-04")!, ends: CivilDate(iso: "2021-06-04")!, env: f.env, by: cw)
            try await business.markAttendance(application: app, on: CivilDate(iso: "2021-05-04")!, present: true, by: cw)
            try await business.markAttendance(application: app, on: CivilDate(iso: "2021-05-05")!, present: false, by: cw)
            try await business.markAttendance(application: app, on: CivilDate(iso: "2021-05-05")!, present: true, by: cw)
            #expect(await codes { try await business.markAttendance(application: app, on: CivilDate(iso: "2021-05-03")!, present: true, by: cw) } == ["outside_training"])
            #expect(try await business.attendance(of: app).map(\.present) == [true, true])
            #expect(await codes { try await business.recordLoanDecision(application: app, approved: true, amount: Money(tenge: 2_000_000), termMonths: 36, graceMonths: 6, reason: "", on: today, env: f.env, by: lender) } == ["no_business_plan"])
            try await business.submitPlan(application: app, on: today, summary: "Кирпич цехы, 3 жұмыс орны", by: cw)
            await #expect(throws: FieldErrors.self) { try await business.recordLoanDecision(application: app, approved: true, amount: Money(tenge: 2_000_000), termMonths: 36, graceMonths: 6, reason: "", on: today, env: f.env, by: cw) }
            #expect(await codes { try await business.recordLoanDecision(application: app, approved: true, amount: Money(tenge: 3_500_000), termMonths: 72, graceMonths: 30, reason: "", on: today, env: f.env, by: lender) } == ["loan_terms_violated"])
            try await business.recordLoanDecision(application: app, approved: true, amount: Money(tenge: 2_000_000), termMonths: 36, graceMonths: 6, reason: "", on: today, env: f.env, by: lender)
            #expect(await codes { try await business.startSupport(application: app, from: today, to: CivilDate(iso: "2022-05-06")!, env: f.env, by: cw) } == ["support_too_long"])
            try await business.startSupport(application: app, from: CivilDate(iso: "2021-03-01")!, to: CivilDate(iso: "2022-02-28")!, env: f.env, by: cw)
            b = try #require(try await business.business(app, scope: cw.scope))
            #expect(b.loan_decision == "approved" && b.loan_amount == 200_000_000)
            #expect(b.next_visit_due == "2021-05-04")   // 1 May 2021 (a Saturday) is moved to Monday 3 May: the first visit is due on the 4th
            #expect(BusinessStore.visitOverdue(b, today: today))
            #expect(try await business.overdue(scope: cw.scope, today: today).map(\.kind) == ["support_visit"])
            try await business.addVisit(application: app, on: today, note: "Цех жұмыс істеп тұр", env: f.env, by: cw)
            b = try #require(try await business.business(app, scope: cw.scope))
            #expect(b.next_visit_due == "2021-07-05" && !BusinessStore.visitOverdue(b, today: today))
            // Infrastructure: the cost without design documents is checked against 3,000,000 per participant.
            #expect(await codes { try await business.recordInfrastructure(application: app, description: "Электр желісі", cost: Money(tenge: 3_000_001), designCost: Money(tenge: 400_000),
                                                                          contractNumber: "И-1", contractOn: today, env: f.env, by: cw) } == ["infrastructure_over_cap"])
            // The design documents are outside the cap, but not unbounded (AmountLimit.infrastructureDesign).
            #expect(await codes { try await business.recordInfrastructure(application: app, description: "Электр желісі", cost: Money(tenge: 3_000_000), designCost: Money(tenge: 100_000_001),
                                                                          contractNumber: "И-1", contractOn: today, env: f.env, by: cw) } == ["amount_invalid"])
            try await business.recordInfrastructure(application: app, description: "Электр желісі", cost: Money(tenge: 3_000_000), designCost: Money(tenge: 400_000), contractNumber: "И-1", contractOn: today, env: f.env, by: cw)
            // Everything is audited and the chain still verifies.
            if case .broken(let seq, let reason) = try await AuditLog.verify(f.store.sql) { Issue.record("audit broken at \(seq): \(reason)") }
        }
    }

    @Test func familyRelocationToAnotherRegionWithSubsidyAndHousing() async throws {
        try await withCases { f in
            let cw = try await f.user("caseworker.KZ-35"), admin = try await f.user("admin"), commission = try await f.user("commission.KZ-35")
            let relocation = RelocationStore(store: f.store)
            let person = try await f.cases.register(Registration(iin: iin(1980, 6, 1, .male, 400).value, lastName: "Омаров", firstName: "Бекзат", rural: true,
                                                                 categories: [.unemployed], consent: true), by: cw)
            try await f.cases.addHouseholdMember(person: person, name: "Омарова Айжан", relation: .spouse, birthDate: CivilDate(iso: "1983-02-02")!, sex: .female, disabled: false, ill: false, by: cw)
            try await f.cases.addHouseholdMember(person: person, name: "Омаров Ислам", relation: .child, birthDate: CivilDate(iso: "2010-09-09")!, sex: .male, disabled: false, ill: false, by: cw)
            let members = try await f.cases.household(of: person).map(\.id)
            let lists = try await relocation.settlements()
            let karabas = try #require(lists.first { $0.name_ru.hasPrefix("посёлок Карабас") }), astana = try #require(lists.first { $0.region_iso == "KZ-71" })
            let karaganda = try #require(lists.first { $0.name_ru == "город Караганда" })
            #expect(await codes { _ = try await relocation.apply(person: person, RelocationInput(originID: karabas.id, destinationID: karabas.id, livedSince: nil, skillsMatch: false, employerRelocated: false,
                                                                                                   employmentAtDestination: true, memberIDs: members), env: f.env, by: cw) } == ["same_settlement"])
            // Within the region, without skills or three years' residence: not eligible, and why.
            let near = try await relocation.apply(person: person, RelocationInput(originID: karabas.id, destinationID: karaganda.id, livedSince: CivilDate(iso: "2019-01-01"), skillsMatch: false,
                                                                                   employerRelocated: false, employmentAtDestination: true, memberIDs: members), env: f.env, by: cw)
            #expect(try await f.cases.application(near, scope: cw.scope)?.eligible == false)
            #expect(try await relocation.relocation(near, scope: cw.scope)?.body == "regional_commission")
            // To another region: the criteria are waived; the operator recommends, not the regional commission.
            let app = try await relocation.apply(person: person, RelocationInput(originID: karabas.id, destinationID: astana.id, livedSince: nil, skillsMatch: false,
                                                                                  employerRelocated: false, employmentAtDestination: true, memberIDs: members), env: f.env, by: cw)
            let r = try #require(try await relocation.relocation(app, scope: cw.scope))
            #expect(r.move == "other_region" && r.body == "operator" && r.family_size == 3)
            #expect(try await f.cases.application(app, scope: cw.scope)?.eligible == true)
            #expect(await codes { try await relocation.recommend(application: app, recommended: true, on: CivilDate(iso: "2021-05-05")!, protocolNo: "12", note: "", by: commission) } == ["operator_only"])
            #expect(await codes { try await f.cases.transition(application: app, .include, env: f.env, by: cw) } == ["recommendation_missing"])
            try await relocation.recommend(application: app, recommended: true, on: CivilDate(iso: "2021-05-05")!, protocolNo: "МВК-7", note: "", by: admin)
            // The subsidy draws on the region's direction 3 limit: without one the inclusion is refused (F2).
            #expect(await codes { try await f.cases.transition(application: app, .include, env: f.env, by: cw) } == ["limit_not_set"])
            try await fund(f, .programmeRelocation)
            try await f.cases.transition(application: app, .include, env: f.env, by: cw)
            // D3 at the decision date: 50 MCI for the head and 35 for each of two members, MCI 2,917 in 2021.
            let payment = try #require(try await relocation.payment(forApplication: app))
            #expect(payment.amount == (50 + 35 * 2) * 2917 * 100 && payment.month == "2021-05" && payment.kind == "relocation_subsidy")
            #expect(try await relocation.payments(month: "2021-05", scope: cw.scope).map(\.application_id) == [app])
            #expect(try await relocation.payments(month: "2021-05", scope: try await f.user("caseworker.KZ-71").scope).isEmpty)
            // Housing in Astana: 72 m² is beyond 3 × 18 = 54 m²; 54 m² at 110,000 per m² (under Astana's 120,000) is within the norms.
            let dwellings = try await relocation.dwellings(region: "KZ-71")
            let big = try #require(dwellings.first { $0.area == 72 * FixedDecimal.scale }), fits = try #require(dwellings.first { $0.area == 54 * FixedDecimal.scale })
            do { _ = try await relocation.allocate(dwelling: big.id, person: person, env: f.env, by: cw); Issue.record("allocated beyond the norm") }
            catch let e as FieldErrors { #expect(e.errors.map(\.code) == ["area_over_norm"] && e.errors.first?.args == ["area": "72", "max": "54", "family": "3"]) }
            let allocation = try await relocation.allocate(dwelling: fits.id, person: person, env: f.env, by: cw)
            #expect(try await relocation.allocations(ofPerson: person).first?.republican_cost == 54 * 110_000 * 100)
            #expect(await codes { _ = try await relocation.allocate(dwelling: fits.id, person: person, env: f.env, by: cw) } == ["dwelling_taken"])
            try await relocation.release(allocation: allocation, on: CivilDate(iso: "2021-05-05")!, by: cw)
            #expect(try await relocation.openAllocations(dwellings: [fits.id]).isEmpty)
        }
    }

    @Test func hostelRoomsCostCapsAndEmployerCofinancing() async throws {
        try await withCases { f in
            let cw = try await f.user("caseworker.KZ-71"), admin = try await f.user("admin"), coordinator = try await f.user("coordinator.KZ-71")
            let relocation = RelocationStore(store: f.store)
            let room = try #require(try await relocation.dwellings(region: "KZ-71").first { $0.kind == "youth_hostel_room" })
            // D5: 25 years old, but no contract and no housing savings.
            let young = try await f.register(iin(1996, 1, 1, .male, 500))
            do { _ = try await relocation.allocate(dwelling: room.id, person: young, inHousingSavings: false, env: f.env, by: cw); Issue.record("allocated") }
            catch let e as FieldErrors { #expect(e.errors.first?.code == "hostel_not_eligible" && e.errors.first?.args["reasons"] == "no_labour_or_social_contract, not_in_housing_savings") }
            // A flat needs an included relocation.
            let flat = try #require(try await relocation.dwellings(region: "KZ-71").first { $0.kind == "flat" })
            #expect(await codes { _ = try await relocation.allocate(dwelling: flat.id, person: young, env: f.env, by: cw) } == ["no_relocation"])
            // Only those who keep the stock add to it; an employer's co-financing below 10 % is recorded as not meeting D6.
            let district = try #require(try await DistrictRecord.query(on: f.store.db).filter(\.$kato == "710300000").first()?.id)
            await #expect(throws: FieldErrors.self) { _ = try await relocation.addDwelling(DwellingInput(districtID: district, address: "x", kind: .flat, area: FixedDecimal(40), rooms: 1, costPerM2: Money(tenge: 100_000)), by: cw) }
            let employer = try await f.org("contractor.demo")
            let low = try await relocation.addCofinancing(region: "KZ-71", employerID: employer, name: "Low", totalCost: Money(tenge: 100_000_000), employerCost: Money(tenge: 9_000_000), dwellings: 10, on: CivilDate(iso: "2021-05-05")!, env: f.env, by: coordinator)
            #expect(try await relocation.cofinancing(low)?.eligible == false)
            let co = try await relocation.addCofinancing(region: "KZ-71", employerID: employer, name: "Жұмысшы үйі", totalCost: Money(tenge: 100_000_000), employerCost: Money(tenge: 25_000_000), dwellings: 4, on: CivilDate(iso: "2021-05-05")!, env: f.env, by: admin)
            let c = try #require(try await relocation.cofinancing(co))
            #expect(c.eligible && c.employer_dwellings == 1 && c.state_dwellings == 3)
            _ = try await relocation.addDwelling(DwellingInput(districtID: district, address: "Employer flat 1", kind: .flat, area: FixedDecimal(50), rooms: 2, costPerM2: Money(tenge: 100_000), employerID: employer, cofinancingID: co), by: coordinator)
            #expect(await codes { _ = try await relocation.addDwelling(DwellingInput(districtID: district, address: "Employer flat 2", kind: .flat, area: FixedDecimal(50), rooms: 2, costPerM2: Money(tenge: 100_000), employerID: employer, cofinancingID: co), by: coordinator) } == ["employer_share_used"])
            #expect(await codes { _ = try await relocation.addDwelling(DwellingInput(districtID: district, address: "x", kind: .flat, area: FixedDecimal(50), rooms: 2, costPerM2: Money(tenge: 100_000), cofinancingID: low), by: coordinator) } == ["choose_from_list"])
            // Settlement lists are the administrator's and keep their dates.
            await #expect(throws: FieldErrors.self) { _ = try await relocation.addSettlement(districtID: district, nameKk: "А", nameRu: "А", potential: .high, listedFrom: CivilDate(iso: "2021-01-01")!, basis: "x", by: cw) }
            let s = try await relocation.addSettlement(districtID: district, nameKk: "Жаңа ауыл", nameRu: "Новый аул", potential: .low, listedFrom: CivilDate(iso: "2021-01-01")!, basis: "решение акимата № 5", by: admin)
            try await relocation.delist(settlement: s, on: CivilDate(iso: "2021-05-01")!, by: admin)
            let row = try #require(try await relocation.settlement(s))
            #expect(row.listed(on: CivilDate(iso: "2021-04-30")!) && !row.listed(on: CivilDate(iso: "2021-05-01")!))
        }
    }
}
