import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

/// Casework on a fixed "today": Wednesday 2021-05-05, just before the May holidays (7, 9 → 10 May).
struct CaseFixture {
    let store: Store
    let cases: CaseStore
    let env: RulesEnvironment
    let caseworker: UserContext
    let analyst: UserContext
    let district: Int

    static let today = Date(timeIntervalSince1970: 1_620_208_800) // 2021-05-05T10:00:00Z

    static func make(_ store: Store) async throws -> CaseFixture {
        _ = try await DemoData.load(into: store, hashPassword: fastHash, persons: 20)
        let dir = Directory(store: store)
        let cw = try #require(try await dir.credentials(login: "caseworker.KZ-71")?.user)
        let an = try #require(try await dir.credentials(login: "analyst")?.user)
        let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
        return CaseFixture(store: store, cases: CaseStore(store: store), env: env, caseworker: cw, analyst: an, district: cw.districtID!)
    }

    /// A demo account of the fixture.
    func user(_ login: String) async throws -> UserContext {
        try #require(try await Directory(store: store).credentials(login: login)?.user)
    }

    /// A reference organisation by its code.
    func org(_ code: String) async throws -> Int {
        try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == code).first()?.id)
    }

    func register(_ iin: IIN, categories: [PersonCategory] = [.unemployed], rural: Bool = false) async throws -> Int {
        try await cases.register(Registration(iin: iin.value, lastName: "Серікова", firstName: "Айгерім", middleName: "Нұрланқызы", rural: rural,
                                              phone: "+7 701 123 4567", categories: categories, consent: true), by: caseworker)
    }
}

func iin(_ y: Int, _ m: Int, _ d: Int, _ sex: Sex, _ serial: Int) -> IIN {
    var s = serial
    while true {
        if let i = IIN.make(birthDate: CivilDate(year: y, month: m, day: d)!, sex: sex, serial: s) { return i }
        s += 1
    }
}

func withCases<T>(_ body: (CaseFixture) async throws -> T) async throws -> T {
    try await withStore(clock: { let c = TestClock(); c.set(CaseFixture.today); return c }()) { store in
        try await body(try await CaseFixture.make(store))
    }
}

extension TestClock {
    func set(_ d: Date) { advance(d.timeIntervalSince(now)) }
}

@Suite struct RegistrationTests {
    @Test func registersWithBirthDateSexConsentAndCategories() async throws {
        try await withCases { f in
            let id = try await f.register(iin(1998, 3, 10, .female, 100), rural: true)
            let p = try #require(try await f.cases.person(id, scope: f.caseworker.scope))
            #expect(p.birth_date == "1998-03-10" && p.sex == "female" && p.district_id == f.district)
            #expect(p.consent_on == "2021-05-05" && p.consent_by == "caseworker.kz-71")
            #expect(try await f.cases.categories(of: id).map(\.category) == ["unemployed"])
            #expect(try await f.cases.timeline(of: id).map(\.kind).contains("consent"))
        }
    }

    @Test func badInputWritesNothing() async throws {
        try await withCases { f in
            struct C: Decodable { let n: Int }
            func count() async throws -> Int { try await f.store.sql.raw("SELECT COUNT(*) AS n FROM persons").first(decoding: C.self)!.n }
            let before = try await count()
            func codes(_ r: Registration) async -> [String] {
                do { _ = try await f.cases.register(r, by: f.caseworker); return [] } catch let e as FieldErrors { return e.errors.map { "\($0.field):\($0.code)" } } catch { return ["\(error)"] }
            }
            #expect(await codes(Registration(iin: "900515300009", lastName: "A", firstName: "B", consent: true)) == ["iin:iin_invalid"])
            #expect(await codes(Registration(iin: "12345", lastName: "A", firstName: "B", consent: true)) == ["iin:iin_shape"])
            // Born 1 January 2030: a valid IIN with a birth date in the future.
            let future = iin(2030, 1, 1, .male, 1)
            #expect(await codes(Registration(iin: future.value, lastName: "A", firstName: "B", consent: true)) == ["iin:birth_future"])
            #expect(await codes(Registration(iin: iin(1990, 1, 1, .male, 5).value, lastName: "", firstName: "B", consent: false)) == ["last_name:name_required", "consent:consent_required"])
            let id = try await f.register(iin(1985, 7, 7, .male, 10))
            do {
                _ = try await f.register(iin(1985, 7, 7, .male, 10))
                Issue.record("duplicate accepted")
            } catch let e as FieldErrors {
                #expect(e.errors.first?.code == "iin_duplicate")
                #expect(e.errors.first?.args["id"] == String(id))
                #expect(e.errors.first?.args["visible"] == "yes")
            }
            #expect(try await count() == before + 1)
        }
    }

