import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import JumysDomain
import Logging
import NIOCore
import NIOPosix
import SQLKit

/// Where the data lives, parsed from `DATABASE_URL` (default: the embedded SQLite file).
public enum StoreLocation: Sendable, Equatable {
    case sqliteFile(String)
    case sqliteMemory
    case postgres(String)

    /// `postgres://…` / `postgresql://…`, `sqlite:PATH` / `sqlite://PATH`, `sqlite::memory:`, or nil for ./jumys.sqlite.
    public static func parse(_ url: String?) throws(StoreError) -> StoreLocation {
        guard let url, !url.isEmpty else { return .sqliteFile("jumys.sqlite") }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return .postgres(url) }
        if url == "sqlite::memory:" { return .sqliteMemory }
        for prefix in ["sqlite://", "sqlite:"] where url.hasPrefix(prefix) {
            let path = String(url.dropFirst(prefix.count))
            guard !path.isEmpty else { break }
            return .sqliteFile(path)
        }
        throw .configuration("DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got a value of another form)")
    }

    public var isPostgres: Bool { if case .postgres = self { true } else { false } }

    /// A description safe for logs: never the password.
    public var redacted: String {
        switch self {
        case .sqliteFile(let p): return "sqlite file \(p)"
        case .sqliteMemory: return "sqlite in memory"
        case .postgres(let url):
            guard let u = URLComponents(string: url) else { return "postgres" }
            return "postgres \(u.host ?? "localhost"):\(u.port ?? 5432)\(u.path)"
        }
    }
}

public enum StoreError: Error, CustomStringConvertible, Equatable {
    case configuration(String)
    case notFound
    case conflict(String)
    case invalid(field: String, reason: String)

    public var description: String {
        switch self {
        case .configuration(let m): return m
        case .notFound: return "not found"
        case .conflict(let m): return "conflict: \(m)"
        case .invalid(let f, let r): return "\(f): \(r)"
        }
    }
}

/// Who is writing; recorded in the audit log.
public struct Actor: Sendable, Equatable {
    public let userID: Int?
    public let login: String
    public init(userID: Int?, login: String) { self.userID = userID; self.login = login }
    public static let system = Actor(userID: nil, login: "system")
}

/// The database behind Jumys: one code path for SQLite and PostgreSQL.
public final class Store: Sendable {
    /// A write PostgreSQL gave up on only because another transaction stood in its way (a deadlock it broke by
    /// rolling this one back, or a serialization failure): nothing of it was kept, and running it again is safe.
    public static func isTransientConflict(_ error: any Error) -> Bool {
        guard let e = error as? PSQLError, e.code == .server, let state = e.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }

    /// This store object's own identity (results cached in process are never shared between two databases).
    public let instanceID = UUID()
    public let location: StoreLocation
    public let logger: Logger
    public let now: @Sendable () -> Date
    private let databases: Databases
    private let eventLoopGroup: any EventLoopGroup
    /// SQLite allows one writer: write transactions are serialised in process so that none fails busy.
    private let writeGate: WriteGate?

    /// - Parameter postgresSchema: on PostgreSQL, the schema to work in (tests give each run its own).
    public init(location: StoreLocation, logger: Logger, now: @escaping @Sendable () -> Date = { Date() },
                postgresSchema: String? = nil, postgresConnectionsPerLoop: Int = 8,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                threadPool: NIOThreadPool = .singleton) throws {
        self.location = location
        // Drivers log SQL with its bound values (IINs, names) at debug and trace: the store never logs below info.
        var logger = logger
        if logger.logLevel < .info { logger.logLevel = .info }
        self.logger = logger
        self.now = now
        self.eventLoopGroup = eventLoopGroup
        self.databases = Databases(threadPool: threadPool, on: eventLoopGroup)
        switch location {
        case .sqliteFile(let path):
            databases.use(.sqlite(.file(path), sqlLogLevel: nil), as: .sqlite)
            writeGate = WriteGate()
        case .sqliteMemory:
            databases.use(.sqlite(.memory, sqlLogLevel: nil), as: .sqlite)
            writeGate = WriteGate()
        case .postgres(let url):
            do {
                var pg = try SQLPostgresConfiguration(url: url)
                if let postgresSchema { pg.searchPath = [postgresSchema] }
                databases.use(.postgres(configuration: pg, maxConnectionsPerEventLoop: postgresConnectionsPerLoop, encodingContext: .default, decodingContext: .default, sqlLogLevel: .trace), as: .psql)
            } catch {
                throw StoreError.configuration("DATABASE_URL is not a valid PostgreSQL URL")
            }
            writeGate = nil
        }
    }

