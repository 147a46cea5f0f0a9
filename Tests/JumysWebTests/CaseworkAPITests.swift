import Foundation
import JumysDomain
import JumysStore
import Testing
import Vapor
@testable import JumysWeb

@Suite struct CaseworkAPITests {
    struct Problem: Decodable { struct F: Decodable { let field: String; let code: String; let message: String }; let status: Int; let errors: [F]? }
    struct App: Decodable { let id: Int; let state: String; let eligible: Bool; let allowed_actions: [String]; let contract_id: Int?; let decision_due: String }

    @Test func personsApplicationsTransitionsAndContractsOverTheAPI() async throws {
        try await withJumys(persons: 0) { app, _ in
            let b = Browser(app)
            b.acceptLanguage = "ru"
            let token = try await apiToken(app, "caseworker.KZ-71")
            let iin = freshIIN(900)
            let created = try await b.request(.POST, "/api/v1/persons", json: #"{"iin":"\#(iin.value)","last_name":"Ахметов","first_name":"Ерлан","categories":["unemployed"],"consent":true}"#, bearer: token)
            #expect(created.status == .created)
            struct P: Decodable { let id: Int; let birth_date: String; let region: String }
            let person = try JSONDecoder().decode(P.self, from: Data(created.body.utf8))
            #expect(person.birth_date == "1994-11-02" && person.region == "KZ-71")
            // Duplicate and bad IIN: 422 with the field, the code and a translated message.
            let dup = try await b.request(.POST, "/api/v1/persons", json: #"{"iin":"\#(iin.value)","last_name":"A","first_name":"B","consent":true}"#, bearer: token)
            #expect(dup.status == .unprocessableEntity)
            let problem = try JSONDecoder().decode(Problem.self, from: Data(dup.body.utf8))
            #expect(problem.errors?.first?.field == "iin" && problem.errors?.first?.code == "iin_duplicate")
            #expect(problem.errors?.first?.message.contains("уже зарегистрирован") == true)
            let app1 = try await b.request(.POST, "/api/v1/applications", json: #"{"person_id":\#(person.id),"measure":"social_job"}"#, bearer: token)
            #expect(app1.status == .created)
            let a = try JSONDecoder().decode(App.self, from: Data(app1.body.utf8))
            #expect(a.state == "submitted" && a.eligible && a.allowed_actions == ["start_review"])
            let wrong = try await b.request(.POST, "/api/v1/applications/\(a.id)/transitions", json: #"{"action":"complete"}"#, bearer: token)
            #expect(wrong.status == .unprocessableEntity)
            #expect(try JSONDecoder().decode(Problem.self, from: Data(wrong.body.utf8)).errors?.first?.code == "transition_not_allowed")
            for action in ["start_review", "include"] {
                #expect(try await b.request(.POST, "/api/v1/applications/\(a.id)/transitions", json: #"{"action":"\#(action)"}"#, bearer: token).status == .ok)
            }
            let signed = try await b.request(.POST, "/api/v1/applications/\(a.id)/transitions", json: #"{"action":"sign_contract","contract":{"starts_on":"\#(Days.from(2))","ends_on":"\#(Days.months(12))"}}"#, bearer: token)
            #expect(signed.status == .ok)
            let s = try JSONDecoder().decode(App.self, from: Data(signed.body.utf8))
            #expect(s.state == "contract_signed" && s.contract_id != nil)
            let contract = try await b.request(.GET, "/api/v1/contracts/\(s.contract_id!)", bearer: token)
            #expect(contract.body.contains(#""number":"SC-KZ-71-"#))
            let list = try await b.request(.GET, "/api/v1/applications?state=contract_signed", bearer: token)
            #expect(list.body.contains(#""id":\#(a.id)"#))
            // Another district: 404 for the application and the contract; the analyst may read but not write.
            let other = try await apiToken(app, "caseworker.KZ-75")
            #expect(try await b.request(.GET, "/api/v1/applications/\(a.id)", bearer: other).status == .notFound)
            #expect(try await b.request(.GET, "/api/v1/contracts/\(s.contract_id!)", bearer: other).status == .notFound)
            #expect(try await b.request(.POST, "/api/v1/applications/\(a.id)/transitions", json: #"{"action":"activate"}"#, bearer: other).status == .notFound)
            let analyst = try await apiToken(app, "analyst")
            #expect(try await b.request(.GET, "/api/v1/applications/\(a.id)", bearer: analyst).status == .ok)
            #expect(try await b.request(.POST, "/api/v1/applications/\(a.id)/transitions", json: #"{"action":"activate"}"#, bearer: analyst).status == .forbidden)
        }
    }
}
