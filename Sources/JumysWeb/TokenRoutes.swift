import FluentKit
import Foundation
import JumysDomain
import JumysStore
import Plot
import Vapor

/// Tokens of outside systems (administrators only): issue one with a role, a territory and the API areas it may
/// call (the secret is shown once), see when each was last used, revoke it.
struct TokenRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let t = routes.grouped("admin", "tokens")
        t.get(use: list)
        t.post(use: issue)
        t.post(":id", "revoke", use: revoke)
    }

    static func requireAdmin(_ req: Request) throws -> UserContext {
        let u = try req.requireUser()
        guard u.role == .administrator else { throw Abort(.forbidden) }
        return u
    }

    @Sendable func list(req: Request) async throws -> Response {
        _ = try Self.requireAdmin(req)
        return try await page(req, values: [:], areas: [], errors: [], issued: nil, status: .ok)
    }

    func page(_ req: Request, values: [String: String], areas: Set<String>, errors: [(field: String, message: String)], issued: String?, status: HTTPResponseStatus) async throws -> Response {
        let ctx = PageContext(req)
        let tokens = try await req.jumys.directory.systemTokens()
        let users = Dictionary(uniqueKeysWithValues: try await UserRecord.query(on: req.jumys.store.db).filter(\.$login ~~ tokens.map { "sys." + $0.name }).all().map { ($0.id!, $0) })
        let regions = try await RegionRecord.query(on: req.jumys.store.db).sort(\.$id).all()
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let allAreas = req.jumys.openapi.tags.filter { $0 != "auth" }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("tokens.title"),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("tokens.title"))),
            .p(.class("lead"), .text(ctx.t("tokens.lead"))),
            issued.map { token in
                .div(.class("panel confirmation"), .h2(.text(ctx.t("tokens.issued"))), .p(.text(ctx.t("tokens.issued.once"))),
                     .p(.code(.class("mono"), .id("issued-token"), .text(token))))
            } ?? .empty,
            tokens.isEmpty ? .p(.text(ctx.t("tokens.none"))) : .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("tokens.name"))), .th(.text(ctx.t("home.role"))), .th(.text(ctx.t("person.region"))), .th(.text(ctx.t("tokens.areas"))),
                           .th(.text(ctx.t("tokens.issued_by"))), .th(.text(ctx.t("tokens.last_used"))), .th(.text(ctx.t("limits.state"))), .th(.span(.class("visually-hidden"), .text(ctx.t("table.action")))))),
                .tbody(.forEach(tokens) { t in
                    let u = users[t.user_id]
                    return .tr(.td(.class("mono"), .text(t.name)), .td(.text(u.map { ctx.t("role.\($0.role)") } ?? "—")), .td(.text(u?.regionISO ?? ctx.t("tokens.national"))),
                               .td(.text(t.areaList.map { ctx.t("tokens.area.\($0)") }.joined(separator: ", "))), .td(.text("\(t.created_by), \(t.created_at.prefix(10))")),
                               .td(.text(t.last_used_at.map { String($0.prefix(16)).replacingOccurrences(of: "T", with: " ") } ?? "—")),
                               .td(t.revoked_at == nil ? .span(.class("tag ok"), .text(ctx.t("tokens.active"))) : .span(.class("tag late"), .text(ctx.t("tokens.revoked") + " " + String(t.revoked_at!.prefix(10))))),
                               .td(t.revoked_at != nil ? .empty : .form(.method(.post), .action("/admin/tokens/\(t.id)/revoke"), .class("inline"), ctx.csrfField(),
                                   .button(.type(.submit), .class("button warning"), .text(ctx.t("tokens.revoke")), .attribute(named: "aria-label", value: ctx.t("tokens.revoke") + " " + t.name)))))
                })),
            .h2(.text(ctx.t("tokens.new"))),
            .form(.method(.post), .action("/admin/tokens"), .class("narrow"), ctx.csrfField(),
                k.text("name", ctx.t("tokens.name"), hint: ctx.t("tokens.name.hint")),
                k.select("role", ctx.t("home.role"), options: Directory.systemRoles.map { ($0.rawValue, ctx.t("role.\($0.rawValue)")) }, blank: false),
                .p(.class("hint"), .text(ctx.t("tokens.role.hint"))),
                k.select("region_iso", ctx.t("person.region"), options: [("", ctx.t("tokens.national"))] + regions.map { ($0.id!, ScopeNames.localized(kk: $0.nameKk, ru: $0.nameRu, en: $0.nameEn, ctx.lang)) }, blank: false),
                k.checkboxes("areas", ctx.t("tokens.areas"), options: allAreas.map { ($0, ctx.t("tokens.area.\($0)")) }, checked: areas),
                .button(.type(.submit), .class("button"), .text(ctx.t("tokens.issue"))))
        ), status: status)
    }

    @Sendable func issue(req: Request) async throws -> Response {
        let admin = try Self.requireAdmin(req)
        let f = try CaseworkRoutes.form(req)
        let areas = Set((f["areas"] ?? "").split(separator: ",").map(String.init))
        let values = ["name": f["name"] ?? "", "role": f["role"] ?? "", "region_iso": f["region_iso"] ?? ""]
        let ctx = PageContext(req)
        do {
            guard let role = Role(rawValue: f["role"] ?? ""), Directory.systemRoles.contains(role) else { throw FieldErrors(errors: [FieldError("role", "choose_from_list")]) }
            let region = (f["region_iso"] ?? "").isEmpty ? nil : f["region_iso"]
            let allowed = Set(req.jumys.openapi.tags.filter { $0 != "auth" })
            let (_, token) = try await req.jumys.directory.issueToken(name: f["name"] ?? "", role: role, regionISO: region, areas: Array(areas), allowedAreas: allowed, by: admin)
            return try await page(req, values: [:], areas: [], errors: [], issued: token, status: .ok)
        } catch let e as FieldErrors {
            return try await page(req, values: values, areas: areas, errors: ctx.messages(e), issued: nil, status: .unprocessableEntity)
        }
    }

    @Sendable func revoke(req: Request) async throws -> Response {
        let admin = try Self.requireAdmin(req)
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        do { try await req.jumys.directory.revokeToken(id, by: admin) } catch StoreError.notFound { throw Abort(.notFound) }
        return req.redirect(to: "/admin/tokens", redirectType: .normal)
    }
}
