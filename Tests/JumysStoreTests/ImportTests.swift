import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit
import Testing
@testable import JumysStore

/// Bulk import of persons: every bad row reported with its row and column, good rows committed in batches, the
/// same file again adds nothing, and a run interrupted half-way and resumed ends as one clean run does.
@Suite struct ImportTests {
    /// A persons file: `good` valid rows in the caseworker's district, then the bad rows of every kind.
    static func personsFile(good: Int, district kato: String, otherKATO: String, start: Int = 0) -> (csv: String, bad: Int) {
        var lines = ["iin;last_name;first_name;middle_name;district;rural;phone;categories;consent"]
        for n in 0..<good {
            let i = iin(1980 + n % 20, 1 + n % 12, 1 + n % 28, n % 2 == 0 ? .female : .male, start + n * 7)
            lines.append("\(i.value);Серікова;\"Айгерім; \"\"Әсем\"\"\";;\(kato);\(n % 3 == 0 ? "yes" : "no");+7 701 123 4567;unemployed job_seeker;yes")
        }
        let ok = iin(1990, 3, 3, .male, 9_001).value
        var bad: [String] = [
            "\(ok.dropLast())\((Int(String(ok.last!))! + 1) % 10);Ахметов;Ерлан;;\(kato);no;;unemployed;yes",   // checksum
            "\(ok);;Ерлан;;\(kato);no;;unemployed;yes",                           // no last name
            "\(iin(1990, 3, 4, .male, 9_002).value);Ахметов;Ерлан;;999999999;no;;unemployed;yes",   // unknown district
            "\(iin(1990, 3, 5, .male, 9_003).value);Ахметов;Ерлан;;\(otherKATO);no;;unemployed;yes", // another district
            "\(iin(1990, 3, 6, .male, 9_004).value);Ахметов;Ерлан;;\(kato);maybe;;jobless;no",        // rural, category, consent
        ]
        bad.append("\(iin(1990, 3, 7, .male, 9_005).value);Ахметов;Ерлан;;\(kato);no;12;;yes")                 // phone
        lines += bad
        return (lines.joined(separator: "\r\n") + "\r\n", bad.count)
    }

    @Test func personsImportReportsBadRowsAndAddsNothingTwice() async throws {
        try await withStore(clock: { let c = TestClock(); c.set(CaseFixture.today); return c }()) { store in
            let f = try await CaseFixture.make(store)
            let district = try #require(try await DistrictRecord.find(f.district, on: store.db))
            let other = try #require(try await DistrictRecord.query(on: store.db).filter(\.$id != f.district).first())
            let before = try await count(store, "persons")
            // One person of the file is registered already: left as is.
            let (csv, bad) = Self.personsFile(good: 1_203, district: district.kato, otherKATO: other.kato)
            let firstIIN = String(csv.components(separatedBy: "\r\n")[1].prefix(12))
            _ = try await f.cases.register(Registration(iin: firstIIN, lastName: "Бұрын", firstName: "Тіркелген", consent: true), by: f.caseworker)
            let imports = ImportStore(store: store)
            let (job, existing) = try await imports.submit(.persons, fileName: "C:\\exports\\persons.csv", data: Data(csv.utf8), by: f.caseworker)
            #expect(!existing && job.state == "queued" && job.rows_total == 1_203 + bad && job.file_name == "persons.csv")
            let seen = Counter()
            let done = try await imports.run(job.id) { _ in seen.add() }
            #expect(done.state == "done" && done.rows_done == done.rows_total)
            #expect(done.added == 1_202 && done.present == 1 && done.failed == bad)
            #expect(seen.value == 4)                                   // three batches of 500 and the end
            #expect(try await count(store, "persons") == before + 1 + 1_202)
            // Every bad row with its row number (the header is row 1) and column.
            let errors = try await imports.errors(of: job.id)
            let byRow = Dictionary(grouping: errors, by: \.row).mapValues { Set($0.map { "\($0.column):\($0.code)" }) }
            let firstBad = 1_203 + 2
            #expect(byRow[firstBad] == ["iin:iin_invalid"])
            #expect(byRow[firstBad + 1] == ["last_name:name_required"])
            #expect(byRow[firstBad + 2] == ["district:choose_from_list"])
            #expect(byRow[firstBad + 3] == ["district:district_out_of_scope"])
            #expect(byRow[firstBad + 4] == ["rural:choose_from_list", "categories:choose_from_list", "consent:consent_required"])
            #expect(byRow[firstBad + 5] == ["phone:phone_invalid"])
            #expect(byRow.count == bad)
            // A quoted cell keeps its separator and quotes; categories and the timeline are written.
            struct P: Decodable { let id: Int; let first_name: String; let is_rural: Bool; let consent_by: String? }
            let p = try #require(try await store.sql.raw("SELECT id, first_name, is_rural, consent_by FROM persons WHERE iin = \(bind: iin(1981, 2, 2, .male, 7).value)").first(decoding: P.self))
            #expect(p.first_name == "Айгерім; \"Әсем\"" && !p.is_rural && p.consent_by == f.caseworker.login)
            #expect(try await count(store, "person_categories WHERE person_id = \(p.id)") == 2)
            #expect(try await count(store, "person_events WHERE person_id = \(p.id)") == 2)
            // The same file again is the same job: nothing added. Another file with the same rows adds nothing either.
            let again = try await imports.submit(.persons, fileName: "persons.csv", data: Data(csv.utf8), by: f.caseworker)
            #expect(again.existing && again.job.id == job.id)
            #expect(try await imports.run(again.job.id).added == 1_202)
            let copy = try await imports.submit(.persons, fileName: "copy.csv", data: Data((csv + "\n").utf8), by: f.caseworker)
            let second = try await imports.run(copy.job.id)
            #expect(!copy.existing && second.added == 0 && second.present == 1_203 && second.failed == bad)
            #expect(try await count(store, "persons") == before + 1 + 1_202)
            // One audit record per batch, and the chain holds.
            #expect(try await count(store, "audit_log WHERE action = 'import'") == 6)
            guard case .intact = try await AuditLog.verify(store.sql) else { Issue.record("audit chain broken"); return }
            // A file without the required columns, or not a table at all, is refused before anything is stored.
            await #expect(throws: FieldErrors.self) { try await imports.submit(.persons, fileName: "x.csv", data: Data("iin;name\n1;2\n".utf8), by: f.caseworker) }
            await #expect(throws: FieldErrors.self) { try await imports.submit(.persons, fileName: "x.csv", data: Data([0xC0, 0xFF, 0x00, 0x41]), by: f.caseworker) }
            await #expect(throws: FieldErrors.self) { try await imports.submit(.persons, fileName: "x.xlsx", data: Data([0x50, 0x4B, 0x03, 0x04, 1, 2, 3]), by: f.caseworker) }
            await #expect(throws: FieldErrors.self) { try await imports.submit(.persons, fileName: "x.csv", data: Data(csv.utf8), by: f.analyst) }
            #expect(try await count(store, "import_jobs") == 2)
        }
    }

