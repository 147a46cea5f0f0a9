import Foundation
import JumysRules
import JumysStore
import Logging
import Prometheus
import FluentKit
import Vapor

/// Per-request state: language, request id, the signed-in user and session.
final class RequestState: @unchecked Sendable {
    var lang: Lang = .kk
    var requestID: String = ""
    var user: UserContext?
    var csrf: String?
    var sessionToken: String?
    var sessionKind: String?
    /// A new anonymous CSRF cookie to set on the response.
    var newAnonymousCSRF: String?
    /// An outside system's token: its id and the API areas (the document's tags) it may call.
    var systemTokenID: Int?
    var tokenAreas: Set<String> = []
}

struct RequestStateKey: StorageKey { typealias Value = RequestState }

extension Request {
    var state: RequestState {
        if let s = storage[RequestStateKey.self] { return s }
        let s = RequestState()
        storage[RequestStateKey.self] = s
        return s
    }
    var lang: Lang { state.lang }
    var user: UserContext? { state.user }

    func t(_ key: String, _ args: [String: String] = [:]) -> String { jumys.translator.t(key, lang, args) }

    var isAPI: Bool { url.path.hasPrefix("/api/") }

    /// The signed-in user, or a redirect to sign-in (pages) / 401 (API).
    func requireUser() throws -> UserContext {
        guard let u = user else { throw Abort(.unauthorized) }
        return u
    }

    /// Address for throttling; not logged.
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}

enum Cookies {
    static let session = "jumys_session"
    static let csrf = "jumys_csrf"
    static let lang = "jumys_lang"
}

/// Sets the request id and the language (cookie, else Accept-Language, else Kazakh).
struct RequestContextMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let st = req.state
        st.requestID = req.headers.first(name: "X-Request-Id").flatMap { $0.count <= 64 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } ? $0 : nil } ?? UUID().uuidString.lowercased()
        req.logger[metadataKey: "request-id"] = .string(st.requestID)
        if let c = req.cookies[Cookies.lang]?.string, let l = Lang(rawValue: c) {
            st.lang = l
        } else {
            st.lang = Lang.negotiate(acceptLanguage: req.headers.first(name: .acceptLanguage))
        }
        let res = try await next.respond(to: req)
        res.headers.replaceOrAdd(name: "X-Request-Id", value: st.requestID)
        return res
    }
}

/// Logs method, route pattern, status and duration: never the raw URL, query or body (they may hold IINs and names).
struct AccessLogMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let start = ContinuousClock.now
        let res = try await next.respond(to: req)
        let ms = (ContinuousClock.now - start).components
        let millis = Double(ms.seconds) * 1000 + Double(ms.attoseconds) / 1e15
        req.logger.info("\(req.method.rawValue) \(req.routePattern) \(res.status.code) \(String(format: "%.1f", millis))ms")
        return res
    }
}

extension Request {
    /// "/api/v1/persons/:id": the registered pattern, never the concrete values.
    var routePattern: String {
        guard let route else { return "unmatched" }
        return "/" + route.path.map(\.description).joined(separator: "/")
    }
}

/// Request counts and latencies by method, route pattern and status, in Prometheus form.
struct MetricsMiddleware: AsyncMiddleware {
    let registry: PrometheusCollectorRegistry
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let start = ContinuousClock.now
        let status: UInt
        let response: Response
        do {
            response = try await next.respond(to: req)
            status = response.status.code
        } catch {
            status = (error as? any AbortError)?.status.code ?? 500
            record(req, status: status, since: start)
            throw error
        }
        record(req, status: status, since: start)
        return response
    }

    nonisolated(unsafe) static let requests = MetricNameDescriptor(namespace: "jumys", subsystem: "http", metricName: "requests", unitName: "total",
                                               helpText: "HTTP requests by method, route pattern and status")
    nonisolated(unsafe) static let duration = MetricNameDescriptor(namespace: "jumys", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                                               helpText: "HTTP request latency by method and route pattern")

    private func record(_ req: Request, status: UInt, since start: ContinuousClock.Instant) {
        let labels = [("method", req.method.rawValue), ("route", req.routePattern), ("status", String(status))]
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: Self.duration, labels: [("method", req.method.rawValue), ("route", req.routePattern)],
                                       buckets: Self.buckets).record(ContinuousClock.now - start)
    }
}

