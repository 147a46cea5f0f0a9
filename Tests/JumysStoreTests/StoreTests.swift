import FluentKit
import Foundation
import JumysDomain
import SQLKit
import Testing
@testable import JumysStore

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_790_000_000)
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// A migrated store with reference data, in a place of its own (SQLite temp file, or a PostgreSQL schema
/// when DATABASE_URL names a server), removed afterwards.
func withStore<T>(clock: TestClock = TestClock(), _ body: (Store) async throws -> T) async throws -> T {
    let store = try await Store.isolated(now: { clock.now })
    do {
        try await store.migrate()
        try await ReferenceData.load(into: store)
        let r = try await body(store)
        await store.destroy()
        return r
    } catch {
        await store.destroy()
        throw error
    }
}

let fastHash: @Sendable (String) throws -> String = { "plain:" + $0 }

@Suite struct MigrationAndReferenceTests {
    @Test func referenceDataLoadsOnceAndAddsUp() async throws {
        try await withStore { store in
            // setup: withStore loaded once already
            // act
            try await store.migrate()
            let again = try await ReferenceData.load(into: store)
            // verify
            #expect(again.regions == 0 && again.districts == 0 && again.organisations == 0)
            let regions = try await RegionRecord.query(on: store.db).all()
            #expect(regions.count == 20)
            // The rows of regions.csv add up to 9,534.0 and 452.0 thousand; the published national totals
            // (9,534.1 and 452.2) differ by the statistics office's rounding of each region.
            #expect(regions.reduce(0) { $0 + $1.labourForce } == 9_534_000)
            #expect(regions.reduce(0) { $0 + $1.unemployed } == 452_000)
            #expect(regions.first { $0.id == "KZ-10" }?.labourForce == 307_300)
            #expect(try await DistrictRecord.query(on: store.db).filter(\.$regionISO == "KZ-71").count() == 5)
            let kinds = Set(try await OrganisationRecord.query(on: store.db).all(\.$kind))
            #expect(kinds == Set(OrganisationKind.allCases.map(\.rawValue)))
        }
    }

    @Test func sqliteFileIsInWALMode() async throws {
        try await withStore { store in
            guard !store.isPostgres else { return }
            struct M: Decodable { let journal_mode: String }
            let mode = try await store.sql.raw("PRAGMA journal_mode").first(decoding: M.self)
            #expect(mode?.journal_mode == "wal")
        }
    }

    @Test func sqliteConnectionsReadThroughMemoryMapping() async throws {
        try await withStore { store in
            guard !store.isPostgres else { return }
            struct M: Decodable { let mmap_size: Int64 }
            struct C: Decodable { let cache_size: Int64 }
            // migrate() set every pooled connection: 2 GB asked, SQLite's own cap applies; 64 MB of cache (as -KiB).
            #expect((try await store.sql.raw("PRAGMA mmap_size").first(decoding: M.self)?.mmap_size ?? 0) > 1_000_000_000)
            #expect(try await store.sql.raw("PRAGMA cache_size").first(decoding: C.self)?.cache_size == -65_536)
            try await store.tuneConnections(environment: ["SQLITE_MMAP_MB": "0", "SQLITE_CACHE_MB": "8"])
            #expect(try await store.sql.raw("PRAGMA mmap_size").first(decoding: M.self)?.mmap_size == 0)
            #expect(try await store.sql.raw("PRAGMA cache_size").first(decoding: C.self)?.cache_size == -8_192)
            for bad in ["abc", "-1", "1.5", "99999999999"] {
                await #expect(throws: StoreError.self) { try await store.tuneConnections(environment: ["SQLITE_MMAP_MB": bad]) }
            }
        }
    }

