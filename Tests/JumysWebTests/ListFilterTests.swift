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
        }
    }
}
