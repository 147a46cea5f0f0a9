import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

extension DemoData {
    /// Demonstration infrastructure projects in Karaganda Region, each taken through the pipeline by the demo
    /// accounts of its bodies: one with works under way (drawing on the year's limit), one waiting for the regional
    /// commission, one draft without its jobs figures. Added once, when there are no demonstration projects (a seeded
    /// national dataset gets them too); dates are relative
    /// to today so that the quota board has something current to show.
    public static func loadProjects(into store: Store) async throws -> Int {
        struct N: Decodable { let n: Int }
        let have = try await store.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("projects").where("name", .like, SQLBind("%(демо)")).first(decoding: N.self)?.n ?? 0
        guard have == 0 else { return 0 }
        func user(_ login: String) async throws -> UserContext { try await account(store, login) }
        func org(_ code: String) async throws -> Int { try await organisation(store, code) }
        guard let district = try await DistrictRecord.query(on: store.db).filter(\.$kato == "350300000").first()?.id else { return 0 }
        let env = RulesEnvironment(parameters: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
        let projects = ProjectStore(store: store)
        let today = store.today()
        let akimat = try await user("akimat.KZ-35")
        func input(_ name: String, settlement: String, object: ObjectType, work: WorkType, republican: Int64, jobs: Int?, permanent: Int?, starts: Int, months: Int) -> ProjectInput {
            ProjectInput(programme: .roadmap, districtID: district, settlement: settlement, name: name, objectType: object, workType: work, nationalFund: Money(tenge: 0),
                         republican: Money(tenge: republican), localBudget: Money(tenge: republican / 10), cofinancing: Money(tenge: 0), domesticCost: Money(tenge: republican),
                         designDocs: true, expertisePassed: true, startsOn: today.adding(days: starts), endsOn: today.adding(days: starts).adding(months: months),
                         jobsCreated: jobs, permanentJobs: permanent, averageWage: Money(tenge: 180_000))
        }
        let road = try await projects.create(input("Топар — Абай жолын жөндеу (демо)", settlement: "Топар", object: .roads, work: .repair, republican: 370_000_000, jobs: 37, permanent: 4, starts: -45, months: 6), by: akimat)
        let school = try await projects.create(input("Қарабас кентінде мектеп салу (демо)", settlement: "Қарабас", object: .socialCultural, work: .newConstruction, republican: 900_000_000, jobs: 60, permanent: 25, starts: 30, months: 12), by: akimat)
        _ = try await projects.create(input("Абай қаласындағы саябақты абаттандыру (демо)", settlement: "Абай", object: .landscaping, work: .repair, republican: 80_000_000, jobs: nil, permanent: nil, starts: 60, months: 4), by: akimat)
        for id in [road, school] {
            try await projects.act(id, .propose, StepInput(on: today.adding(days: -60)), env: env, by: akimat)
            try await projects.act(id, .compile, StepInput(on: today.adding(days: -58)), env: env, by: try await user("coordinator.KZ-35"))
        }
        try await projects.act(road, .approveRegional, StepInput(on: today.adding(days: -55), decision: "Хаттама №3 (демо)", referralQuota: 8), env: env, by: try await user("commission.KZ-35"))
        try await projects.act(road, .consolidate, StepInput(on: today.adding(days: -53)), env: env, by: try await user("ministry.officer"))
        try await projects.act(road, .select, StepInput(on: today.adding(days: -52), decision: "ЖТ хаттамасы №2 (демо)"), env: env, by: try await user("working-group"))
        let iac = try await user("interagency")
        try await allocateDemoLimits(store, years: Set([today.adding(days: -45).year, today.adding(days: 30).year]), on: today.adding(days: -51))
        try await projects.act(road, .approve, StepInput(on: today.adding(days: -50), decision: "ВАК хаттамасы №1 (демо)"), env: env, by: iac)
        try await projects.setParties(road, contractorID: try await org("contractor.KZ-35"), contractorJobs: 27, subcontractors: [(try await org("subcontractor.KZ-35"), 10)], by: akimat)
        try await projects.act(road, .start, StepInput(on: today.adding(days: -45)), env: env, by: akimat)
        return 3
    }

    /// The demo years' national limits of every direction, split between the regions by the shipped labour force and
    /// approved by the interagency commission (F1). Years already allocated are left alone.
    static func allocateDemoLimits(_ store: Store, years: Set<Int>, on date: CivilDate) async throws {
        let dir = Directory(store: store)
        guard let ministry = try await dir.credentials(login: "ministry.officer")?.user, let iac = try await dir.credentials(login: "interagency")?.user else { return }
        let limits = LimitStore(store: store)
        let totals: [FundingDirection: Int64] = [.roadmapProjects: 150_000_000_000, .roadmapCredit: 60_000_000_000, .programmeTraining: 40_000_000_000,
                                                 .programmeBusiness: 20_000_000_000, .programmeRelocation: 15_000_000_000, .programmeProjects: 10_000_000_000]
        for year in years.sorted() {
            let done = Set(try await limits.allocations(year: year).filter { $0.state == "approved" }.map(\.direction))
            for (direction, tenge) in totals.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where !done.contains(direction.rawValue) {
                let id = try await limits.propose(year: year, direction: direction, total: Money(tenge: tenge), period: LimitStore.shippedPeriod, on: date, by: ministry)
                try await limits.approve(allocation: id, decision: "ВАК хаттамасы №1 (демо)", on: date, by: iac)
            }
        }
    }

    /// A demo account, which must have been loaded.
    static func account(_ store: Store, _ login: String) async throws -> UserContext {
        guard let u = try await Directory(store: store).credentials(login: login)?.user else { throw StoreError.configuration("demo account \(login) is missing: load the demo accounts first") }
        return u
    }

    /// A reference organisation by its code.
    static func organisation(_ store: Store, _ code: String) async throws -> Int {
        guard let id = try await OrganisationRecord.query(on: store.db).filter(\.$code == code).first()?.id else { throw StoreError.configuration("organisation \(code) is missing") }
        return id
    }
}