/// Security headers on every response; no caching of anything that may show personal data.
struct SecurityHeadersMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let res = try await next.respond(to: req)
        let h = res.headers
        var headers = h
        headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        if !req.url.path.hasPrefix("/static/") {
            headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        }
        res.headers = headers
        return res
    }
}

/// Finds the user from the session cookie (pages) or the bearer token (API).
struct AuthenticationMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let st = req.state
        let svc = req.jumys
        if req.isAPI {
            if let bearer = req.headers.bearerAuthorization?.token {
                // A system's token says so by its prefix: one lookup, in the table that can hold it.
                if bearer.hasPrefix("jst_") {
                    if let t = try await svc.directory.systemToken(bearer) { st.user = t.user; st.systemTokenID = t.id; st.tokenAreas = t.areas }
                } else if let s = try await svc.directory.session(token: bearer, idle: nil), s.kind == "api" {
                    st.user = s.user; st.sessionToken = bearer; st.sessionKind = s.kind
                }
            }
        } else if let token = req.cookies[Cookies.session]?.string,
                  let s = try await svc.directory.session(token: token, idle: svc.config.sessionIdle), s.kind == "web" {
            st.user = s.user; st.csrf = s.csrf; st.sessionToken = token; st.sessionKind = s.kind
        }
        if !req.isAPI && st.user == nil {
            if let c = req.cookies[Cookies.csrf]?.string, c.count == 64 { st.csrf = c } else {
                let c = Directory.randomToken()
                st.csrf = c; st.newAnonymousCSRF = c
            }
        }
        let res = try await next.respond(to: req)
        if let c = st.newAnonymousCSRF {
            res.cookies[Cookies.csrf] = HTTPCookies.Value(string: c, isSecure: svc.config.cookieSecure, isHTTPOnly: true, sameSite: .strict)
        }
        return res
    }
}

/// A system's token reaches only the API areas it was given (403 elsewhere), and every call it makes — allowed or
/// not, answered or failed — is written to the audit log under the system's name with its route pattern and status.
struct SystemTokenMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let id = req.state.systemTokenID, let user = req.user else { return try await next.respond(to: req) }
        let status: UInt
        do {
            guard let tag = req.jumys.openapi.tag(method: req.method.rawValue, path: req.url.path), req.state.tokenAreas.contains(tag) || tag == "auth" else {
                throw Abort(.forbidden, reason: "outside the areas of this token")
            }
            let res = try await next.respond(to: req)
            status = res.status.code
            try await req.jumys.directory.auditCall(token: id, user: user, method: req.method.rawValue, route: req.routePattern, status: Int(status))
            return res
        } catch {
            let code = (error as? any AbortError)?.status.code ?? (error is FieldErrorsAbort ? 422 : 500)
            try? await req.jumys.directory.auditCall(token: id, user: user, method: req.method.rawValue, route: req.route == nil ? req.url.path.split(separator: "/").prefix(3).joined(separator: "/") : req.routePattern, status: Int(code))
            throw error
        }
    }
}

/// `Idempotency-Key` on an API POST: the first request with a key runs and its answer (below 500) is kept; a retry
/// with the same key and the same request gets that answer again (`Idempotent-Replayed: true`) and creates nothing;
/// the same key with another request is refused (422); while the first is still running, a retry gets 409.
struct IdempotencyMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard req.method == .POST, req.isAPI, let key = req.headers.first(name: "Idempotency-Key"), let user = req.user else { return try await next.respond(to: req) }
        guard (1...200).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
            throw Abort(.unprocessableEntity, reason: "Idempotency-Key: 1 to 200 visible ASCII characters")
        }
        let max = req.url.path.hasPrefix("/api/v1/imports/") ? ImportStore.maxBytes : 1 << 20
        let body = try await req.body.collect(max: max).get().map { Data(buffer: $0) } ?? Data()
        let keys = IdempotencyStore(store: req.jumys.store)
        switch try await keys.claim(user: user.id, key: key, requestHash: IdempotencyStore.hash(method: req.method.rawValue, path: req.url.path, body: body)) {
        case .mismatch: throw Abort(.unprocessableEntity, reason: "Idempotency-Key was used with another request")
        case .inProgress: throw Abort(.conflict, reason: "a request with this Idempotency-Key is still running")
        case .replay(let a):
            let res = Response(status: HTTPResponseStatus(statusCode: a.status ?? 200), body: .init(data: a.body ?? Data()))
            if let t = a.content_type { res.headers.replaceOrAdd(name: .contentType, value: t) }
            if let l = a.location { res.headers.replaceOrAdd(name: .location, value: l) }
            res.headers.replaceOrAdd(name: "Idempotent-Replayed", value: "true")
            return res
        case .claimed(let id):
            let res: Response
            do { res = try await next.respond(to: req) } catch {
                // Errors are turned into responses further out: a failed request keeps nothing, and may be retried.
                try? await keys.release(id)
                throw error
            }
            if res.status.code >= 500 { try? await keys.release(id); return res }
            let data = try await res.body.collect(on: req.eventLoop).get().map { Data(buffer: $0) } ?? Data()
            try await keys.keep(id, status: Int(res.status.code), contentType: res.headers.first(name: .contentType), location: res.headers.first(name: .location), body: data)
            res.body = .init(data: data)
            return res
        }
    }
}