    @Test func theAnalystCannotRegister() async throws {
        try await withCases { f in
            await #expect(throws: FieldErrors.self) {
                _ = try await f.cases.register(Registration(iin: iin(1990, 1, 1, .male, 7).value, lastName: "A", firstName: "B", districtID: f.district, consent: true), by: f.analyst)
            }
        }
    }
}

@Suite struct StateMachineTests {
    /// Every (state, action, measure) against the declared machine.
    @Test func everyTransitionIsAllowedOrRefusedAsDeclared() {
        let allowed: Set<String> = [
            "submitted.start_review", "under_review.include", "under_review.refuse", "contract_signed.activate", "contract_signed.terminate",
            "active.complete", "active.terminate",
        ]
        for m in Measure.allCases {
            for s in ApplicationState.allCases {
                for a in ApplicationAction.allCases {
                    let key = "\(s.rawValue).\(a.rawValue)"
                    var expected = allowed.contains(key)
                    if key == "included.sign_contract" { expected = m.needsSocialContract }
                    if key == "included.activate" { expected = !m.needsSocialContract }
                    #expect((s.after(a, measure: m) != nil) == expected, "\(m.rawValue): \(key)")
                }
            }
        }
        #expect(ApplicationState.active.after(.complete, measure: .training) == .completed)
        #expect(ApplicationState.included.after(.activate, measure: .vacancyPlacement) == .active)
    }

    @Test func aFullCaseFromApplicationToCompletion() async throws {
        try await withCases { f in
            let person = try await f.register(iin(1996, 2, 2, .female, 20))
            let app = try await f.cases.createApplication(person: person, measure: .socialJob, env: f.env, by: f.caseworker)
            let row = try #require(try await f.cases.application(app, scope: f.caseworker.scope))
            // 10 working days from Wednesday 5 May 2021, skipping 7 and 10 May: 6, 11–14, 17–21 May.
            #expect(row.decision_due == "2021-05-21")
            #expect(row.eligible)
            try await f.cases.transition(application: app, .startReview, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .include, env: f.env, by: f.caseworker)
            // 5 working days from 5 May: 6, 11, 12, 13, 14 May.
            #expect(try await f.cases.application(app, scope: f.caseworker.scope)?.signing_due == "2021-05-14")
            let employer = try #require(try await OrganisationRecord.query(on: f.store.db).filter(\.$code == "contractor.demo").first()?.id)
            try await f.cases.transition(application: app, .signContract, input: .contract(ContractInput(startsOn: CivilDate(iso: "2021-05-11")!, endsOn: CivilDate(iso: "2022-05-10")!, employerID: employer, specialty: "7112 Bricklayer", practicePlace: "Site 1", workOffMonths: 12)), env: f.env, by: f.caseworker)
            let contract = try #require(try await f.cases.contract(forApplication: app))
            #expect(contract.number == "SC-KZ-71-2021-\(String(format: "%06d", app))")
            #expect(contract.next_monitoring == "2021-06-11")
            #expect(try await f.cases.obligations(of: contract.id).contains { $0.party == "employer" })
            try await f.cases.transition(application: app, .activate, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .complete, env: f.env, by: f.caseworker)
            #expect(try await f.cases.application(app, scope: f.caseworker.scope)?.state == "completed")
            let kinds = try await f.cases.timeline(of: person).map(\.kind)
            for k in ["application_submitted", "application_start_review", "application_include", "application_sign_contract", "application_activate", "application_complete"] {
                #expect(kinds.contains(k), "timeline has \(k)")
            }
            guard case .intact = try await AuditLog.verify(f.store.sql) else { Issue.record("audit chain broken"); return }
        }
    }