    @Test func demoDataLoadsOnceWithValidIINsInFiveRegions() async throws {
        try await withStore { store in
            let first = try await DemoData.load(into: store, hashPassword: fastHash, persons: 400)
            let second = try await DemoData.load(into: store, hashPassword: fastHash, persons: 400)
            #expect(first.users == DemoData.accounts.count)
            #expect(first.persons == 400)
            #expect(second.users == 0 && second.persons == 0)
            let people = try await PersonRecord.query(on: store.db).all()
            #expect(people.count == 400)
            for p in people { #expect((try? IIN(p.iin)) != nil) }
            #expect(Set(people.map(\.regionISO)).isSuperset(of: ["KZ-71", "KZ-75", "KZ-79", "KZ-35", "KZ-61"]))
        }
    }
}

@Suite struct RegistryScopeTests {
    func setup(_ store: Store) async throws -> (astanaDistrict: Int, almatyDistrict: Int) {
        _ = try await DemoData.load(into: store, hashPassword: fastHash, persons: 600)
        let astana = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "710300000").first()?.id)
        let almaty = try #require(try await DistrictRecord.query(on: store.db).filter(\.$kato == "750200000").first()?.id)
        return (astana, almaty)
    }

    @Test func districtScopeSeesOnlyItsDistrict() async throws {
        try await withStore { store in
            let (astana, almaty) = try await setup(store)
            let registry = Registry(store: store)
            let page = try await registry.search(nil, scope: .district(Int64(astana)), cursor: nil, limit: 200)
            #expect(!page.items.isEmpty)
            #expect(page.items.allSatisfy { $0.district_id == astana && $0.region_iso == "KZ-71" })
            // A person of Almaty is not found through an Astana scope, though the id exists.
            let other = try #require(try await PersonRecord.query(on: store.db).filter(\.$districtID == almaty).first())
            #expect(try await registry.person(id: other.id!, scope: .district(Int64(astana))) == nil)
            #expect(try await registry.person(id: other.id!, scope: .district(Int64(almaty)))?.id == other.id)
            #expect(try await registry.person(id: other.id!, scope: .national) != nil)
            #expect(try await registry.person(id: other.id!, scope: .region(RegionCode("KZ-71")!)) == nil)
            #expect(try await registry.person(id: other.id!, scope: .organisation(1)) == nil)
            #expect(try await registry.count(scope: .organisation(1)) == 0)
            #expect(try await registry.count(scope: .national) == 600)
        }
    }

    @Test func searchesByIINAndByName() async throws {
        try await withStore { store in
            _ = try await setup(store)
            let registry = Registry(store: store)
            let someone = try #require(try await PersonRecord.query(on: store.db).first())
            let byIIN = try await registry.search(someone.iin, scope: .national, cursor: nil, limit: 10)
            #expect(byIIN.items.map(\.id) == [someone.id!])
            let byPrefix = try await registry.search(String(someone.iin.prefix(6)), scope: .national, cursor: nil, limit: 200)
            #expect(byPrefix.items.contains { $0.id == someone.id })
            #expect(byPrefix.items.allSatisfy { $0.iin.hasPrefix(someone.iin.prefix(6)) })
            // Case-insensitive in Cyrillic: surname in upper case and first name.
            let byName = try await registry.search("\(someone.lastName.uppercased()) \(someone.firstName)", scope: .national, cursor: nil, limit: 200)
            #expect(byName.items.contains { $0.id == someone.id })
            #expect(byName.items.allSatisfy { $0.last_name == someone.lastName && $0.first_name == someone.firstName })
            // LIKE wildcards typed by a person match nothing special.
            #expect(try await registry.search("%", scope: .national, cursor: nil, limit: 5).items.count == 5)
            #expect(try await registry.search("zzzz", scope: .national, cursor: nil, limit: 5).items.isEmpty)
        }
    }

    @Test func cursorWalksEveryoneOnce() async throws {
        try await withStore { store in
            _ = try await setup(store)
            let registry = Registry(store: store)
            var seen: [Int] = []
            var cursor: String? = nil
            repeat {
                let page = try await registry.search(nil, scope: .national, cursor: cursor, limit: 70)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen.count == 600)
            #expect(Set(seen).count == 600)
            #expect(seen == seen.sorted())
            await #expect(throws: StoreError.self) { try await registry.search(nil, scope: .national, cursor: "abc", limit: 5) }
        }
    }
}

@Suite struct AuditTests {
    @Test func chainVerifiesAndDetectsTampering() async throws {
        try await withStore { store in
            _ = try await DemoData.load(into: store, hashPassword: fastHash, persons: 50)
            guard case .intact(let n) = try await AuditLog.verify(store.sql) else { Issue.record("chain should be intact"); return }
            #expect(n > 50)
            // act: one UPDATE of an audit row, as an intruder with database access would do
            try await store.sql.raw("UPDATE audit_log SET after = 'x' WHERE seq = 7").run()
            // verify
            #expect(try await AuditLog.verify(store.sql) == .broken(seq: 7, reason: "content does not match its hash"))
        }
    }

    @Test func deletingTheLastRecordIsDetected() async throws {
        try await withStore { store in
            struct M: Decodable { let m: Int }
            let last = try #require(try await store.sql.raw("SELECT MAX(seq) AS m FROM audit_log").first(decoding: M.self)?.m)
            try await store.sql.raw("DELETE FROM audit_log WHERE seq = \(bind: last)").run()
            guard case .broken = try await AuditLog.verify(store.sql) else { Issue.record("deletion not detected"); return }
        }
    }