    @Test func anInterruptedImportResumesToTheResultOfACleanRun() async throws {
        func outcome(interrupt: Bool) async throws -> [String] {
            try await withStore(clock: { let c = TestClock(); c.set(CaseFixture.today); return c }()) { store in
                let f = try await CaseFixture.make(store)
                let district = try #require(try await DistrictRecord.find(f.district, on: store.db))
                let other = try #require(try await DistrictRecord.query(on: store.db).filter(\.$id != f.district).first())
                let (csv, _) = Self.personsFile(good: 1_400, district: district.kato, otherKATO: other.kato)
                let imports = ImportStore(store: store)
                let job = try await imports.submit(.persons, fileName: "p.csv", data: Data(csv.utf8), by: f.caseworker).job
                if interrupt {
                    // A runner that stops after two batches and dies: its claim names a process that no longer exists.
                    let half = try await imports.run(job.id, owner: "r1", maxBatches: 2)
                    #expect(half.state == "running" && half.rows_done == 1_000 && half.added == 1_000)
                    await #expect(throws: ImportStore.Failure.busy) { try await imports.run(job.id, owner: "r2") }
                    try await store.sql.raw("UPDATE import_jobs SET lease_owner = \(bind: "\(ProcessInfo.processInfo.hostName):999999:dead") WHERE id = \(bind: job.id)").run()
                    #expect(try await imports.waiting().isEmpty)   // the claim has not lapsed by the clock …
                }
                let done = try await imports.run(job.id, owner: "r2")   // … but its process is gone
                struct P: Decodable { let iin: String }
                let iins = try await store.sql.raw("SELECT iin FROM persons ORDER BY iin").all(decoding: P.self).map(\.iin)
                let errors = try await imports.errors(of: job.id).map { "\($0.row):\($0.column):\($0.code)" }
                return ["\(done.state) \(done.added) \(done.present) \(done.failed)", iins.joined(separator: ","), errors.joined(separator: ","),
                        "\(try await count(store, "person_events")) \(try await count(store, "person_categories"))"]
            }
        }
        let clean = try await outcome(interrupt: false), resumed = try await outcome(interrupt: true)
        #expect(clean[0] == "done 1400 0 6")
        #expect(clean == resumed)
    }