    @Test func anActionOutOfOrderIsRefusedAndWritesNothing() async throws {
        try await withCases { f in
            let person = try await f.register(iin(1990, 4, 4, .male, 30))
            let app = try await f.cases.createApplication(person: person, measure: .training, env: f.env, by: f.caseworker)
            let events = try await f.cases.timeline(of: person).count
            for action in [ApplicationAction.include, .refuse, .signContract, .activate, .complete, .terminate] {
                do {
                    try await f.cases.transition(application: app, action, input: action == .refuse ? .refusal(reason: .other, text: "x") : .none, env: f.env, by: f.caseworker)
                    Issue.record("\(action) allowed from submitted")
                } catch let e as FieldErrors {
                    #expect(e.errors.first?.code == "transition_not_allowed" || e.errors.first?.field == "starts_on", "\(action): \(e)")
                }
            }
            #expect(try await f.cases.application(app, scope: f.caseworker.scope)?.state == "submitted")
            #expect(try await f.cases.timeline(of: person).count == events)
        }
    }

    @Test func refusalNeedsAReasonAndIneligibleCannotBeIncluded() async throws {
        try await withCases { f in
            let person = try await f.register(iin(1980, 1, 15, .male, 40), categories: [])
            let app = try await f.cases.createApplication(person: person, measure: .training, env: f.env, by: f.caseworker)
            #expect(try await f.cases.application(app, scope: f.caseworker.scope)?.eligible == false)
            try await f.cases.transition(application: app, .startReview, env: f.env, by: f.caseworker)
            await #expect(throws: FieldErrors.self) { try await f.cases.transition(application: app, .include, env: f.env, by: f.caseworker) }
            await #expect(throws: FieldErrors.self) { try await f.cases.transition(application: app, .refuse, input: .refusal(reason: .other, text: " "), env: f.env, by: f.caseworker) }
            try await f.cases.transition(application: app, .refuse, input: .refusal(reason: .notInCategory, text: ""), env: f.env, by: f.caseworker)
            #expect(try await f.cases.application(app, scope: f.caseworker.scope)?.refusal_reason == "not_in_category")
        }
    }

    @Test func anotherDistrictCannotSeeOrMoveTheApplication() async throws {
        try await withCases { f in
            let person = try await f.register(iin(1990, 4, 4, .male, 50))
            let app = try await f.cases.createApplication(person: person, measure: .training, env: f.env, by: f.caseworker)
            let other = try #require(try await Directory(store: f.store).credentials(login: "caseworker.KZ-75")?.user)
            #expect(try await f.cases.application(app, scope: other.scope) == nil)
            await #expect(throws: StoreError.self) { try await f.cases.transition(application: app, .startReview, env: f.env, by: other) }
        }
    }
}

