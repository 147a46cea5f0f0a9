import FluentKit
import Foundation
import JumysDomain
import Logging
import SQLKit
import Testing
@testable import JumysStore

/// `jumys backup` and `jumys restore` on SQLite: a copy taken while people are being registered is consistent
/// (integrity, foreign keys, the audit chain) and holds every registration committed before it; a restore never
/// overwrites a database unless told to. PostgreSQL's pg_dump and pg_restore run in scripts/backup_check.sh.
@Suite struct BackupTests {
    @Test func aCopyTakenWhileWritingIsConsistentAndRestores() async throws {
        try await withCases { f in
            guard case .sqliteFile = f.store.location else { return }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jumys-backup-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            func persons(_ s: Store) async throws -> Int { try await Backup.check(s).counts.first { $0.table == "persons" }!.rows }
            let before = try await persons(f.store)
            // Registrations go on while the copy is taken.
            let writer = Task {
                for serial in 0..<20 {
                    _ = try await f.cases.register(Registration(iin: iin(1987, 9, 14, .female, 7100 + serial).value, lastName: "Әлиева", firstName: "Мадина",
                                                                categories: [.jobSeeker], consent: true), by: f.caseworker)
                }
            }
            let copy = dir.appendingPathComponent("copy.sqlite").path
            try await Backup.sqlite(f.store, to: copy)
            try await writer.value
            await #expect(throws: Backup.Failure.exists(copy)) { try await Backup.sqlite(f.store, to: copy) }
            // The copy opens as a database of its own and is consistent.
            let restored = dir.appendingPathComponent("restored.sqlite").path
            try Backup.restoreSQLite(from: copy, to: restored, replace: false)
            let store = try Store(location: .sqliteFile(restored), logger: Logger(label: "test"))
            let check = try await Backup.check(store)
            let copied = check.counts.first { $0.table == "persons" }!.rows
            await store.shutdown()
            #expect(check.consistent && check.foreignKeyProblems == 0)
            #expect(copied >= before && copied <= before + 20)
            // Every registration in the copy came with its audit record: the chain holds and is as long as the copy's history.
            if case .intact(let n) = check.audit { #expect(n > 0) } else { Issue.record("audit chain broken in the copy") }
            #expect(try await persons(f.store) == before + 20)
            // A restore never overwrites a database unless told to; told to, it keeps the old file aside.
            #expect(throws: Backup.Failure.exists(restored)) { try Backup.restoreSQLite(from: copy, to: restored, replace: false) }
            try Backup.restoreSQLite(from: copy, to: restored, replace: true)
            #expect(FileManager.default.fileExists(atPath: restored + ".before-restore"))
            #expect(throws: Backup.Failure.missing(dir.path + "/none")) { try Backup.restoreSQLite(from: dir.path + "/none", to: restored, replace: true) }
        }
    }
}
