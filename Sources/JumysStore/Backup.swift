import FluentKit
import Foundation
import SQLKit

/// Backups of the registry and what a restored copy must show. SQLite is copied online with `VACUUM INTO`: one
/// read transaction, so the copy is consistent while the server goes on writing. PostgreSQL is dumped with the
/// server's own `pg_dump` (custom format) and restored with `pg_restore`. After a restore the copy is checked: the
/// file's integrity (SQLite), foreign keys, the audit chain, and the row counts are printed to compare.
public enum Backup {
    /// The tables whose counts show that a copy holds what it should (people, cases, money, jobs, the audit log).
    public static let tables = ["persons", "person_events", "applications", "contracts", "vacancies", "referrals", "placements", "payroll_lines", "projects",
                                "project_reports", "loans", "loan_schedule_lines", "funding_limits", "limit_commitments", "import_jobs", "background_jobs", "users", "audit_log"]

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case exists(String), missing(String), tool(String), inconsistent(String)
        public var description: String {
            switch self {
            case .exists(let p): "\(p) already exists: choose a new file (a backup never overwrites one)"
            case .missing(let p): "\(p) does not exist"
            case .tool(let m): m
            case .inconsistent(let m): "the copy is not consistent: \(m)"
            }
        }
    }

    /// An online, consistent copy of a SQLite store into a new file.
    public static func sqlite(_ store: Store, to path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw Failure.exists(path) }
        try await store.sql.raw("VACUUM INTO \(bind: path)").run()
    }

    /// Puts a SQLite backup in place of the database file `target` (the server must be stopped). Without `replace`,
    /// an existing database is never overwritten; with it, the old file and its WAL are moved aside as `.before-restore`.
    public static func restoreSQLite(from backup: String, to target: String, replace: Bool) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: backup) else { throw Failure.missing(backup) }
        if fm.fileExists(atPath: target) {
            guard replace else { throw Failure.exists(target) }
            for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: target + suffix) {
                let aside = target + ".before-restore" + suffix
                try? fm.removeItem(atPath: aside)
                try fm.moveItem(atPath: target + suffix, toPath: aside)
            }
        }
        try fm.copyItem(atPath: backup, toPath: target)
    }

    /// Runs `pg_dump` or `pg_restore` (found on PATH or in Debian's /usr/lib/postgresql/*/bin).
    public static func postgresTool(_ name: String, _ arguments: [String]) throws {
        let fm = FileManager.default
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }.first { fm.isExecutableFile(atPath: $0) }
            ?? ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted { $0.compare($1, options: .numeric) == .orderedDescending }
                .map { "/usr/lib/postgresql/\($0)/bin/\(name)" }.first { fm.isExecutableFile(atPath: $0) }
        guard let path else { throw Failure.tool("\(name) not found: install PostgreSQL's client tools (Debian: postgresql-client)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failure.tool("\(name) failed with status \(p.terminationStatus)") }
    }

    /// What a copy holds: the row count of each table, and whether its foreign keys and audit chain hold.
    public struct Check: Sendable {
        public let counts: [(table: String, rows: Int)]
        public let audit: AuditLog.Verification
        public let foreignKeyProblems: Int
        public var consistent: Bool {
            if case .intact = audit { return foreignKeyProblems == 0 }
            return false
        }
    }

    public static func check(_ store: Store) async throws -> Check {
        struct N: Decodable { let n: Int }
        var counts: [(String, Int)] = []
        for t in tables {
            let n = try await store.sql.raw("SELECT COUNT(*) AS n FROM \(ident: t)").first(decoding: N.self)?.n ?? 0
            counts.append((t, n))
        }
        var problems = 0
        if store.sql.dialect.name == "sqlite" {
            struct R: Decodable { let integrity_check: String }
            let integrity = try await store.sql.raw("PRAGMA integrity_check").all(decoding: R.self)
            guard integrity.map(\.integrity_check) == ["ok"] else { throw Failure.inconsistent(integrity.map(\.integrity_check).prefix(3).joined(separator: "; ")) }
            problems = try await store.sql.raw("PRAGMA foreign_key_check").all().count
        }
        return Check(counts: counts, audit: try await AuditLog.verify(store.sql), foreignKeyProblems: problems)
    }
}