@Suite struct TSATests {
    func contractFor(_ f: CaseFixture, person: Int) async throws -> (app: Int, contract: Int) {
        let app = try await f.cases.createApplication(person: person, measure: .training, env: f.env, by: f.caseworker)
        try await f.cases.transition(application: app, .startReview, env: f.env, by: f.caseworker)
        try await f.cases.transition(application: app, .include, env: f.env, by: f.caseworker)
        try await f.cases.transition(application: app, .signContract, input: .contract(ContractInput(startsOn: CivilDate(iso: "2021-05-11")!, endsOn: CivilDate(iso: "2021-08-11")!)), env: f.env, by: f.caseworker)
        return (app, try #require(try await f.cases.contract(forApplication: app)).id)
    }

    @Test func aBreachSuspendsTSAAndResumingRestoresIt() async throws {
        try await withCases { f in
            let person = try await f.register(iin(1988, 8, 8, .female, 60), categories: [.lowIncome, .unemployed])
            try await f.cases.setTSARecipient(person: person, true, by: f.caseworker)
            let (app, contract) = try await contractFor(f, person: person)
            let suspended = try await f.cases.recordBreach(contract: contract, party: .participant, occurredOn: CivilDate(iso: "2021-05-05")!, description: "did not attend", sanction: .tsaSuspension, env: f.env, by: f.caseworker)
            #expect(suspended)
            #expect(try await f.cases.person(person, scope: f.caseworker.scope)?.tsa_suspended_on == "2021-05-05")
            let list = try await f.cases.suspensions(scope: f.caseworker.scope)
            #expect(list.map(\.row.person_id) == [person])
            #expect(list.first?.row.explanation.contains("A5") == true)
            // Participation resumes: the contract starts.
            try await f.cases.transition(application: app, .activate, env: f.env, by: f.caseworker)
            #expect(try await f.cases.person(person, scope: f.caseworker.scope)?.tsa_suspended_on == nil)
            #expect(try await f.cases.suspensions(of: person).first?.resumed_on == "2021-05-05")
            let kinds = try await f.cases.timeline(of: person).map(\.kind)
            #expect(kinds.contains("tsa_suspended") && kinds.contains("tsa_restored") && kinds.contains("breach"))
        }
    }

    @Test func aFamilyWithADisabledMemberKeepsTSA() async throws {
        try await withCases { f in
            let person = try await f.register(iin(1988, 8, 8, .male, 70), categories: [.lowIncome])
            try await f.cases.setTSARecipient(person: person, true, by: f.caseworker)
            try await f.cases.addHouseholdMember(person: person, name: "Мать", relation: .parent, birthDate: CivilDate(iso: "1960-01-01")!, sex: .female, disabled: true, ill: false, by: f.caseworker)
            let (_, contract) = try await contractFor(f, person: person)
            let suspended = try await f.cases.recordBreach(contract: contract, party: .participant, occurredOn: CivilDate(iso: "2021-05-05")!, description: "absent", sanction: .warning, env: f.env, by: f.caseworker)
            #expect(!suspended)
            #expect(try await f.cases.person(person, scope: f.caseworker.scope)?.tsa_suspended_on == nil)
        }
    }

    @Test func refusingTheProgrammeSuspendsTSA() async throws {
        try await withCases { f in
            let person = try await f.register(iin(1992, 9, 9, .male, 80), categories: [.lowIncome])
            try await f.cases.setTSARecipient(person: person, true, by: f.caseworker)
            let app = try await f.cases.createApplication(person: person, measure: .socialJob, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .startReview, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .refuse, input: .refusal(reason: .applicantDeclined, text: "refused the offer"), env: f.env, by: f.caseworker)
            #expect(try await f.cases.person(person, scope: f.caseworker.scope)?.tsa_suspended_on == "2021-05-05")
        }
    }
}

@Suite struct WorklistTests {
    @Test func deadlinesCountWorkingDaysAcrossTheMayHolidays() async throws {
        try await withCases { f in
            let person = try await f.register(iin(1995, 5, 5, .male, 90))
            let app = try await f.cases.createApplication(person: person, measure: .training, env: f.env, by: f.caseworker)
            // Due 21 May (ten working days, 7 and 10 May off): not on today's list, nor through 20 May; on it from 21 May.
            #expect(try await f.cases.worklist(scope: f.caseworker.scope).isEmpty)
            #expect(try await f.cases.worklist(scope: f.caseworker.scope, through: CivilDate(iso: "2021-05-20")!).isEmpty)
            let due = try await f.cases.worklist(scope: f.caseworker.scope, through: CivilDate(iso: "2021-05-21")!)
            #expect(due.map(\.kind) == [.decision] && due.first?.applicationID == app && due.first?.due == CivilDate(iso: "2021-05-21"))
            // Another district's worklist does not show it.
            let other = try #require(try await Directory(store: f.store).credentials(login: "caseworker.KZ-75")?.user)
            #expect(try await f.cases.worklist(scope: other.scope, through: CivilDate(iso: "2021-06-30")!).isEmpty)
            // Included: the contract is due 14 May (five working days across 7 and 10 May).
            try await f.cases.transition(application: app, .startReview, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .include, env: f.env, by: f.caseworker)
            let signing = try await f.cases.worklist(scope: f.caseworker.scope, through: CivilDate(iso: "2021-05-14")!)
            #expect(signing.map(\.kind) == [.contract] && signing.first?.due == CivilDate(iso: "2021-05-14"))
            try await f.cases.transition(application: app, .signContract, input: .contract(ContractInput(startsOn: CivilDate(iso: "2021-06-06")!, endsOn: CivilDate(iso: "2021-09-06")!)), env: f.env, by: f.caseworker)
            // Monitoring a month after 6 June is 6 July, Capital Day: due 7 July. Obligations fall due too.
            let july = try await f.cases.worklist(scope: f.caseworker.scope, through: CivilDate(iso: "2021-07-07")!)
            #expect(july.contains { $0.kind == .monitoring && $0.due == CivilDate(iso: "2021-07-07") })
            #expect(july.contains { $0.kind == .obligation && $0.due == CivilDate(iso: "2021-06-07") }) // 6 June is a Sunday
            // A shorter list is the full list's beginning, whichever kinds it reads first, and one more.
            for n in 1...3 {
                let short = try await f.cases.worklist(scope: f.caseworker.scope, through: CivilDate(iso: "2021-07-07")!, limit: n)
                #expect(short == Array(july.prefix(n + 1)))
            }
            // The list reads the due dates kept on the contract and its obligations (`WorklistDueDates`); each change
            // moves them. A visit moves the monitoring's date:
            let contractID = try #require(july.first { $0.kind == .monitoring }?.contractID)
            try await f.cases.addMonitoring(contract: contractID, visitedOn: CivilDate(iso: "2021-05-05")!, note: "visited", env: f.env, by: f.caseworker)
            let next = try #require(try await f.cases.contract(contractID, scope: f.caseworker.scope)?.next_monitoring)
            func list() async throws -> [WorklistItem] { try await f.cases.worklist(scope: f.caseworker.scope, through: CivilDate(iso: "2021-12-31")!) }
            let monitoring = try await list().filter { $0.kind == .monitoring }.map(\.due.iso)
            #expect(next != "2021-07-07" && monitoring == [next])
            // A fulfilled obligation leaves the list; an added one joins it.
            let obligations = try await f.cases.obligations(of: contractID)
            let open = try await list().filter { $0.kind == .obligation }.count
            #expect(open == obligations.count && open > 0)
            try await f.cases.fulfilObligation(obligations[0].id, by: f.caseworker)
            #expect(try await list().filter { $0.kind == .obligation }.count == open - 1)
            try await f.cases.addObligation(contract: contractID, party: .participant, text: "bring the certificate", due: CivilDate(iso: "2021-08-02")!, by: f.caseworker)
            #expect(try await list().contains { $0.kind == .obligation && $0.due == CivilDate(iso: "2021-08-02") && $0.detail.hasSuffix("bring the certificate") })
            // An ended application's contract leaves the list with its open obligations.
            try await f.cases.transition(application: app, .terminate, env: f.env, by: f.caseworker)
            #expect(try await list().isEmpty)
            let rows = try await f.cases.obligations(of: contractID)
            #expect(rows.contains { $0.fulfilled_on == nil })
        }
    }

