import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import SQLKit
import Testing
import ZIPFoundation
import Vapor
@testable import JumysWeb

@Suite struct LabourWebTests {
    /// Match candidates to a vacancy, refer two, record one hire, pay the next month's subsidy, download the list.
    @Test func matchReferHirePayAndDownload() async throws {
        try await withJumys(persons: 0) { app, store in
            let b = Browser(app)
            b.acceptLanguage = "ru"
            _ = try await b.signIn("caseworker.KZ-71")
            var people: [String] = []
            for (i, isco) in ["7112", "7115"].enumerated() {
                try await b.request(.GET, "/people/new")
                let r = try await b.post("/people", ["iin": freshIIN(1000 + i * 50).value, "last_name": "Нұрланов", "first_name": "Бекзат\(i)", "occupation_isco": isco, "categories[]": "job_seeker", "consent": "true"])
                people.append(try #require(r.headers.first(name: .location)))
            }
            try await b.request(.GET, "/vacancies/new")
            let employer = try #require(try await OrganisationRecord.query(on: store.db).filter(\.$code == "contractor.demo").first()?.id)
            let created = try await b.post("/vacancies", ["employer_id": String(employer), "title": "Каменщик", "isco": "7112", "wage": "150000", "places": "2", "valid_from": Days.from(-20), "valid_until": Days.from(40)])
            #expect(created.status == .seeOther)
            let vacancyURL = try #require(created.headers.first(name: .location))
            let page = try await b.request(.GET, vacancyURL)
            #expect(page.body.contains("Код ISCO совпадает полностью"))
            #expect(page.body.contains("Совпадают 3 знака ISCO"))
            var referralURLs: [String] = []
            for person in people {
                try await b.request(.GET, vacancyURL)
                let id = String(person.split(separator: "/").last!)
                let r = try await b.post("\(vacancyURL)/refer", ["person_id": id])
                #expect(r.status == .seeOther)
                referralURLs.append(try #require(r.headers.first(name: .location)))
            }
            let printed = try await b.request(.GET, "\(referralURLs[0])/print/kk")
            #expect(printed.body.contains("Жолдама") && printed.body.contains("R-KZ-71-\(Days.thisYear)-"))
            try await b.request(.GET, referralURLs[0])
            let hire = try await b.post("\(referralURLs[0])/outcome", ["outcome": "hired", "position": "Каменщик", "starts_on": Days.from(0), "wage": "150000", "subsidised": "social_job"])
            #expect(hire.status == .seeOther)
            try await b.request(.GET, referralURLs[1])
            #expect(try await b.post("\(referralURLs[1])/outcome", ["outcome": "no_show"]).status == .seeOther)
            // The next month's payroll (month 2 of the placement): 50 % of 150,000 capped at 26,000.
            let admin = Browser(app)
            _ = try await admin.signIn("admin")
            try await admin.request(.GET, "/payroll?month=\(Days.nextMonth)")
            try await allocate(store, year: CivilDate(iso: Days.nextMonth + "-01")!.year, .programmeTraining)
            let run = try await admin.post("/payroll/run", ["month": Days.nextMonth])
            #expect(run.status == .seeOther)
            // The run goes on in the background; its page ends on what was paid.
            let done = try await admin.finished(run)
            #expect(done.body.contains("confirmation") && done.body.contains("/payroll?month=\(Days.nextMonth)"))
            let payroll = try await b.request(.GET, "/payroll?month=\(Days.nextMonth)")
            #expect(payroll.body.contains("26 000,00") || payroll.body.contains("26\u{202F}000,00"))
            #expect(payroll.body.contains("social_job_band1_cap"))
            let xlsx = try await b.request(.GET, "/payroll/\(Days.nextMonth)/payments.xlsx")
            #expect(xlsx.status == .ok)
            #expect(xlsx.headers.contentType?.description.contains("spreadsheetml") == true)
            // Kept for scripts/xlsx_check.sh, which opens it with LibreOffice.
            let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("artifacts")
            try? FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
            #expect(xlsx.bytes.prefix(2) == Data([0x50, 0x4B]))
            try? xlsx.bytes.write(to: artifacts.appendingPathComponent("payments-sample.xlsx"))
            let csv = try await b.request(.GET, "/payroll/\(Days.nextMonth)/payments.csv")
            #expect(csv.body.contains("26000.00") && csv.body.contains("Нұрланов"))
            // Another district's caseworker sees no line.
            let other = Browser(app)
            _ = try await other.signIn("caseworker.KZ-75")
            #expect(!(try await other.request(.GET, "/payroll/\(Days.nextMonth)/payments.csv").body.contains("Нұрланов")))
        }
    }

    @Test func theXLSXIsAWellFormedWorkbook() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("t-\(UUID().uuidString).xlsx")
        defer { try? FileManager.default.removeItem(at: url) }
        let w = try XLSXWriter(url: url)
        try w.beginSheet("Выплаты", columnWidths: [10, 20])
        w.header(["A", "B <&>"])
        w.row([.text("<script>alert(1)</script>"), .amount("26000.00"), .date(CivilDate(iso: "2021-05-11")!)])
        try w.finish()
        let data = try Data(contentsOf: url)
        #expect(data.prefix(2) == Data([0x50, 0x4B])) // a ZIP file
        #expect(data.count > 500)
        // A date is a day number (11 May 2021 is 44327 in spreadsheets) with the dd.mm.yyyy style.
        let archive = try Archive(url: url, accessMode: .read)
        var sheet = Data(), styles = Data()
        _ = try archive.extract(try #require(archive["xl/worksheets/sheet1.xml"])) { sheet.append($0) }
        _ = try archive.extract(try #require(archive["xl/styles.xml"])) { styles.append($0) }
        #expect(String(decoding: sheet, as: UTF8.self).contains("<c r=\"C2\" s=\"6\"><v>44327</v></c>"))
        #expect(String(decoding: styles, as: UTF8.self).contains("formatCode=\"dd.mm.yyyy\""))
    }
}
