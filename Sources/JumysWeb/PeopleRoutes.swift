import Foundation
import JumysDomain
import JumysStore
import Plot
import Vapor

/// The people list and person card: the first screen a caseworker opens.
/// Search words (an IIN or a name) travel in a POST body, never in a URL that could be cached or logged.
struct PeopleRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("people", use: list)
        routes.post("people", "search", use: search)
        routes.get("people", ":id", use: card)
    }

    struct SearchForm: Content { var q: String?; var cursor: String? }

    @Sendable func list(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let cursor = try? req.query.get(String.self, at: "after")
        let page = try await req.jumys.registry.search(nil, scope: user.scope, cursor: cursor, limit: 50)
        return HTMLResponse.make(PeopleView.render(PageContext(req), query: "", page: page))
    }

    @Sendable func search(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let form = try req.content.decode(SearchForm.self)
        let q = String((form.q ?? "").prefix(100))
        let page = try await req.jumys.registry.search(q, scope: user.scope, cursor: form.cursor, limit: 50)
        return HTMLResponse.make(PeopleView.render(PageContext(req), query: q, page: page))
    }

    @Sendable func card(req: Request) async throws -> Response {
        _ = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        return try await CaseworkViews.personCard(req, id: id)
    }
}

enum PeopleView {
    static func render(_ ctx: PageContext, query: String, page: Page<JumysStore.PersonView>) -> String {
        Layout.page(ctx, title: ctx.t("people.title"),
            .h1(.text(ctx.t("people.title"))),
            ExportRoutes.links(ctx, .persons, ExportFilter()),
            ctx.user?.doesCasework == true && ctx.user?.canWrite == true ? .p(.a(.class("button"), .href("/people/new"), .text(ctx.t("register.title")))) : .empty,
            .form(.method(.post), .action("/people/search"), .class("search"), .attribute(named: "role", value: "search"),
                .div(ctx.csrfField()),
                .div(.class("field"),
                    .label(.for("q"), .text(ctx.t("people.search.label"))),
                    .p(.class("hint"), .id("q-hint"), .text(ctx.t("people.search.hint"))),
                    .div(.class("search-row"),
                        .input(.type(.search), .id("q"), .name("q"), .value(attr(query)), .attribute(named: "aria-describedby", value: "q-hint"), .attribute(named: "autocomplete", value: "off")),
                        .button(.type(.submit), .class("button"), .text(ctx.t("people.search.button")))
                    )
                )
            ),
            page.items.isEmpty
                ? .p(.class("empty"), .text(ctx.t(query.isEmpty ? "people.none" : "people.not_found")))
                : .table(.class("data"),
                    .caption(.text(ctx.t("people.caption"))),
                    .thead(.tr(
                        .th(.attribute(named: "scope", value: "col"), .text(ctx.t("person.name"))),
                        .th(.attribute(named: "scope", value: "col"), .text(ctx.t("person.iin"))),
                        .th(.attribute(named: "scope", value: "col"), .text(ctx.t("person.birth_date"))),
                        .th(.attribute(named: "scope", value: "col"), .text(ctx.t("person.district")))
                    )),
                    .tbody(.forEach(page.items) { p in
                        .tr(
                            .td(.a(.href("/people/\(p.id)"), .text(p.fullName))),
                            .td(.class("mono"), .text(p.iin)),
                            .td(.text(p.birth_date)),
                            .td(.text(ScopeNames.localized(kk: p.district_name_kk, ru: p.district_name_ru, en: p.district_name_en, ctx.lang)))
                        )
                    })
                ),
            nextPage(ctx, query: query, cursor: page.nextCursor)
        )
    }

    static func nextPage(_ ctx: PageContext, query: String, cursor: String?) -> Node<HTML.BodyContext> {
        guard let cursor else { return .empty }
        if query.isEmpty {
            return .p(.class("pager"), .a(.class("button secondary"), .href("/people?after=\(cursor)"), .text(ctx.t("list.next"))))
        }
        return .form(.method(.post), .action("/people/search"), .class("pager"),
            .div(ctx.csrfField()),
            .input(.type(.hidden), .name("q"), .value(attr(query))),
            .input(.type(.hidden), .name("cursor"), .value(cursor)),
            .button(.type(.submit), .class("button secondary"), .text(ctx.t("list.next")))
        )
    }
}
