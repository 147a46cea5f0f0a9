import ArgumentParser
import Foundation
import JumysStore
import Logging

/// `jumys backup PATH`: an online, consistent copy of the database `DATABASE_URL` names — SQLite by `VACUUM INTO`
/// (the server may keep running), PostgreSQL by `pg_dump --format=custom`. Never overwrites a file.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "Copy the database into a new file, online and consistent.")

    @ArgumentParser.Argument(help: "The new backup file") var path: String

    func run() async throws {
        let config = try Boot.config()
        guard !FileManager.default.fileExists(atPath: path) else { throw ValidationError(Backup.Failure.exists(path).description) }
        switch config.database {
        case .postgres(let url):
            try Backup.postgresTool("pg_dump", ["--format=custom", "--no-owner", "--file=\(path)", url])
        case .sqliteFile, .sqliteMemory:
            var logger = Logger(label: "jumys.backup")
            logger.logLevel = .warning
            let store = try Store(location: config.database, logger: logger)
            do { try await Backup.sqlite(store, to: path) } catch { await store.shutdown(); throw error }
            await store.shutdown()
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        print("backup written: \(path) (\(size / 1024) KiB)")
    }
}

/// `jumys restore PATH`: puts a backup in place of the database `DATABASE_URL` names (the server stopped), then
/// checks the copy — integrity, foreign keys, the audit chain — and prints its row counts.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Restore a backup into the database, then check it.")

    @ArgumentParser.Argument(help: "The backup file") var path: String
    @ArgumentParser.Flag(help: "Replace an existing SQLite database (the old file is kept as .before-restore); PostgreSQL objects are dropped and recreated.")
    var replace = false

    func run() async throws {
        let config = try Boot.config()
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError(Backup.Failure.missing(path).description) }
        switch config.database {
        case .postgres(let url):
            try Backup.postgresTool("pg_restore", ["--no-owner", "--exit-on-error", "--single-transaction"] + (replace ? ["--clean", "--if-exists"] : []) + ["--dbname=\(url)", path])
        case .sqliteFile(let target):
            do { try Backup.restoreSQLite(from: path, to: target, replace: replace) } catch let e as Backup.Failure {
                throw ValidationError(e.description + (replace ? "" : " (add --replace to put the backup in its place)"))
            }
        case .sqliteMemory:
            throw ValidationError("DATABASE_URL names an in-memory database: nothing to restore into")
        }
        var logger = Logger(label: "jumys.restore")
        logger.logLevel = .warning
        let store = try Store(location: config.database, logger: logger)
        let check: Backup.Check
        do { check = try await Backup.check(store) } catch { await store.shutdown(); throw error }
        await store.shutdown()
        for (table, rows) in check.counts { print("\(table.padding(toLength: 22, withPad: " ", startingAt: 0)) \(rows)") }
        print("foreign key problems: \(check.foreignKeyProblems)")
        switch check.audit {
        case .intact(let n): print("audit chain intact: \(n) records")
        case .broken(let seq, let reason): print("audit chain BROKEN at record \(seq): \(reason)")
        }
        guard check.consistent else { throw ExitCode(1) }
        print("restored: \(path)")
    }
}
