import FluentKit
import Foundation
import JumysDomain
import JumysStore
import Testing
import VaporTesting
@testable import JumysWeb

/// Bulk import through the page and the API: the job runs in the background, the page follows it and ends with
/// the counts and the error report; an XLSX file reads like a CSV one; the same file again is the same job.
@Suite struct ImportWebTests {
    static func iin(_ serial: Int) -> String {
        var s = serial
        while true { if let i = IIN.make(birthDate: CivilDate(year: 1991, month: 4, day: 9)!, sex: .female, serial: s) { return i.value }; s += 1 }
    }

    /// Polls a job until it has finished.
    static func finished(_ b: Browser, _ path: String, bearer: String? = nil) async throws -> Browser.Result {
        for _ in 0..<200 {
            let r = try await b.request(.GET, path, bearer: bearer)
            if r.headers.first(name: "Refresh") == nil && !r.body.contains("\"state\":\"queued\"") && !r.body.contains("\"state\":\"running\"") { return r }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the import did not finish")
        return try await b.request(.GET, path, bearer: bearer)
    }

    @Test func aCaseworkerImportsAFileAndGetsTheErrorReport() async throws {
        try await withJumys(persons: 10) { app, store in
            let cw = try #require(try await Directory(store: store).credentials(login: "caseworker.KZ-71")?.user)
            let kato = try #require(try await DistrictRecord.find(cw.districtID!, on: store.db)).kato
            let b = Browser(app)
            b.acceptLanguage = "ru"
            try await b.signIn("caseworker.KZ-71")
            let page = try await b.request(.GET, "/imports")
            #expect(page.status == .ok && page.body.contains("Импорт из файла") && page.body.contains("iin;last_name;first_name;district;consent"))
            let csv = """
            iin,last_name,first_name,district,consent
            \(Self.iin(1)),Ахметова,Дана,\(kato),yes
            \(Self.iin(100)),"<script>alert(1)</script>",Дана,\(kato),yes
            \(Self.iin(200)),Ахметова,,\(kato),yes
            """
            let sent = try await b.upload("/imports", file: "file", filename: "seekers.csv", content: csv, fields: ["kind": "persons"])
            #expect(sent.status == .seeOther)
            let location = try #require(sent.headers.first(name: .location))
            let done = try await Self.finished(b, location)
            #expect(done.body.contains("Из 3 строк добавлено 2, уже было 0, с ошибками 1."))
            #expect(done.body.contains("\(location)/errors.csv"))
            let report = try await b.request(.GET, location + "/errors.csv")
            #expect(report.status == .ok && report.headers.contentType?.subType == "csv")
            #expect(report.body.contains("Строка,Столбец,Ошибка") && report.body.contains("4,first_name,"))
            // The person named like a script shows as text in the list.
            let list = try await b.request(.GET, "/people")
            #expect(list.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !list.body.contains("<script>alert"))
            // Wrong choices are answered on the form.
            _ = try await b.request(.GET, "/imports")
            let noFile = try await b.upload("/imports", file: "file", filename: "empty.csv", content: "", fields: ["kind": "persons"])
            #expect(noFile.status == .unprocessableEntity && noFile.body.contains("error-summary"))
            _ = try await b.request(.GET, "/imports")
            let wrongColumns = try await b.upload("/imports", file: "file", filename: "x.csv", content: "name\nx\n", fields: ["kind": "persons"])
            #expect(wrongColumns.status == .unprocessableEntity && wrongColumns.body.contains("iin"))
            // An analyst imports nothing; another caseworker does not see this job.
            let analyst = Browser(app)
            try await analyst.signIn("analyst")
            #expect(try await analyst.request(.GET, "/imports").status == .forbidden)
            let other = Browser(app)
            try await other.signIn("caseworker.KZ-75")
            #expect(try await other.request(.GET, location).status == .notFound)
            #expect(try await other.request(.GET, location + "/errors.csv").status == .notFound)
        }
    }

    @Test func theAPIImportsAnXLSXFileOnce() async throws {
        try await withJumys(persons: 10) { app, store in
            let cw = try #require(try await Directory(store: store).credentials(login: "caseworker.KZ-71")?.user)
            let kato = try #require(try await DistrictRecord.find(cw.districtID!, on: store.db)).kato
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString).xlsx")
            defer { try? FileManager.default.removeItem(at: url) }
            let x = try XLSXWriter(url: url)
            try x.beginSheet("persons", columnWidths: [14, 14, 14, 12, 8])
            x.header(["IIN", "last_name", "first_name", "district", "consent"])
            x.row([.text(Self.iin(300)), .text("Серік"), .text("Әсем"), .text(kato), .text("иә")])
            x.row([.text(Self.iin(400)), .text("Серік"), .text("Нұр"), .number("999999999"), .text("yes")])
            try x.finish()
            let data = try Data(contentsOf: url)
            let token = try await apiToken(app, "caseworker.KZ-71")
            let b = Browser(app)
            let xlsx = HTTPMediaType(type: "application", subType: "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            let sent = try await b.request(.POST, "/api/v1/imports/persons", bytes: (xlsx, data), headers: [("X-File-Name", "seekers.xlsx")], bearer: token)
            #expect(sent.status == .accepted)
            let location = try #require(sent.headers.first(name: .location))
            let done = try await Self.finished(b, location, bearer: token)
            struct J: Decodable { let state: String; let added: Int; let failed: Int; let file_name: String }
            let job = try JSONDecoder().decode(J.self, from: Data(done.body.utf8))
            #expect(job.state == "done" && job.added == 1 && job.failed == 1 && job.file_name == "seekers.xlsx")
            let errors = try await b.request(.GET, location + "/errors", bearer: token)
            #expect(errors.body.contains(#""row":3"#) && errors.body.contains(#""column":"district""#) && errors.body.contains(#""next_cursor":null"#))
            // The same file again: the same job, 200; nothing more is added.
            let again = try await b.request(.POST, "/api/v1/imports/persons", bytes: (xlsx, data), bearer: token)
            #expect(again.status == .ok && again.headers.first(name: .location) == location)
            let list = try await b.request(.GET, "/api/v1/imports?limit=1", bearer: token)
            #expect(list.status == .ok && list.body.contains(#""next_cursor":null"#))
            // Bad requests: no body, an unknown kind, a read-only user, a file that is no table.
            let empty = try await b.request(.POST, "/api/v1/imports/persons", bytes: (xlsx, Data()), bearer: token)
            #expect(empty.status == .unprocessableEntity && empty.headers.contentType?.subType == "problem+json")
            #expect(try await b.request(.POST, "/api/v1/imports/horses", bytes: (xlsx, data), bearer: token).status == .notFound)
            let analyst = try await apiToken(app, "analyst")
            #expect(try await b.request(.POST, "/api/v1/imports/persons", bytes: (xlsx, data), bearer: analyst).status == .forbidden)
            let junk = try await b.request(.POST, "/api/v1/imports/persons", bytes: (xlsx, Data([0x50, 0x4B, 0x03, 0x04, 0, 0])), bearer: token)
            #expect(junk.status == .unprocessableEntity && junk.body.contains("file"))
            #expect(try await b.request(.GET, "/api/v1/imports?limit=x", bearer: token).status == .unprocessableEntity)
        }
    }
}