    @Test func vacanciesAndLabourContractsImportOnceWithTheFormsChecks() async throws {
        try await withStore(clock: { let c = TestClock(); c.set(CaseFixture.today); return c }()) { store in
            let f = try await CaseFixture.make(store)
            let kato = try #require(try await DistrictRecord.find(f.district, on: store.db)).kato
            let imports = ImportStore(store: store)
            let csv = """
            external_ref,employer_bin,title,isco,district,wage,places,valid_from,valid_until,requirements
            V-1,100640033018,Каменщик,7112,\(kato),"150 000",2,2021-05-01,31.12.2021,
            V-2,100640033018,Сварщик,7212,\(kato),180000,1,2021-05-01,2021-12-31,опыт
            V-3,100640033019,Сварщик,7212,\(kato),180000,1,2021-05-01,2021-12-31,
            V-4,100640033018,Сварщик,72,\(kato),-5,0,2021-02-30,2021-12-31,
            """
            let job = try await imports.submit(.vacancies, fileName: "v.csv", data: Data(csv.utf8), by: f.caseworker).job
            let done = try await imports.run(job.id)
            #expect(done.added == 2 && done.failed == 2)
            let errors = Set(try await imports.errors(of: job.id).map { "\($0.row):\($0.column):\($0.code)" })
            #expect(errors == ["4:employer_bin:bin_invalid", "5:isco:isco_invalid", "5:wage:amount_invalid", "5:places:places_invalid", "5:valid_from:date_invalid"], "\(errors)")
            // Another file with the same vacancies adds none of them.
            let again = try await imports.run(try await imports.submit(.vacancies, fileName: "v2.csv", data: Data((csv + "\n").utf8), by: f.caseworker).job.id)
            #expect(again.added == 0 && again.present == 2)
            struct V: Decodable { let id: Int; let wage: Int64; let external_ref: String? }
            let vs = try await store.sql.raw("SELECT id, wage, external_ref FROM vacancies WHERE external_ref IS NOT NULL ORDER BY id").all(decoding: V.self)
            #expect(vs.map(\.external_ref) == ["V-1", "V-2"] && vs[0].wage == 15_000_000)
            // Hires on those vacancies from the labour-contract system: one hire, one already hired, one unknown.
            let person = try await f.register(iin(1995, 6, 6, .male, 40))
            let labour = LabourStore(store: store)
            let referral = try await labour.refer(person: person, vacancy: vs[0].id, by: f.caseworker)
            let other = try await labour.refer(person: try await f.register(iin(1996, 7, 7, .female, 41)), vacancy: vs[1].id, by: f.caseworker)
            struct N: Decodable { let number: String }
            let number = try #require(try await store.sql.raw("SELECT number FROM referrals WHERE id = \(bind: referral)").first(decoding: N.self)).number
            let otherNumber = try #require(try await store.sql.raw("SELECT number FROM referrals WHERE id = \(bind: other)").first(decoding: N.self)).number
            let hires = """
            referral_number;position;starts_on;ends_on;wage;subsidised
            \(number);Каменщик;2021-05-10;;150000;social_job
            \(number);Каменщик;2021-05-10;;150000;social_job
            R-NONE;Каменщик;2021-05-10;;150000;
            \(otherNumber);Сварщик;2020-01-01;;180000;
            """
            let h = try await imports.run(try await imports.submit(.labourContracts, fileName: "h.csv", data: Data(hires.utf8), by: f.caseworker).job.id)
            #expect(h.added == 1 && h.present == 1 && h.failed == 2)
            let herrors = Set(try await imports.errors(of: h.id).map { "\($0.row):\($0.column):\($0.code)" })
            #expect(herrors == ["4:referral_number:line_referral_unknown", "5:starts_on:hire_start_range"])
            struct S: Decodable { let state: String }
            #expect(try await store.sql.raw("SELECT state FROM referrals WHERE id = \(bind: referral)").first(decoding: S.self)?.state == "hired")
            let placements = try await count(store, "placements"), contracts = try await count(store, "labour_contracts")
            #expect(placements == 1 && contracts == 1)
            // The employer imports its own vacancies only; an analyst imports nothing.
            let contractor = try await f.user("contractor.demo")
            let own = try await imports.run(try await imports.submit(.vacancies, fileName: "c.csv", data: Data(csv.replacingOccurrences(of: "V-", with: "C-").utf8), by: contractor).job.id)
            #expect(own.added == 2)
            await #expect(throws: FieldErrors.self) { try await imports.submit(.labourContracts, fileName: "h.csv", data: Data(hires.utf8), by: f.analyst) }
        }
    }

    @Test func tableFilesReadCSVShapesAndDates() throws {
        let t = try TableFile.read(Data("\u{FEFF}A,B\r\n1,\"x\ny\"\r\n\r\n2,\"q\"\"\"\n".utf8))
        #expect(t.header == ["a", "b"] && t.rows == [["1", "x\ny"], ["2", "q\""]] && t.rowNumbers == [2, 4])
        let tabs = try TableFile.read(Data("a\tb\n1\t2".utf8))
        #expect(tabs.rows == [["1", "2"]])
        #expect(throws: FieldErrors.self) { try TableFile.read(Data("a,b\n\"1,2\n".utf8)) }
        #expect(throws: FieldErrors.self) { try TableFile.read(Data("  \n".utf8)) }
        #expect(TableFile.date("2021-02-30") == nil && TableFile.date("30.01.2021") == CivilDate(year: 2021, month: 1, day: 30))
        #expect(TableFile.date("44327") == CivilDate(year: 2021, month: 5, day: 11))
        #expect(PersonsImport.iinCell("50101500123") == "050101500123")
    }

    func count(_ store: Store, _ from: String) async throws -> Int {
        struct N: Decodable { let n: Int }
        return try await store.sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: from)").first(decoding: N.self)!.n
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}