    /// A database handle for reads (and for migrations).
    public var db: any Database {
        databases.database(logger: logger, on: eventLoopGroup.any())!
    }

    public var sql: any SQLDatabase { db as! any SQLDatabase }

    public var isPostgres: Bool { location.isPostgres }

    /// Today in Kazakhstan by this store's clock.
    public func today() -> CivilDate { CivilDate(kazakhstanAt: now()) }

    /// Creates missing tables; on SQLite switches the file to WAL journaling first.
    public func migrate() async throws {
        if !isPostgres {
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        let migrations = Migrations()
        migrations.add(JumysMigrations.all)
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: eventLoopGroup.any(), migrationLogLevel: .debug)
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
        try await tuneConnections()
    }

    /// SQLite reads pages through memory-mapped I/O and keeps a larger page cache. Without this every page a query
    /// touches beyond SQLite's 2 MB cache is a `pread` system call: on the national dataset the worklist spent 40 %
    /// of its time in them. Both settings belong to a connection; the pool keeps one connection per event loop for
    /// the process's life, so each loop's connection is set once here. (A connection the pool opened again later
    /// would read without them: slower, not wrong.)
    /// `SQLITE_MMAP_MB` and `SQLITE_CACHE_MB` change the sizes (0 turns memory mapping off, as on a network file system).
    public func tuneConnections(environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
        guard !isPostgres, case .sqliteFile = location else { return }
        func megabytes(_ name: String, default value: Int64, least: Int64) throws -> Int64 {
            guard let text = environment[name], !text.isEmpty else { return value }
            guard let n = Int64(text), n >= least, n <= 1 << 20 else { throw StoreError.configuration("\(name) must be a whole number of megabytes from \(least) to 1048576") }
            return n
        }
        let mmapMB = try megabytes("SQLITE_MMAP_MB", default: Self.sqliteMmapMB, least: 0)
        let cacheMB = try megabytes("SQLITE_CACHE_MB", default: Self.sqliteCacheMB, least: 1)
        for loop in eventLoopGroup.makeIterator() {
            let db = databases.database(logger: logger, on: loop)! as! any SQLDatabase
            try await db.raw("PRAGMA mmap_size = \(unsafeRaw: String(mmapMB * 1_048_576))").run()
            try await db.raw("PRAGMA cache_size = -\(unsafeRaw: String(cacheMB * 1024))").run()
        }
    }

    /// At most SQLite's own limit (2 GB on Linux) of the file is mapped; the rest is read as before.
    static let sqliteMmapMB: Int64 = 2048
    /// Page cache per connection (SQLite's default is 2 MB).
    static let sqliteCacheMB: Int64 = 64

    /// Answers whether the database can be reached (readiness).
    public func ping() async -> Bool {
        do { _ = try await sql.raw("SELECT 1 AS ok").first(); return true } catch { return false }
    }

    /// Runs `body` in one transaction as `actor`; the audit records it collects are chained and
    /// written in the same transaction, so a write and its audit stand or fall together.
    public func write<T: Sendable>(as actor: Actor, _ body: @escaping @Sendable (WriteContext) async throws -> T) async throws -> T {
        let run: @Sendable () async throws -> T = {
            try await self.db.transaction { tx in
                let ctx = WriteContext(db: tx, actor: actor, now: self.now())
                let result = try await body(ctx)
                try await AuditLog.append(ctx.takeEntries(), on: tx as! any SQLDatabase, isPostgres: self.isPostgres)
                return result
            }
        }
        if let gate = writeGate { return try await gate.run(run) }
        return try await run()
    }

