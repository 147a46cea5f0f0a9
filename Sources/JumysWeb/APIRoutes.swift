import Foundation
import JumysDomain
import JumysStore
import Vapor

/// The JSON API, version 1 (bearer tokens from /api/v1/auth/token).
struct APIRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let v1 = routes.grouped("api", "v1")
        v1.post("auth", "token", use: token)
        v1.get("persons", use: persons)
        v1.get("persons", ":id", use: person)
    }

    struct TokenRequest: Content { let login: String; let password: String }
    struct TokenResponse: Content { let token: String; let token_type: String; let expires_at: String; let role: String }

    @Sendable func token(req: Request) async throws -> TokenResponse {
        let body: TokenRequest
        do { body = try req.content.decode(TokenRequest.self) } catch { throw Abort(.unprocessableEntity, reason: "expected {\"login\", \"password\"}") }
        switch try await Authenticator.check(req, login: body.login.lowercased(), password: body.password) {
        case .locked: throw Abort(.tooManyRequests, reason: "too many failed attempts; try again later")
        case .wrong: throw Abort(.unauthorized, reason: "wrong login or password")
        case .ok(let user):
            let s = try await req.jumys.directory.startSession(for: user, kind: "api", lifetime: req.jumys.config.apiTokenLifetime)
            return TokenResponse(token: s.token, token_type: "Bearer", expires_at: ISO8601DateFormatter().string(from: s.expiresAt), role: user.role.rawValue)
        }
    }

    /// A person in API form: region as ISO code, district with its code and names.
    struct PersonJSON: Content {
        struct District: Content { let id: Int; let kato: String; let name_kk: String; let name_ru: String; let name_en: String }
        let id: Int; let iin: String; let last_name: String; let first_name: String; let middle_name: String?
        let birth_date: String; let sex: String; let region: String; let district: District
        let settlement: String?; let is_rural: Bool; let phone: String?; let email: String?

        init(_ p: JumysStore.PersonView) {
            id = p.id; iin = p.iin; last_name = p.last_name; first_name = p.first_name; middle_name = p.middle_name
            birth_date = p.birth_date; sex = p.sex; region = p.region_iso
            district = District(id: p.district_id, kato: p.district_kato, name_kk: p.district_name_kk, name_ru: p.district_name_ru, name_en: p.district_name_en)
            settlement = p.settlement; is_rural = p.is_rural; phone = p.phone; email = p.email
        }
    }

    /// A page of a list; `next_cursor` is always present (null on the last page).
    struct ListJSON<T: Content>: Content {
        let items: [T]; let next_cursor: String?
        enum CodingKeys: String, CodingKey { case items, next_cursor }
        init(items: [T], next_cursor: String?) { self.items = items; self.next_cursor = next_cursor }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(items, forKey: .items)
            try c.encode(next_cursor, forKey: .next_cursor)
        }
    }

    @Sendable func persons(req: Request) async throws -> ListJSON<PersonJSON> {
        let user = try req.requireUser()
        let q = try? req.query.get(String.self, at: "q")
        let cursor = try? req.query.get(String.self, at: "cursor")
        let limit = try LabourAPIRoutes.limit(req, max: Registry.maxPageSize)
        let filter = try ListFilter(req)
        do {
            let page = try await req.jumys.registry.search(q, scope: user.scope, cursor: cursor, limit: limit, region: filter.region, district: filter.district)
            return ListJSON(items: page.items.map(PersonJSON.init), next_cursor: page.nextCursor)
        } catch let e as StoreError {
            throw Abort(.unprocessableEntity, reason: e.description)
        }
    }

    @Sendable func person(req: Request) async throws -> PersonJSON {
        let user = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self),
              let p = try await req.jumys.registry.person(id: id, scope: user.scope) else { throw Abort(.notFound) }
        return PersonJSON(p)
    }
}

/// Versions on the API's records: `ETag: "N"` on reading, `If-Match` on changing. A change whose `If-Match` names
/// another version than the stored one is refused with 409 before anything is done.
enum Versions {
    static func etag(_ version: Int) -> String { "\"\(version)\"" }

    static func tag(_ res: Response, _ version: Int) -> Response {
        res.headers.replaceOrAdd(name: .eTag, value: etag(version))
        return res
    }

    static func check(_ req: Request, current version: Int) throws {
        guard let header = req.headers.first(name: .ifMatch) else { return }
        let wanted = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { $0.hasPrefix("W/") ? String($0.dropFirst(2)) : $0 }
        guard wanted.contains("*") || wanted.contains(etag(version)) else {
            throw Abort(.conflict, reason: "If-Match: the record is at version \(version) now; read it again")
        }
    }
}

/// The place and date filters of the API's lists: `region` (ISO code), `district_id`, and a range of days; a value
/// that does not read is refused with 422 naming it, never ignored.
struct ListFilter {
    var region: String?, district: Int?, from: CivilDate?, to: CivilDate?

    init(_ req: Request, from fromName: String? = nil, to toName: String? = nil) throws {
        if let r = try? req.query.get(String.self, at: "region") {
            guard let code = RegionCode(r), code.isKnown else { throw Abort(.unprocessableEntity, reason: "region: not a region's ISO code") }
            region = code.iso
        }
        if let d = try? req.query.get(String.self, at: "district_id") {
            guard let n = Int(d) else { throw Abort(.unprocessableEntity, reason: "district_id: not a number") }
            district = n
        }
        func day(_ name: String?) throws -> CivilDate? {
            guard let name, let t = try? req.query.get(String.self, at: name) else { return nil }
            guard let d = CivilDate(iso: t) else { throw Abort(.unprocessableEntity, reason: "\(name): not a date YYYY-MM-DD") }
            return d
        }
        from = try day(fromName); to = try day(toName)
    }
}

