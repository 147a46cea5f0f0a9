import FluentKit
import Foundation
import JumysDomain
import JumysStore
import SQLKit
import Testing
import VaporTesting
@testable import JumysStore
@testable import JumysWeb

/// Bulk export: every row in the user's scope across more than one page, formulas neutralised in CSV, the XLSX
/// readable (by our own reader), scope kept, and no export where the role sees no such records.
@Suite struct ExportWebTests {
    @Test func exportsStreamEveryRowInScopeAndNeutraliseFormulas() async throws {
        try await withJumys(persons: 2_500) { app, store in
            struct I: Decodable { let id: Int }
            let one = try #require(try await store.sql.raw("SELECT id FROM persons ORDER BY id LIMIT 1").first(decoding: I.self))
            try await store.sql.raw("UPDATE persons SET last_name = '=HYPERLINK(\"http://x\")', first_name = '@SUM(1)' WHERE id = \(bind: one.id)").run()
            struct N: Decodable { let n: Int }
            let total = try #require(try await store.sql.raw("SELECT COUNT(*) AS n FROM persons").first(decoding: N.self)).n
            let admin = Browser(app)
            try await admin.signIn("admin")
            #expect(try await admin.request(.GET, "/exports").body.contains("/exports/persons.xlsx"))
            let csv = try await admin.request(.GET, "/exports/persons.csv")
            #expect(csv.status == .ok && csv.headers.first(name: .contentDisposition)?.contains("persons-") == true)
            let table = try TableFile.read(csv.bytes)
            #expect(table.header.first == "iin" && table.rows.count == total && total > ExportStore.pageSize)
            #expect(csv.body.contains("'=HYPERLINK") && csv.body.contains("'@SUM(1)") && !csv.body.contains(",=HYPERLINK"))
            let xlsx = try await admin.request(.GET, "/exports/persons.xlsx")
            #expect(xlsx.status == .ok)
            let sheet = try TableFile.read(xlsx.bytes)
            #expect(sheet.rows.count == total && sheet.header == ExportStore.header(.persons))
            #expect(sheet.rows.contains { $0.count > 1 && $0[1] == "=HYPERLINK(\"http://x\")" })
            // A caseworker gets the district's persons only; a contractor no persons at all.
            let cw = Browser(app)
            try await cw.signIn("caseworker.KZ-71")
            let user = try #require(try await Directory(store: store).credentials(login: "caseworker.KZ-71")?.user)
            let mine = try #require(try await store.sql.raw("SELECT COUNT(*) AS n FROM persons WHERE district_id = \(bind: user.districtID!)").first(decoding: N.self)).n
            #expect(try TableFile.read(try await cw.request(.GET, "/exports/persons.csv").bytes).rows.count == mine)
            let contractor = Browser(app)
            try await contractor.signIn("contractor.demo")
            #expect(try await contractor.request(.GET, "/exports/persons.csv").status == .forbidden)
            #expect(try await contractor.request(.GET, "/exports/projects.csv").status == .ok)
            for k in ExportKind.allCases { #expect(try await admin.request(.GET, "/exports/\(k.rawValue).csv").status == .ok) }
            // A list page's filters carry into its download (the projects page's region); a filter keeps only its rows.
            let projects = try await admin.request(.GET, "/projects?region=KZ-35")
            #expect(projects.body.contains("/exports/projects.csv?region=KZ-35") && projects.body.contains("/exports/projects.xlsx?region=KZ-35"))
            let filtered = try TableFile.read(try await admin.request(.GET, "/exports/persons.csv?region=KZ-15").bytes)
            let regionColumn = try #require(filtered.header.firstIndex(of: "region"))
            #expect(!filtered.rows.isEmpty && filtered.rows.allSatisfy { $0[regionColumn] == "KZ-15" } && total > filtered.rows.count)
            #expect(try await admin.request(.GET, "/exports/projects.csv?region=KZ-99").status == .unprocessableEntity)
            #expect(try await admin.request(.GET, "/people").body.contains("/exports/persons.csv"))
            // A lender's loans export holds its own loans only.
            let lender = Browser(app)
            try await lender.signIn("lender.demo")
            let lenderID = try #require(try await Directory(store: store).credentials(login: "lender.demo")?.user.organisationID)
            let own = try #require(try await store.sql.raw("SELECT COUNT(*) AS n FROM loans WHERE lender_id = \(bind: lenderID)").first(decoding: N.self)).n
            #expect(try TableFile.read(try await lender.request(.GET, "/exports/loans.csv").bytes).rows.count == own)
            #expect(try await admin.request(.GET, "/exports/horses.csv").status == .notFound)
            #expect(try await admin.request(.GET, "/exports/persons.pdf").status == .notFound)
        }
    }
}