    /// A write that is bookkeeping, not a change of the record (session touch, throttle counters): not audited.
    public func bookkeeping<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        let run: @Sendable () async throws -> T = { try await self.db.transaction { try await body($0) } }
        if let gate = writeGate { return try await gate.run(run) }
        return try await run()
    }

    /// A store in a fresh place of its own: a new temporary SQLite file, or a new schema in the PostgreSQL
    /// database that `DATABASE_URL` names. Tests and benchmarks use it so that they never share state.
    public static func isolated(environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger = Logger(label: "jumys.test"), now: @escaping @Sendable () -> Date = { Date() }) async throws -> Store {
        let location = try StoreLocation.parse(environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "sqlite:\(NSTemporaryDirectory())jumys-test-\(UUID().uuidString).sqlite")
        guard case .postgres = location else { return try Store(location: location, logger: logger, now: now) }
        // Tests run in parallel; at most a few hold PostgreSQL connections at once, so any server's limit suffices.
        await IsolatedStoreGate.shared.acquire()
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        // Tests run in parallel, each with its own store: small pools keep them under the server's connection limit.
        let admin = try Store(location: location, logger: logger, postgresConnectionsPerLoop: 1)
        try await admin.sql.raw("CREATE SCHEMA \(ident: schema)").run()
        await admin.shutdown()
        return try Store(location: location, logger: logger, now: now, postgresSchema: schema, postgresConnectionsPerLoop: 2)
    }

    /// Removes what `isolated` made (the schema or the file).
    public func destroy() async {
        switch location {
        case .postgres:
            if let schema = try? await sql.raw("SELECT current_schema() AS s").first(decoding: [String: String].self)?["s"], schema.hasPrefix("t_") {
                try? await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
            }
            await shutdown()
            await IsolatedStoreGate.shared.release()
        case .sqliteFile(let path):
            await shutdown()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        case .sqliteMemory:
            await shutdown()
        }
    }

    public func shutdown() async {
        await databases.shutdownAsync()
    }
}

/// The state of one write transaction: its database handle, who writes, and the audit records so far.
public final class WriteContext: @unchecked Sendable {
    public let db: any Database
    public let actor: Actor
    public let now: Date
    // Touched only by the task running the transaction body.
    private var entries: [AuditEntry] = []

    /// Makes the rest of this transaction the only one working on `key` (a limit, a loan, a bond, a vacancy…), so that
    /// what it reads and checks still holds when it writes. PostgreSQL: a transaction-scoped advisory lock, released at
    /// commit or rollback. SQLite: nothing to do, its writes already run one at a time.
    public func serialize(_ key: String) async throws {
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: key), 0))").run()
    }

    init(db: any Database, actor: Actor, now: Date) {
        self.db = db; self.actor = actor; self.now = now
    }

    public var sql: any SQLDatabase { db as! any SQLDatabase }

    /// Records a change for the audit log. `before`/`after` are snapshots (nil for create/delete).
    public func audit(_ action: String, entity: String, id: String, before: (any Encodable & Sendable)? = nil, after: (any Encodable & Sendable)? = nil) throws {
        entries.append(AuditEntry(action: action, entity: entity, entityID: id,
                                  before: try before.map(AuditLog.canonicalJSON), after: try after.map(AuditLog.canonicalJSON),
                                  actor: actor, at: now))
    }

    func takeEntries() -> [AuditEntry] { defer { entries = [] }; return entries }
}

/// A FIFO async lock: one holder at a time.
actor WriteGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}

/// A counting semaphore for `Store.isolated` on PostgreSQL (`JUMYS_TEST_PG_PARALLEL`, default 8).
actor IsolatedStoreGate {
    static let shared = IsolatedStoreGate(capacity: Int(ProcessInfo.processInfo.environment["JUMYS_TEST_PG_PARALLEL"] ?? "") ?? 8)
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []
    init(capacity: Int) { free = max(1, capacity) }
    func acquire() async {
        if free > 0 { free -= 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }
    func release() {
        if waiters.isEmpty { free += 1 } else { waiters.removeFirst().resume() }
    }
}