/// Every form post must carry the token of its session (or, before sign-in, of the anonymous cookie).
struct CSRFMiddleware: AsyncMiddleware {
    struct Form: Content { let _csrf: String? }

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard req.method == .POST, !req.isAPI else { return try await next.respond(to: req) }
        let sent = (try? req.content.decode(Form.self))?._csrf ?? ""
        guard let expected = req.state.csrf, req.state.newAnonymousCSRF == nil, constantTimeEqual(sent, expected) else {
            throw Abort(.forbidden, reason: "csrf")
        }
        return try await next.respond(to: req)
    }
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var d: UInt8 = 0
    for i in 0..<x.count { d |= x[i] ^ y[i] }
    return d == 0
}

/// Read-only roles (the ministry analyst) may not change anything: every non-reading request is refused
/// here, whatever the route, except the few that change nothing of the record.
struct ReadOnlyRoleMiddleware: AsyncMiddleware {
    /// Posts that read or concern only the user's own session.
    static let allowed: Set<String> = ["/signin", "/signout", "/people/search", "/api/v1/auth/token"]

    /// Also a report pack (`/reports/{report}/{month}/pack`): it reads the record and writes only a file for its asker.
    static func allows(_ path: String) -> Bool {
        allowed.contains(path) || (path.hasPrefix("/reports/") && path.hasSuffix("/pack") && path.split(separator: "/").count == 4)
    }

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let u = req.user, !u.canWrite, ![.GET, .HEAD, .OPTIONS].contains(req.method), !Self.allows(req.url.path) {
            throw Abort(.forbidden, reason: "read-only")
        }
        return try await next.respond(to: req)
    }
}

/// Turns errors into translated pages (or problem+json for the API); unexpected errors show only the request id.
struct JumysErrorMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: req)
        } catch {
            let status: HTTPResponseStatus
            var reason: String? = nil
            if let fe = error as? FieldErrorsAbort {
                return try ErrorResponder.response(req, status: fe.status, reason: nil, fieldErrors: fe.errors)
            }
            if let abort = error as? any AbortError {
                status = abort.status
                reason = abort.reason
            } else if case StoreError.notFound = error {
                // Absent and out of scope look the same (no leak of existence).
                status = .notFound
            } else if let e = error as? any DatabaseError, e.isConstraintFailure {
                // Two people changed the same thing at the same moment and the database kept the first: nothing of
                // this request was written. The stores turn the expected cases into field errors; this is the net.
                status = .conflict
                reason = "conflict"
            } else if error is DecodingError {
                status = .unprocessableEntity
            } else if let e = error as? ParameterMissing {
                // A date the rules are not in force on (a payroll month before the programme): the input is at fault.
                status = .unprocessableEntity
                reason = e.description
            } else if let e = error as? RuleInputError {
                status = .unprocessableEntity
                reason = e.description
            } else {
                status = .internalServerError
                // The error's text may contain values; log its type and the request id only.
                req.logger.error("unexpected error of type \(String(reflecting: type(of: error)))")
            }
            if status == .unauthorized && !req.isAPI {
                return req.redirect(to: "/signin")
            }
            return try ErrorResponder.response(req, status: status, reason: reason)
        }
    }
}
