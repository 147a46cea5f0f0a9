import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

/// Forecast needs (G6), training referrals (B4), the employer's hires file, matching a person to vacancies and
/// payroll corrections. The fixture's clock is 2021-05-05.
@Suite struct LabourMarketTests {
    func user(_ f: CaseFixture, _ login: String) async throws -> UserContext {
        try #require(try await Directory(store: f.store).credentials(login: login)?.user)
    }
    func org(_ f: CaseFixture, _ code: String) async throws -> Int {
        try #require(try await OrganisationRecord.query(on: f.store.db).filter(\.$code == code).first()?.id)
    }
    func vacancy(_ f: CaseFixture, isco: String, wage: Int64 = 150_000, places: Int = 2, district: Int? = nil, by: UserContext? = nil) async throws -> Int {
        try await LabourStore(store: f.store).createVacancy(VacancyInput(employerID: try await org(f, "contractor.demo"), title: "Vacancy \(isco)", isco: isco, districtID: district,
                                                                          wage: Money(tenge: wage), places: places, requirements: nil,
                                                                          validFrom: CivilDate(iso: "2021-05-01"), validUntil: CivilDate(iso: "2021-12-31")), by: by ?? f.caseworker)
    }

    @Test func localAndCentralNeedsWithLateness() async throws {
        try await withCases { f in
            let needs = NeedsStore(store: f.store)
            let akimat = try await user(f, "akimat.KZ-71"), admin = try await user(f, "admin")
            // Bad lines are named by number; nothing is stored.
            do {
                _ = try await needs.submitLocal(year: 2021, lines: [.init(isco: "71", current: 3, forecast: 0), .init(isco: "7112", current: 0, forecast: 0)], by: akimat)
                Issue.record("bad lines accepted")
            } catch let e as FieldErrors { #expect(e.errors.map(\.code) == ["line_isco", "line_count"] && e.errors.map { $0.args["line"] } == ["1", "2"]) }
            await #expect(throws: FieldErrors.self) { _ = try await needs.submitLocal(year: 2021, lines: [.init(isco: "7112", current: 1, forecast: 1)], by: f.caseworker) }
            // Numbers past any sense are refused, not added up (no overflow); digits must be ASCII.
            do { _ = try await needs.submitLocal(year: 2021, lines: [.init(isco: "7112", current: Int.max, forecast: 1), .init(isco: "²³⁴⁵", current: 1, forecast: 0)], by: akimat); Issue.record("accepted") }
            catch let e as FieldErrors { #expect(e.errors.map(\.code) == ["line_count", "line_isco"]) }
            _ = try await needs.submitLocal(year: 2021, lines: [.init(isco: "7112", current: 40, forecast: 60), .init(isco: "5120", current: 5, forecast: 0)], by: akimat)
            // The central forecast for 2021 was due on 15 February 2021; received on the 20th it is 5 days late.
            let economy = try await org(f, "ministry.economy")
            let r = try await needs.submitCentral(organisation: economy, year: 2021, receivedOn: CivilDate(iso: "2021-02-20"),
                                                  forecast: [.init(isco: "7112", region: "KZ-71", counts: [100, 120, 150])], created: [(region: "KZ-71", count: 900)], env: f.env, by: admin)
            do {
                _ = try await needs.submitCentral(organisation: economy, year: 2021, receivedOn: nil, forecast: [.init(isco: "7112", region: "KZ-99", counts: [1, 2])], created: [], env: f.env, by: admin)
                Issue.record("bad central lines accepted")
            } catch let e as FieldErrors { #expect(Set(e.errors.map(\.code)) == ["line_region", "line_years"]) }
            await #expect(throws: FieldErrors.self) {
                _ = try await needs.submitCentral(organisation: try await org(f, "contractor.demo"), year: 2021, receivedOn: nil, forecast: [.init(isco: "7112", region: "KZ-71", counts: [1, 2, 3])], created: [], env: f.env, by: admin)
            }
            let status = try await needs.centralStatus(year: 2021, env: f.env)
            #expect(status.count == 6)
            let eco = try #require(status.first { $0.organisation.id == economy })
            #expect(eco.report?.id == r && eco.report?.daysLate == 5 && eco.due == CivilDate(iso: "2021-02-15"))
            #expect(status.filter { $0.overdue(today: CivilDate(iso: "2021-05-05")!) }.count == 5)
            #expect(try await needs.lines(report: r).map(\.for_year) == [2021, 2022, 2023, 2020])
            let table = try await needs.bySpecialty(year: 2021)
            let bricklayers = try #require(table.first { $0.occupation_isco == "7112" })
            #expect(bricklayers.current == 40 && bricklayers.forecast == 60 && bricklayers.central == 100)
            // A later local report for the same year replaces the earlier one in the totals.
            _ = try await needs.submitLocal(year: 2021, lines: [.init(isco: "7112", current: 10, forecast: 0)], by: akimat)
            #expect(try await needs.bySpecialty(year: 2021, region: "KZ-71").first { $0.occupation_isco == "7112" }?.current == 10)
            #expect(try await needs.bySpecialty(year: 2021, region: "KZ-75").isEmpty)
        }
    }

    @Test func trainingInAProfessionInDemandThenPlacementInIt() async throws {
        try await withCases { f in
            let training = TrainingStore(store: f.store)
            let admin = try await user(f, "admin")
            let provider = try await org(f, "provider.demo")
            await #expect(throws: FieldErrors.self) {
                _ = try await training.createCourse(CourseInput(providerID: try await org(f, "contractor.demo"), titleKk: "Аспаз", titleRu: "Повар", titleEn: "Cook", isco: "5120", months: 3, cost: Money(tenge: 150_000)), by: admin)
            }
            let welding = try await training.createCourse(CourseInput(providerID: provider, titleKk: "Дәнекерлеуші", titleRu: "Сварщик", titleEn: "Welder", isco: "7212", months: 4, cost: Money(tenge: 240_000)), by: admin)
            let cooking = try await training.createCourse(CourseInput(providerID: provider, titleKk: "Аспаз", titleRu: "Повар", titleEn: "Cook", isco: "5120", months: 3, cost: Money(tenge: 150_000)), by: admin)
            let person = try await f.register(iin(1998, 4, 4, .male, 41))
            // No training contract yet.
            do { _ = try await training.refer(person: person, course: welding, by: f.caseworker); Issue.record("referred without a contract") }
            catch let e as FieldErrors { #expect(e.errors.map(\.code) == ["no_training_contract"]) }
            let app = try await f.cases.createApplication(person: person, measure: .training, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .startReview, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .include, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .signContract, input: .contract(ContractInput(startsOn: CivilDate(iso: "2021-05-11")!, endsOn: CivilDate(iso: "2021-09-11")!)), env: f.env, by: f.caseworker)
            // No vacancy and no declared need for welders in the region: B4 sends people only to professions in demand.
            do { _ = try await training.refer(person: person, course: welding, by: f.caseworker); Issue.record("referred without demand") }
            catch let e as FieldErrors { #expect(e.errors.map(\.code) == ["no_demand"]) }
            _ = try await NeedsStore(store: f.store).submitLocal(year: 2021, lines: [.init(isco: "5120", current: 0, forecast: 30)], by: try await user(f, "akimat.KZ-71"))
            _ = try await training.refer(person: person, course: cooking, by: f.caseworker)
            let v = try await vacancy(f, isco: "7212")
            // One training at a time.
            do { _ = try await training.refer(person: person, course: welding, by: f.caseworker); Issue.record("two trainings at once") }
            catch let e as FieldErrors { #expect(e.errors.map(\.code) == ["already_in_training"]) }
            let first = try #require(try await training.referrals(of: person).first)
            try await training.recordOutcome(first.id, completed: false, note: "moved away", by: f.caseworker)
            let t = try await training.refer(person: person, course: welding, by: f.caseworker)
            #expect(try await training.referral(t, scope: f.caseworker.scope)?.demand == "vacancies=2; declared=0")
            #expect(try await training.referral(t, scope: try await user(f, "caseworker.KZ-75").scope) == nil)
            await #expect(throws: FieldErrors.self) { try await training.recordOutcome(t, completed: true, on: CivilDate(iso: "2021-05-06"), note: nil, by: f.caseworker) }
            try await training.recordOutcome(t, completed: true, note: nil, by: f.caseworker)
            // The acquired profession is the person's occupation now, and the matching vacancy comes first.
            let labour = LabourStore(store: f.store)
            let suggested = try await labour.vacancies(forPerson: person, scope: f.caseworker.scope)
            #expect(suggested.first?.vacancy.id == v && suggested.first?.reason.occupationLevel == 4)
            let r = try await labour.refer(person: person, vacancy: v, by: f.caseworker)
            try await labour.recordOutcome(referral: r, .hired(position: "Сварщик", startsOn: CivilDate(iso: "2021-05-10")!, endsOn: nil, wage: Money(tenge: 180_000), subsidised: nil), by: f.caseworker)
            let done = try #require(try await training.referral(t, scope: f.caseworker.scope))
            #expect(try await training.placementAfter(done)?.position == "Сварщик")
            let kinds = try await f.cases.timeline(of: person).map(\.kind)
            #expect(kinds.contains("training_referral") && kinds.contains("training_completed") && kinds.contains("training_dropped"))
            guard case .intact = try await AuditLog.verify(f.store.sql) else { Issue.record("audit chain broken"); return }
        }
    }

    @Test func vacanciesForAPersonRankByOccupationPlaceAndWage() async throws {
        try await withCases { f in
            let person = try await f.cases.register(Registration(iin: iin(1991, 1, 1, .female, 12).value, lastName: "Ахметова", firstName: "Сая", occupationISCO: "7112", categories: [.jobSeeker], consent: true), by: f.caseworker)
            let admin = try await user(f, "admin")
            let astana = try #require(try await DistrictRecord.query(on: f.store.db).filter(\.$regionISO == "KZ-71").filter(\.$id != f.district).first()?.id)
            let almaty = try #require(try await DistrictRecord.query(on: f.store.db).filter(\.$regionISO == "KZ-75").first()?.id)
            let far = try await vacancy(f, isco: "7112", wage: 300_000, district: almaty, by: admin)
            let region = try await vacancy(f, isco: "7112", wage: 200_000, district: astana, by: admin)
            let here = try await vacancy(f, isco: "7112", wage: 100_000)
            let hereBetter = try await vacancy(f, isco: "7112", wage: 110_000)
            let near = try await vacancy(f, isco: "7113", wage: 500_000)
            _ = try await vacancy(f, isco: "2512")
            let list = try await LabourStore(store: f.store).vacancies(forPerson: person, scope: f.caseworker.scope)
            #expect(list.map(\.vacancy.id) == [hereBetter, here, region, far, near])
            #expect(list.map(\.reason.place) == [.sameDistrict, .sameDistrict, .sameRegion, .elsewhere, .sameDistrict])
        }
    }

    @Test func anEmployersHiresFileIsAllOrNothing() async throws {
        try await withCases { f in
            let labour = LabourStore(store: f.store)
            let v = try await vacancy(f, isco: "7112", places: 5)
            var numbers: [String] = []
            for serial in [61, 62, 63] {
                let p = try await f.cases.register(Registration(iin: iin(1994, 6, 6, .male, serial).value, lastName: "Омаров", firstName: "Ali", occupationISCO: "7112", categories: [.jobSeeker], consent: true), by: f.caseworker)
                let r = try await labour.refer(person: p, vacancy: v, by: f.caseworker)
                numbers.append(try #require(try await labour.referral(r, scope: f.caseworker.scope)).number)
            }
            let contractor = try await user(f, "contractor.demo")
            let bad = """
            referral_number;position;starts_on;ends_on;wage;subsidised
            \(numbers[0]);Каменщик;2021-05-10;;150000;
            \(numbers[1]);"Каменщик; 3 разряд";2021-05-40;;150000;
            R-KZ-71-2021-999999;Каменщик;2021-05-10;;150000;
            \(numbers[0]);Каменщик;2021-05-10;;150000;
            """
            let parsed = try LabourStore.parseHires(bad)
            #expect(parsed[1].position == "Каменщик; 3 разряд")
            do { _ = try await labour.importHires(parsed, by: contractor); Issue.record("bad file accepted") }
            catch let e as FieldErrors {
                #expect(e.errors.map(\.code) == ["line_date", "line_referral_unknown", "line_duplicate_referral"])
                #expect(e.errors.map { $0.args["line"] } == ["3", "4", "5"])
            }
            struct C: Decodable { let n: Int }
            #expect(try await f.store.sql.raw("SELECT COUNT(*) AS n FROM labour_contracts").first(decoding: C.self)?.n == 0)
            #expect(throws: FieldErrors.self) { _ = try LabourStore.parseHires("number,position\n1,x") }
            // Only the centre decides a subsidised placement: the employer's file may not.
            let subsidised = "referral_number,position,starts_on,ends_on,wage,subsidised\n\(numbers[0]),Каменщик,2021-05-10,,150000,social_job\n\(numbers[1]),Каменщик,2021-05-01,,150000,\n"
            do { _ = try await labour.importHires(try LabourStore.parseHires(subsidised), by: contractor); Issue.record("an employer subsidised itself") }
            catch let e as FieldErrors { #expect(e.errors.map(\.code) == ["line_subsidised", "line_starts_on"]) }
            let good = "\u{FEFF}referral_number,position,starts_on,ends_on,wage,subsidised\r\n\(numbers[0]),Каменщик,2021-05-10,,150000,\r\n\(numbers[1]),Каменщик,2021-05-11,2021-11-10,\"150 000\",\r\n"
            #expect(try await labour.importHires(try LabourStore.parseHires(good), by: contractor) == 2)
            #expect(try await f.store.sql.raw("SELECT COUNT(*) AS n FROM labour_contracts").first(decoding: C.self)?.n == 2)
            #expect(try await f.store.sql.raw("SELECT COUNT(*) AS n FROM placements").first(decoding: C.self)?.n == 0)
            // The centre's file may.
            let third = "referral_number,position,starts_on,ends_on,wage,subsidised\n\(numbers[2]),Каменщик,2021-05-12,,150000,youth_practice\n"
            #expect(try await labour.importHires(try LabourStore.parseHires(third), by: f.caseworker) == 1)
            #expect(try await f.store.sql.raw("SELECT COUNT(*) AS n FROM placements").first(decoding: C.self)?.n == 1)
            // Imported twice: the referrals are closed now, and nothing more is written.
            do { _ = try await labour.importHires(try LabourStore.parseHires(good), by: contractor); Issue.record("imported twice") }
            catch let e as FieldErrors { #expect(e.errors.map(\.code) == ["line_referral_closed", "line_referral_closed"]) }
            await #expect(throws: FieldErrors.self) { _ = try await labour.importHires(try LabourStore.parseHires(third), by: f.caseworker) }
            // A lender records no hires.
            let otherEmployer = try await user(f, "lender.demo")
            await #expect(throws: FieldErrors.self) { _ = try await labour.importHires(try LabourStore.parseHires(good), by: otherEmployer) }
        }
    }

    @Test func aCorrectionIsANewLineWithTheDifference() async throws {
        try await withCases { f in
            let labour = LabourStore(store: f.store)
            let v = try await vacancy(f, isco: "7112")
            let p = try await f.cases.register(Registration(iin: iin(1996, 7, 7, .female, 71).value, lastName: "Нұрова", firstName: "Әсел", occupationISCO: "7112", categories: [.jobSeeker], consent: true), by: f.caseworker)
            let r = try await labour.refer(person: p, vacancy: v, by: f.caseworker)
            try await labour.recordOutcome(referral: r, .hired(position: "Каменщик", startsOn: CivilDate(iso: "2021-05-11")!, endsOn: nil, wage: Money(tenge: 40_000), subsidised: .socialJob), by: f.caseworker)
            let payroll = Payroll(store: f.store)
            let june = try #require(Payroll.Month("2021-06"))
            try await fund(f)
            #expect(try await payroll.run(month: june, env: f.env, by: .system).total == Money(tenge: 20_000))
            #expect(try await payroll.correct(month: june, reason: "nothing changed", env: f.env, by: .system).isEmpty)
            await #expect(throws: FieldErrors.self) { _ = try await payroll.correct(month: june, reason: " ", env: f.env, by: .system) }
            // The contract was amended: 60,000 a month from the start; June is owed 30,000, 20,000 was paid.
            let placement = try #require(try await labour.placements(of: p).first)
            try await labour.amendPlacement(placement.id, wage: Money(tenge: 60_000), endsOn: nil, by: f.caseworker)
            let fixes = try await payroll.correct(month: june, reason: "labour contract amended", env: f.env, by: .system)
            #expect(fixes == [Payroll.Correction(placement: placement.id, paid: Money(tenge: 20_000), due: Money(tenge: 26_000))])
            #expect(try await payroll.correct(month: june, reason: "again", env: f.env, by: .system).isEmpty)
            #expect(try await payroll.run(month: june, env: f.env, by: .system).added == 0)
            // Ended in May after all: June's payment is taken back by a negative line.
            try await labour.amendPlacement(placement.id, wage: Money(tenge: 60_000), endsOn: CivilDate(iso: "2021-05-31"), by: f.caseworker)
            let back = try await payroll.correct(month: june, placement: placement.id, reason: "ended in May", env: f.env, by: .system)
            #expect(back.first?.difference == Money(tenge: -26_000))
            var lines: [Payroll.PaymentLine] = []
            try await payroll.lines(month: june, scope: f.caseworker.scope) { lines += $0 }
            #expect(lines.map(\.kind) == ["regular", "correction", "correction"])
            #expect(lines.reduce(0) { $0 + $1.amount } == 0)
            #expect(lines[1].explanation.contains("labour contract amended"))
            await #expect(throws: StoreError.self) { try await labour.amendPlacement(placement.id, wage: Money(tenge: 1), endsOn: nil, by: try await user(f, "caseworker.KZ-75")) }
        }
    }
}