    /// The limit keeps the earliest: with more due than the list shows, it shows the longest overdue, not any few.
    @Test func aShortListKeepsTheEarliestDeadlines() async throws {
        try await withCases { f in
            // Submitted on 3, 4 and 5 May, in the reverse order of their ids: the first one made is due last.
            var apps: [Int] = []
            for (n, day) in [(91, "2021-05-05"), (92, "2021-05-04"), (93, "2021-05-03")] {
                let person = try await f.register(iin(1995, 5, 5, .male, n))
                apps.append(try await f.cases.createApplication(person: person, measure: .training, submittedOn: CivilDate(iso: day)!, env: f.env, by: f.caseworker))
            }
            // Two asked for: the two earliest, and the third to say there is more.
            let two = try await f.cases.worklist(scope: f.caseworker.scope, through: CivilDate(iso: "2021-06-30")!, limit: 2)
            #expect(two.map(\.applicationID) == [apps[2], apps[1], apps[0]])
            #expect(two.map(\.due) == two.map(\.due).sorted())
            #expect(try await f.cases.worklist(scope: f.caseworker.scope, through: CivilDate(iso: "2021-06-30")!, limit: 3).count == 3)
        }
    }
}

@Suite struct ConsentAndObligationTests {
    @Test func aPersonWithoutConsentCannotApplyUntilItIsRecorded() async throws {
        try await withCases { f in
            // Demo people arrive without consent, as an import from another system would.
            let imported = iin(1987, 6, 6, .female, 33)
            _ = try await DemoData.insertPersons([.init(iin: imported, lastName: "Омарова", firstName: "Дана", middleName: nil, regionISO: "KZ-71", districtID: f.district, isRural: false, phone: "+7 701 000 0000")], into: f.store, actor: .system)
            let someone = try #require(try await PersonRecord.query(on: f.store.db).filter(\.$iin == imported.value).first())
            do {
                _ = try await f.cases.createApplication(person: someone.id!, measure: .training, env: f.env, by: f.caseworker)
                Issue.record("applied without consent")
            } catch let e as FieldErrors { #expect(e.errors.first?.code == "no_consent") }
            try await f.cases.recordConsent(person: someone.id!, scope: nil, by: f.caseworker)
            #expect(try await f.cases.person(someone.id!, scope: f.caseworker.scope)?.consent_on == "2021-05-05")
            _ = try await f.cases.createApplication(person: someone.id!, measure: .training, env: f.env, by: f.caseworker)
        }
    }

    @Test func anExtraObligationIsAddedToARunningContractOnly() async throws {
        try await withCases { f in
            let person = try await f.register(iin(1991, 1, 1, .male, 95))
            let app = try await f.cases.createApplication(person: person, measure: .socialJob, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .startReview, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .include, env: f.env, by: f.caseworker)
            try await f.cases.transition(application: app, .signContract, input: .contract(ContractInput(startsOn: CivilDate(iso: "2021-05-11")!, endsOn: CivilDate(iso: "2021-11-10")!)), env: f.env, by: f.caseworker)
            let c = try #require(try await f.cases.contract(forApplication: app))
            try await f.cases.addObligation(contract: c.id, party: .participant, text: "Bring the medical certificate", due: CivilDate(iso: "2021-05-20")!, by: f.caseworker)
            #expect(try await f.cases.obligations(of: c.id).contains { $0.text == "Bring the medical certificate" && $0.due_on == "2021-05-20" })
            try await f.cases.transition(application: app, .terminate, env: f.env, by: f.caseworker)
            await #expect(throws: FieldErrors.self) {
                try await f.cases.addObligation(contract: c.id, party: .participant, text: "Too late", due: CivilDate(iso: "2021-06-01")!, by: f.caseworker)
            }
        }
    }
}
