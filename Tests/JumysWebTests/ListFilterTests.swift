import Foundation
import JumysDomain
import JumysStore
import Testing
import VaporTesting
@testable import JumysWeb

/// The API's lists filter by place and dates; a filter that does not read is refused (422), never ignored.
@Suite struct ListFilterTests {
    @Test func listsFilterByRegionDistrictAndDates() async throws {
        try await withJumys(persons: 60) { app, store in
            let token = try await apiToken(app, "admin")
            let b = Browser(app)
            struct Page: Decodable { struct P: Decodable { let region: String; let district: D }; struct D: Decodable { let id: Int }; let items: [P] }
            let kz15 = try JSONDecoder().decode(Page.self, from: try await b.request(.GET, "/api/v1/persons?region=KZ-15&limit=200", bearer: token).bytes)
            let all = try JSONDecoder().decode(Page.self, from: try await b.request(.GET, "/api/v1/persons?limit=200", bearer: token).bytes)
            #expect(!kz15.items.isEmpty && kz15.items.allSatisfy { $0.region == "KZ-15" } && all.items.count > kz15.items.count)
            let district = try #require(kz15.items.first?.district.id)
            let one = try JSONDecoder().decode(Page.self, from: try await b.request(.GET, "/api/v1/persons?district_id=\(district)&limit=200", bearer: token).bytes)
            #expect(!one.items.isEmpty && one.items.allSatisfy { $0.district.id == district })
            for bad in ["/api/v1/persons?region=KZ-99", "/api/v1/persons?district_id=x", "/api/v1/persons?limit=0",
                        "/api/v1/applications?submitted_from=2021-02-30", "/api/v1/applications?region=nowhere"] {
                let r = try await b.request(.GET, bad, bearer: token)
                #expect(r.status == .unprocessableEntity && r.headers.contentType?.subType == "problem+json", "\(bad)")
            }
            struct Apps: Decodable { struct A: Decodable { let submitted_on: String }; let items: [A] }
            let future = try JSONDecoder().decode(Apps.self, from: try await b.request(.GET, "/api/v1/applications?submitted_from=2100-01-01", bearer: token).bytes)
            #expect(future.items.isEmpty)
            let past = try JSONDecoder().decode(Apps.self, from: try await b.request(.GET, "/api/v1/applications?submitted_to=2100-01-01&limit=200", bearer: token).bytes)
            let unfiltered = try JSONDecoder().decode(Apps.self, from: try await b.request(.GET, "/api/v1/applications?limit=200", bearer: token).bytes)
            #expect(past.items.count == unfiltered.items.count)
            // Loans by the day of their contract; the course catalogue and a person's applications page by cursor.
            struct Loans: Decodable { let items: [L]; struct L: Decodable { let id: Int } }
            #expect(try JSONDecoder().decode(Loans.self, from: try await b.request(.GET, "/api/v1/loans?contract_from=2100-01-01", bearer: token).bytes).items.isEmpty)
            #expect(try await b.request(.GET, "/api/v1/loans?contract_to=31.12.2021", bearer: token).status == .unprocessableEntity)
            try await PortalStore(store: store).loadDemoCourses()
            struct Courses: Decodable { struct C: Decodable { let id: Int }; let items: [C]; let next_cursor: String? }
            var seen: [Int] = [], cursor: String? = nil
            repeat {
                let page = try JSONDecoder().decode(Courses.self, from: try await b.request(.GET, "/api/v1/courses?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), bearer: token).bytes)
                #expect(page.items.count <= 1)
                seen += page.items.map(\.id); cursor = page.next_cursor
            } while cursor != nil && seen.count < 100
            #expect(seen.count > 1 && seen == seen.sorted() && Set(seen).count == seen.count)
        }
    }
}

/// Inputs the rules cannot answer (a date before they were in force) are the caller's to correct: 422, not 500.
@Suite struct RulesOutOfForceTests {
    @Test func aPayrollMonthBeforeTheProgrammeIs422() async throws {
        try await withJumys(persons: 0) { app, _ in
            let token = try await apiToken(app, "admin")
            let r = try await Browser(app).request(.POST, "/api/v1/payroll/2007-02/run", bearer: token)
            #expect(r.status == .unprocessableEntity && r.headers.contentType?.subType == "problem+json" && r.body.contains("2007-02"))
        }
    }
}
