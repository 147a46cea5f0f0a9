import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

/// The national generator at a small scale: valid identity numbers, every application state, rows that hang
/// together, the same data from the same seed, an empty registry only, and a database the application can go on
/// writing to (PostgreSQL's sequences moved past the seeded ids).
@Suite struct SeedTests {
    @Test func aSmallNationalDatasetHangsTogether() async throws {
        try await withStore(clock: { let c = TestClock(); c.set(CaseFixture.today); return c }()) { store in
            struct F { let store: Store }
            let f = F(store: store)
            struct N: Decodable { let n: Int }
            func count(_ q: String) async throws -> Int { try await f.store.sql.raw("\(unsafeRaw: q)").first(decoding: N.self)!.n }
            // An empty registry: the seed runs; a second run is refused.
            let plan = NationalSeed.Plan(scale: 0.001, months: 24)
            #expect(plan.participants == 1_500 && plan.projects == 20)
            let counts = try await NationalSeed(store: f.store).run(plan, seed: 11)
            #expect(counts.persons == 1_500 && counts.applications == counts.persons)
            await #expect(throws: StoreError.self) { try await NationalSeed(store: f.store).run(plan, seed: 11) }
            // Identity numbers and BINs pass their checks; names are real-looking.
            struct P: Decodable { let iin: String; let last_name: String; let region_iso: String }
            let people = try await f.store.sql.raw("SELECT iin, last_name, region_iso FROM persons ORDER BY id LIMIT 200").all(decoding: P.self)
            #expect(people.allSatisfy { (try? IIN($0.iin)) != nil && !$0.last_name.isEmpty })
            struct B: Decodable { let bin: String }
            #expect(try await f.store.sql.raw("SELECT bin FROM organisations WHERE code LIKE 'seed.%'").all(decoding: B.self).allSatisfy { (try? BIN($0.bin)) != nil })
            // Spread by labour force: Almaty Region and Shymkent have more people than Ulytau.
            let byRegion = Dictionary(grouping: try await f.store.sql.raw("SELECT iin, last_name, region_iso FROM persons").all(decoding: P.self), by: \.region_iso).mapValues(\.count)
            #expect((byRegion["KZ-19"] ?? 0) > (byRegion["KZ-62"] ?? 0))
            // Every application state occurs; hires, placements and payroll lines hang together.
            struct S: Decodable { let state: String }
            let states = Set(try await f.store.sql.raw("SELECT DISTINCT state FROM applications").all(decoding: S.self).map(\.state))
            #expect(states.isSuperset(of: ["submitted", "refused", "active", "completed"]))
            #expect(try await count("SELECT COUNT(*) AS n FROM labour_contracts c LEFT JOIN referrals r ON r.id = c.referral_id WHERE r.id IS NULL OR r.state <> 'hired'") == 0)
            #expect(try await count("SELECT COUNT(*) AS n FROM payroll_lines l LEFT JOIN placements p ON p.id = l.placement_id WHERE p.id IS NULL") == 0)
            let placements = try await count("SELECT COUNT(*) AS n FROM placements"), lines = try await count("SELECT COUNT(*) AS n FROM loan_schedule_lines")
            #expect(placements > 0 && lines > 0)
            // A loan's schedule repays exactly its amount.
            #expect(try await count("SELECT COUNT(*) AS n FROM loans l WHERE l.amount <> (SELECT SUM(principal) FROM loan_schedule_lines s WHERE s.loan_id = l.id)") == 0)
            // Projects at every kind of step, with monthly reports for those in works.
            let projectStates = Set(try await f.store.sql.raw("SELECT DISTINCT state FROM projects").all(decoding: S.self).map(\.state))
            #expect(projectStates.contains("in_works") && projectStates.contains("completed") && projectStates.count >= 3)
            // G4 over the seeded months: the nation is the sum of its regions, and not empty.
            let last = f.store.today().adding(months: -1)
            let g4 = try await MonitoringStore(store: f.store).programmeMonthly(month: Payroll.Month(String(format: "%04d-%02d", last.year, last.month))!)
            var sum = MonitoringStore.G4Line(place: "KZ")
            for l in g4.lines { sum.add(l) }
            #expect(sum == g4.total && g4.total.participants > 0 && g4.total.subsidies > 0)
            // The application writes on: a person registered after the seed gets a fresh id.
            struct I: Decodable { let id: Int }
            let id = try await f.store.sql.insert(into: "person_categories").columns("person_id", "category", "from_date").values(SQLBind(1), SQLBind("unemployed"), SQLBind("2021-05-05"))
                .returning("id").first(decoding: I.self)?.id
            #expect((id ?? 0) > counts.persons)
            // The seed is written to the audit log as one record.
            #expect(try await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'seed'") == 1)
        }
    }
}
