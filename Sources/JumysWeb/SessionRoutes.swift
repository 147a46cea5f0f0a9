import Foundation
import JumysStore
import Plot
import Vapor

/// Sign-in, sign-out and the language switch.
struct SessionRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("signin", use: signInPage)
        routes.post("signin", use: signIn)
        routes.post("signout", use: signOut)
        routes.get("lang", ":code", use: switchLanguage)
    }

    struct SignInForm: Content { var login: String?; var password: String? }

    @Sendable func signInPage(req: Request) async throws -> Response {
        if req.user != nil { return req.redirect(to: "/") }
        return HTMLResponse.make(SignInView.render(PageContext(req), login: "", errors: []))
    }

    @Sendable func signIn(req: Request) async throws -> Response {
        let form = try req.content.decode(SignInForm.self)
        let login = (form.login ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let password = form.password ?? ""
        var errors: [(String, String)] = []
        if login.isEmpty { errors.append(("login", req.t("signin.error.login_missing"))) }
        if password.isEmpty { errors.append(("password", req.t("signin.error.password_missing"))) }
        guard errors.isEmpty else {
            return HTMLResponse.make(SignInView.render(PageContext(req), login: login, errors: errors), status: .unprocessableEntity)
        }
        switch try await Authenticator.check(req, login: login, password: password) {
        case .locked(let until):
            let msg = req.t("signin.error.locked", ["minutes": String(max(1, Int((until.timeIntervalSince(req.jumys.store.now()) / 60).rounded(.up))))])
            return HTMLResponse.make(SignInView.render(PageContext(req), login: login, errors: [("login", msg)]), status: .tooManyRequests)
        case .wrong:
            return HTMLResponse.make(SignInView.render(PageContext(req), login: login, errors: [("password", req.t("signin.error.wrong"))]), status: .unauthorized)
        case .ok(let user):
            // A new session id at every sign-in; the old session (if any) ends.
            if let old = req.state.sessionToken, let u = req.user { try await req.jumys.directory.endSession(token: old, user: u) }
            let s = try await req.jumys.directory.startSession(for: user, kind: "web", lifetime: req.jumys.config.sessionLifetime)
            let res = req.redirect(to: "/", redirectType: .normal)
            res.cookies[Cookies.session] = HTTPCookies.Value(string: s.token, isSecure: req.jumys.config.cookieSecure, isHTTPOnly: true, sameSite: .lax)
            res.cookies[Cookies.csrf] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, isSecure: req.jumys.config.cookieSecure, isHTTPOnly: true, sameSite: .strict)
            return res
        }
    }

    @Sendable func signOut(req: Request) async throws -> Response {
        if let token = req.state.sessionToken, let u = req.user {
            try await req.jumys.directory.endSession(token: token, user: u)
        }
        let res = req.redirect(to: "/signin", redirectType: .normal)
        res.cookies[Cookies.session] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, isSecure: req.jumys.config.cookieSecure, isHTTPOnly: true, sameSite: .lax)
        return res
    }

    @Sendable func switchLanguage(req: Request) async throws -> Response {
        guard let code = req.parameters.get("code"), let lang = Lang(rawValue: code) else { throw Abort(.notFound) }
        // Only a local path may be the way back (no open redirect).
        var back = (try? req.query.get(String.self, at: "back")) ?? "/"
        if !back.hasPrefix("/") || back.hasPrefix("//") || back.contains("\\") { back = "/" }
        let res = req.redirect(to: back, redirectType: .normal)
        res.cookies[Cookies.lang] = HTTPCookies.Value(string: lang.rawValue, maxAge: 365 * 24 * 3600, isSecure: req.jumys.config.cookieSecure, isHTTPOnly: true, sameSite: .lax)
        return res
    }
}

/// Password checking with throttling per account and per address; shared by the page and the API.
enum Authenticator {
    enum Outcome { case ok(UserContext), wrong, locked(Date) }

    static func check(_ req: Request, login: String, password: String) async throws -> Outcome {
        let svc = req.jumys
        let account = [(key: "login:" + login, limit: svc.config.signInMaxFailures)]
        let address = [(key: "addr:" + req.clientAddress, limit: svc.config.signInMaxFailuresPerAddress)]
        if let until = try await svc.directory.lockedUntil(keys: [address[0].key]) { return .locked(until) }
        // The attempt is counted before the password is checked, so parallel guesses cannot exceed the limit.
        if let until = try await svc.directory.countAttempt(keys: account, window: svc.config.signInWindow, lockFor: svc.config.signInLockout) { return .locked(until) }
        let creds = try await svc.directory.credentials(login: login)
        let ok = try await req.password.async.verify(password, created: creds?.hash ?? svc.decoyHash)
        if ok, let user = creds?.user {
            try await svc.directory.clearFailures(key: account[0].key)
            return .ok(user)
        }
        _ = try await svc.directory.countAttempt(keys: address, window: svc.config.signInWindow, lockFor: svc.config.signInLockout)
        if let until = try await svc.directory.lockIfAtLimit(keys: account + address, lockFor: svc.config.signInLockout) { return .locked(until) }
        return .wrong
    }
}

enum SignInView {
    static func render(_ ctx: PageContext, login: String, errors: [(field: String, message: String)]) -> String {
        func fieldError<C: HTML.BodyContext>(_ f: String) -> Node<C> {
            guard let e = errors.first(where: { $0.field == f }) else { return .empty }
            return .p(.class("field-error"), .id("\(f)-error"), .text(e.message))
        }
        return Layout.page(ctx, title: ctx.t("signin.title"),
            .div(.class("narrow"),
                Layout.errorSummary(ctx, errors),
                .h1(.text(ctx.t("signin.title"))),
                .p(.class("lead"), .text(ctx.t("signin.lead"))),
                .form(.method(.post), .action("/signin"),
                    .div(ctx.csrfField()),
                    .div(.class(errors.contains { $0.field == "login" } ? "field has-error" : "field"),
                        .label(.for("login"), .text(ctx.t("signin.login"))),
                        fieldError("login"),
                        .input(.type(.text), .id("login"), .name("login"), .value(attr(login)), .attribute(named: "autocomplete", value: "username"), .attribute(named: "autocapitalize", value: "none"), .attribute(named: "spellcheck", value: "false"), .required(true))
                    ),
                    .div(.class(errors.contains { $0.field == "password" } ? "field has-error" : "field"),
                        .label(.for("password"), .text(ctx.t("signin.password"))),
                        fieldError("password"),
                        .input(.type(.password), .id("password"), .name("password"), .attribute(named: "autocomplete", value: "current-password"), .required(true))
                    ),
                    .button(.type(.submit), .class("button"), .text(ctx.t("signin.button")))
                )
            )
        )
    }
}
