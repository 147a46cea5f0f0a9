import JumysDomain
import JumysStore
import Plot
import Vapor

/// What every page needs to draw its frame: language, user, CSRF token, current path.
struct PageContext {
    let lang: Lang
    let translator: Translator
    let user: UserContext?
    let csrf: String
    let path: String
    let requestID: String

    init(_ req: Request) {
        lang = req.lang
        translator = req.jumys.translator
        user = req.user
        csrf = req.state.csrf ?? ""
        path = req.url.path
        requestID = req.state.requestID
    }

    func t(_ key: String, _ args: [String: String] = [:]) -> String { translator.t(key, lang, args) }

    /// A hidden CSRF field for every form.
    func csrfField<C: HTML.BodyContext>() -> Node<C> {
        .input(.type(.hidden), .name("_csrf"), .value(csrf))
    }
}

/// Plot escapes text but not attribute values: every value that came from a person goes through this.
func attr(_ s: String) -> String { escapeHTML(s, quotes: true) }

extension Node {
    /// Text escaped for HTML. This shadows Plot's `.text` in this module: Plot's builds a new string for every
    /// character (a sixth of the worklist page's time at national scale). Here text without `<`, `>` or `&` (nearly
    /// all of it) goes out as it is, the rest is escaped in one pass. Unlike Plot's, every `&` is escaped, so a
    /// person who types "&amp;" sees it as typed.
    static func text(_ text: String) -> Node { .raw(escapeHTML(text, quotes: false)) }
}

/// `&`, `<` and `>` (and `"` for attribute values) as entities; a string without them is returned as it is.
func escapeHTML(_ s: String, quotes: Bool) -> String {
    let special: (UInt8) -> Bool = { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || (quotes && $0 == UInt8(ascii: "\"")) }
    guard s.utf8.contains(where: special) else { return s }
    var out = ""
    out.reserveCapacity(s.utf8.count + 32)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"" where quotes: out += "&quot;"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

enum Layout {
    /// The page frame: header with language switch and user, main content, footer.
    static func page(_ ctx: PageContext, title: String, _ body: Node<HTML.BodyContext>...) -> String {
        let html = HTML(
            .attribute(named: "lang", value: ctx.lang.rawValue),
            .head(
                .meta(.charset(.utf8)),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .title("\(title) — Jumys"),
                .link(.rel(.stylesheet), .href("/static/app.css")),
                .script(.src("/static/tables.js"), .attribute(named: "defer", value: "defer"))
            ),
            .body(
                .a(.class("skip-link"), .href("#main"), .text(ctx.t("layout.skip"))),
                .header(.class("site-header"),
                    .div(.class("container header-row"),
                        .a(.class("brand"), .href("/"), .text("Jumys")),
                        .span(.class("tagline"), .text(ctx.t("layout.tagline"))),
                        languageSwitch(ctx),
                        userBox(ctx)
                    )
                ),
                .main(.id("main"), .class("container"), .group(body)),
                .footer(.class("site-footer"),
                    .div(.class("container"), .text(ctx.t("layout.footer")), .text(" "), .a(.href("/portal"), .text(ctx.t("portal.title"))))
                )
            )
        )
        return html.render()
    }

    static func languageSwitch(_ ctx: PageContext) -> Node<HTML.BodyContext> {
        .nav(.class("lang-switch"), .attribute(named: "aria-label", value: ctx.t("layout.language")),
            .ul(.forEach(Lang.allCases) { l in
                .li(l == ctx.lang
                    ? .span(.class("current"), .attribute(named: "lang", value: l.rawValue), .attribute(named: "aria-current", value: "true"), .text(l.nativeName))
                    : .a(.href("/lang/\(l.rawValue)?back=\(ctx.path.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "/")"),
                         .attribute(named: "lang", value: l.rawValue), .text(l.nativeName)))
            })
        )
    }

    static func userBox(_ ctx: PageContext) -> Node<HTML.BodyContext> {
        guard let u = ctx.user else { return .empty }
        return .div(.class("user-box"),
            .span(.text(u.displayName), .text(" · "), .text(ctx.t("role.\(u.role.rawValue)"))),
            .form(.method(.post), .action("/signout"), .class("inline"),
                .input(.type(.hidden), .name("_csrf"), .value(ctx.csrf)),
                .button(.type(.submit), .class("link-button"), .text(ctx.t("signout.button")))
            )
        )
    }

    /// A summary of errors at the top of a form, each linking to its field (GOV.UK pattern).
    static func errorSummary(_ ctx: PageContext, _ errors: [(field: String, message: String)]) -> Node<HTML.BodyContext> {
        guard !errors.isEmpty else { return .empty }
        return .div(.class("error-summary"), .attribute(named: "role", value: "alert"), .attribute(named: "tabindex", value: "-1"),
            .h2(.text(ctx.t("form.error_summary"))),
            .ul(.forEach(errors) { e in .li(.a(.href("#\(e.field)"), .text(e.message))) })
        )
    }
}

/// Error pages and problem+json bodies.
enum ErrorResponder {
    static func response(_ req: Request, status: HTTPResponseStatus, reason: String?, fieldErrors: FieldErrors? = nil) throws -> Response {
        let key: String
        switch status.code {
        case 401: key = "error.401"
        case 400 where reason == InputMiddleware.reason: key = "error.encoding"
        case 403: key = reason == "csrf" ? "error.csrf" : (reason == "read-only" ? "error.readonly" : "error.403")
        case 404: key = "error.404"
        case 409: key = "error.409"
        case 413: key = "error.413"
        case 422: key = "error.422"
        case 429: key = "error.429"
        case 400..<500: key = "error.400"
        default: key = "error.500"
        }
        let title = req.t(key)
        if req.isAPI {
            struct FieldProblem: Content { let field: String; let code: String; let message: String }
            struct Problem: Content { let type: String; let title: String; let status: Int; let detail: String?; let request_id: String; let errors: [FieldProblem]? }
            let detail = status.code < 500 && reason != "csrf" && reason != "read-only" && fieldErrors == nil ? reason : nil
            let ctx = PageContext(req)
            let fields = fieldErrors.map { fe in zip(fe.errors, ctx.messages(fe)).map { FieldProblem(field: $0.0.field, code: $0.0.code, message: $0.1.message) } }
            let body = Problem(type: "about:blank", title: title, status: Int(status.code), detail: detail, request_id: req.state.requestID, errors: fields)
            let res = Response(status: status)
            try res.content.encode(body)
            res.headers.contentType = HTTPMediaType(type: "application", subType: "problem+json", parameters: ["charset": "utf-8"])
            return res
        }
        let ctx = PageContext(req)
        let html = Layout.page(ctx, title: title,
            .h1(.text(title)),
            .p(.text(req.t("\(key).next"))),
            .p(.class("muted"), .text(req.t("error.request_id", ["id": ctx.requestID])))
        )
        return HTMLResponse.make(html, status: status)
    }
}

enum HTMLResponse {
    static func make(_ html: String, status: HTTPResponseStatus = .ok) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .html
        return Response(status: status, headers: headers, body: .init(string: html))
    }
}