    @Test func everyWriteIsAuditedWithWhoAndWhat() async throws {
        try await withStore { store in
            let id = try await Directory(store: store).ensureUser(NewUser(login: "someone", passwordHash: "x", role: .caseworker, displayName: "S"), by: Actor(userID: nil, login: "admin"))
            struct R: Decodable { let actor: String; let action: String; let entity: String; let entity_id: String; let after: String? }
            let r = try #require(try await store.sql.raw("SELECT actor, action, entity, entity_id, after FROM audit_log ORDER BY seq DESC LIMIT 1").first(decoding: R.self))
            #expect(r.actor == "admin" && r.action == "create" && r.entity == "user" && r.entity_id == String(id))
            #expect(r.after?.contains("\"login\":\"someone\"") == true)
            #expect(r.after?.contains("password") == false)
        }
    }

    @Test func concurrentWritersKeepOneChain() async throws {
        try await withStore { store in
            let dir = Directory(store: store)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    group.addTask { try await dir.ensureUser(NewUser(login: "user\(i)", passwordHash: "x", role: .analyst, displayName: "U\(i)")) }
                }
                try await group.waitForAll()
            }
            guard case .intact = try await AuditLog.verify(store.sql) else { Issue.record("chain forked under concurrency"); return }
            #expect(try await UserRecord.query(on: store.db).count() == 40)
        }
    }

    @Test func aFailedWriteLeavesNothingBehind() async throws {
        try await withStore { store in
            struct Boom: Error {}
            struct C: Decodable { let n: Int }
            let before = try await store.sql.raw("SELECT COUNT(*) AS n FROM audit_log").first(decoding: C.self)!.n
            await #expect(throws: Boom.self) {
                try await store.write(as: .system) { ctx in
                    let u = UserRecord()
                    u.login = "ghost"; u.passwordHash = "x"; u.role = "analyst"; u.displayName = "G"; u.active = true; u.createdAt = ctx.now
                    try await u.create(on: ctx.db)
                    try ctx.audit("create", entity: "user", id: "ghost")
                    throw Boom()
                }
            }
            #expect(try await UserRecord.query(on: store.db).filter(\.$login == "ghost").count() == 0)
            #expect(try await store.sql.raw("SELECT COUNT(*) AS n FROM audit_log").first(decoding: C.self)!.n == before)
        }
    }
}

@Suite struct SessionTests {
    @Test func sessionsEndAfterInactivityAndLifetime() async throws {
        let clock = TestClock()
        try await withStore(clock: clock) { store in
            let dir = Directory(store: store)
            let id = try await dir.ensureUser(NewUser(login: "cw", passwordHash: "x", role: .caseworker, displayName: "C"))
            let user = try #require(try await dir.user(id: id))
            let s = try await dir.startSession(for: user, kind: "web", lifetime: 3600)
            #expect(try await dir.session(token: s.token, idle: 600)?.user.login == "cw")
            #expect(try await dir.session(token: "nope", idle: 600) == nil)
            clock.advance(300)
            #expect(try await dir.session(token: s.token, idle: 600) != nil) // touched now
            clock.advance(599)
            #expect(try await dir.session(token: s.token, idle: 600) != nil)
            clock.advance(601)
            #expect(try await dir.session(token: s.token, idle: 600) == nil) // idle too long
            let s2 = try await dir.startSession(for: user, kind: "api", lifetime: 3600)
            clock.advance(3601)
            #expect(try await dir.session(token: s2.token, idle: nil) == nil) // past its lifetime
            // The stored key is a hash, not the secret.
            #expect(try await SessionRecord.query(on: store.db).filter(\.$id == s2.token).count() == 0)
        }
    }

    @Test func tenFailuresLockTheAccountForAWhile() async throws {
        let clock = TestClock()
        try await withStore(clock: clock) { store in
            let dir = Directory(store: store)
            for _ in 0..<9 { try await dir.recordFailure(keys: [("login:x", 10)], window: 900, lockFor: 900) }
            #expect(try await dir.lockedUntil(keys: ["login:x"]) == nil)
            try await dir.recordFailure(keys: [("login:x", 10)], window: 900, lockFor: 900)
            #expect(try await dir.lockedUntil(keys: ["login:x", "addr:1"]) != nil)
            clock.advance(901)
            #expect(try await dir.lockedUntil(keys: ["login:x"]) == nil)
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func parsesDatabaseURLs() throws {
        #expect(try StoreLocation.parse(nil) == .sqliteFile("jumys.sqlite"))
        #expect(try StoreLocation.parse("sqlite:/tmp/x.sqlite") == .sqliteFile("/tmp/x.sqlite"))
        #expect(try StoreLocation.parse("postgres://u:secret@db:5433/jumys").redacted == "postgres db:5433/jumys")
        #expect(throws: StoreError.self) { try StoreLocation.parse("mysql://x") }
    }

    @Test func csvReaderHandlesQuotes() {
        #expect(CSV.parse("a,b\n\"x, y\",\"he said \"\"hi\"\"\"\n") == [["a", "b"], ["x, y", "he said \"hi\""]])
        #expect(CSV.parse("a,b\r\n1,2") == [["a", "b"], ["1", "2"]])
    }
}
