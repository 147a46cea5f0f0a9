import FluentKit
import Foundation
import JumysDomain
import JumysStore
import Plot
import Vapor

/// User administration (administrators only): without it a system started without `--demo` has no way in
/// except the `jumys user add` command.
struct AdminRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped("admin", "users")
        admin.get(use: list)
        admin.get("new", use: newForm)
        admin.post(use: create)
    }

    static let minimumPasswordLength = 10
    static let maximumPasswordBytes = 72

    struct UserForm: Content {
        var login: String?; var display_name: String?; var role: String?; var region_iso: String?
        var district_id: String?; var organisation_id: String?; var password: String?
    }

    private func requireAdmin(_ req: Request) throws -> UserContext {
        let u = try req.requireUser()
        guard u.role == .administrator else { throw Abort(.forbidden) }
        return u
    }

    @Sendable func list(req: Request) async throws -> Response {
        _ = try requireAdmin(req)
        let users = try await UserRecord.query(on: req.jumys.store.db).sort(\.$login).all()
        let ctx = PageContext(req)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("admin.users.title"),
            .h1(.text(ctx.t("admin.users.title"))),
            .p(.a(.class("button"), .href("/admin/users/new"), .text(ctx.t("admin.users.add")))),
            .table(.class("data"),
                .caption(.text(ctx.t("admin.users.caption"))),
                .thead(.tr(.th(.text(ctx.t("admin.users.login"))), .th(.text(ctx.t("admin.users.name"))), .th(.text(ctx.t("home.role"))), .th(.text(ctx.t("person.region"))))),
                .tbody(.forEach(users) { u in
                    .tr(.td(.class("mono"), .text(u.login)), .td(.text(u.displayName)), .td(.text(ctx.t("role.\(u.role)"))), .td(.text(u.regionISO ?? "—")))
                })
            )
        ))
    }

    @Sendable func newForm(req: Request) async throws -> Response {
        _ = try requireAdmin(req)
        return try await form(req, values: UserForm(), errors: [], status: .ok)
    }

    private func form(_ req: Request, values: UserForm, errors: [(field: String, message: String)], status: HTTPResponseStatus) async throws -> Response {
        let ctx = PageContext(req)
        let db = req.jumys.store.db
        let regions = try await RegionRecord.query(on: db).sort(\.$id).all()
        let districts = try await DistrictRecord.query(on: db).sort(\.$regionISO).sort(\.$id).all()
        let orgs = try await OrganisationRecord.query(on: db).sort(\.$code).all()
        func err<C: HTML.BodyContext>(_ f: String) -> Node<C> {
            guard let e = errors.first(where: { $0.field == f }) else { return .empty }
            return .p(.class("field-error"), .text(e.message))
        }
        func field<C: HTML.BodyContext>(_ name: String, _ label: String, _ control: Node<C>, hint: String? = nil) -> Node<C> {
            .div(.class(errors.contains { $0.field == name } ? "field has-error" : "field"),
                 .label(.for(name), .text(label)),
                 hint.map { .p(.class("hint"), .text($0)) } ?? .empty,
                 err(name), control)
        }
        func option(_ value: String, _ text: String, selected: String?) -> Node<HTML.SelectContext> {
            .element(named: "option", nodes: [.attribute(named: "value", value: value, ignoreIfValueIsEmpty: false), value == selected ? .attribute(named: "selected") : .empty, .text(text)])
        }
        let html = Layout.page(ctx, title: ctx.t("admin.users.add"),
            .div(.class("narrow"),
                Layout.errorSummary(ctx, errors),
                .h1(.text(ctx.t("admin.users.add"))),
                .form(.method(.post), .action("/admin/users"),
                    .div(ctx.csrfField()),
                    .div(
                        field("login", ctx.t("admin.users.login"), .input(.type(.text), .id("login"), .name("login"), .value(attr(values.login ?? "")), .attribute(named: "autocomplete", value: "off")), hint: ctx.t("admin.users.login.hint")),
                        field("display_name", ctx.t("admin.users.name"), .input(.type(.text), .id("display_name"), .name("display_name"), .value(attr(values.display_name ?? "")))),
                        field("role", ctx.t("home.role"), .select(.id("role"), .attribute(named: "name", value: "role"),
                            .forEach(Role.allCases) { r in option(r.rawValue, ctx.t("role.\(r.rawValue)"), selected: values.role) })),
                        field("region_iso", ctx.t("person.region"), .select(.id("region_iso"), .attribute(named: "name", value: "region_iso"),
                            option("", "—", selected: values.region_iso),
                            .forEach(regions) { r in option(r.id!, ScopeNames.localized(kk: r.nameKk, ru: r.nameRu, en: r.nameEn, ctx.lang), selected: values.region_iso) })),
                        field("district_id", ctx.t("person.district"), .select(.id("district_id"), .attribute(named: "name", value: "district_id"),
                            option("", "—", selected: values.district_id),
                            .forEach(districts) { d in option(String(d.id!), d.regionISO + " · " + ScopeNames.localized(kk: d.nameKk, ru: d.nameRu, en: d.nameEn, ctx.lang), selected: values.district_id) })),
                        field("organisation_id", ctx.t("admin.users.organisation"), .select(.id("organisation_id"), .attribute(named: "name", value: "organisation_id"),
                            option("", "—", selected: values.organisation_id),
                            .forEach(orgs) { o in option(String(o.id!), ScopeNames.localized(kk: o.nameKk, ru: o.nameRu, en: o.nameEn, ctx.lang), selected: values.organisation_id) })),
                        field("password", ctx.t("signin.password"), .input(.type(.password), .id("password"), .name("password"), .attribute(named: "autocomplete", value: "new-password")),
                              hint: ctx.t("admin.users.password.hint", ["n": String(Self.minimumPasswordLength)]))
                    ),
                    .button(.type(.submit), .class("button"), .text(ctx.t("admin.users.create")))
                )
            )
        )
        return HTMLResponse.make(html, status: status)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let admin = try requireAdmin(req)
        let f = try req.content.decode(UserForm.self)
        var errors: [(field: String, message: String)] = []
        let login = (f.login ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        if login.wholeMatch(of: /[a-z0-9][a-z0-9._-]{1,62}/) == nil { errors.append(("login", req.t("admin.users.error.login"))) }
        let name = (f.display_name ?? "").trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 200 { errors.append(("display_name", req.t("admin.users.error.name"))) }
        let role = f.role.flatMap(Role.init(rawValue:))
        if role == nil { errors.append(("role", req.t("admin.users.error.role"))) }
        let region = f.region_iso.flatMap { $0.isEmpty ? nil : $0 }
        let district = f.district_id.flatMap { $0.isEmpty ? nil : $0 }.map { Int($0) ?? -1 }
        let org = f.organisation_id.flatMap { $0.isEmpty ? nil : $0 }.map { Int($0) ?? -1 }
        let db = req.jumys.store.db
        if let region, try await RegionRecord.find(region, on: db) == nil { errors.append(("region_iso", req.t("admin.users.error.region"))) }
        var districtRecord: DistrictRecord? = nil
        if let district {
            districtRecord = try await DistrictRecord.find(district, on: db)
            if districtRecord == nil || (region != nil && districtRecord?.regionISO != region) { errors.append(("district_id", req.t("admin.users.error.district"))) }
        }
        if let org, try await OrganisationRecord.find(org, on: db) == nil { errors.append(("organisation_id", req.t("admin.users.error.organisation"))) }
        switch role {
        case .caseworker where district == nil: errors.append(("district_id", req.t("admin.users.error.needs_district")))
        case .regionalCoordinator where region == nil, .akimatOfficer where region == nil && district == nil:
            errors.append(("region_iso", req.t("admin.users.error.needs_region")))
        case .contractor where org == nil, .lender where org == nil:
            errors.append(("organisation_id", req.t("admin.users.error.needs_organisation")))
        default: break
        }
        let password = f.password ?? ""
        if password.count < Self.minimumPasswordLength { errors.append(("password", req.t("admin.users.error.password", ["n": String(Self.minimumPasswordLength)]))) }
        // bcrypt reads the first 72 bytes only: a longer password would be cut without a word.
        else if password.utf8.count > Self.maximumPasswordBytes { errors.append(("password", req.t("admin.users.error.password_long", ["n": String(Self.maximumPasswordBytes)]))) }
        if try await UserRecord.query(on: db).filter(\.$login == login).count() > 0 { errors.append(("login", req.t("admin.users.error.login_taken"))) }
        guard errors.isEmpty, let role else {
            var keep = f; keep.password = nil
            return try await form(req, values: keep, errors: errors, status: .unprocessableEntity)
        }
        let hash = try await req.password.async.hash(password)
        try await req.jumys.directory.ensureUser(NewUser(login: login, passwordHash: hash, role: role, displayName: name,
            regionISO: region ?? districtRecord?.regionISO, districtID: district, organisationID: org), by: admin.actor)
        return req.redirect(to: "/admin/users", redirectType: .normal)
    }
}
