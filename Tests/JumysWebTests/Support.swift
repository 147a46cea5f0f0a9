import Foundation
import JumysDomain
import JumysStore
import Logging
import NIOCore
import Testing
import Vapor
import VaporTesting
@testable import JumysWeb

/// Every log line of this test process, so that a test can prove what never reaches the logs.
final class LogCapture: @unchecked Sendable {
    static let shared = LogCapture()
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.withLock { lines.append(s) } }
    var all: [String] { lock.withLock { lines } }

    static let bootstrap: Void = {
        LoggingSystem.bootstrap { label in CaptureHandler(label: label) }
    }()
}

struct CaptureHandler: LogHandler {
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] } set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let md = self.metadata.merging(metadata ?? [:]) { $1 }
        LogCapture.shared.append("\(level) \(label) \(message) \(md)")
    }
}

/// The application as the server runs it (same `configure`), on an isolated store with a small demo dataset.
func withJumys<T>(persons: Int = 300, config tweak: (inout AppConfig) -> Void = { _ in }, prepare: (Store) async throws -> Void = { _ in },
                  _ body: (Application, Store) async throws -> T) async throws -> T {
    _ = LogCapture.bootstrap
    var config = AppConfig()
    config.bcryptCost = 4
    config.cookieSecure = true
    tweak(&config)
    let store = try await Store.isolated()
    let app = try await Application.make(.testing)
    do {
        try await store.migrate()
        try await ReferenceData.load(into: store)
        try await prepare(store)
        _ = try await DemoData.load(into: store, hashPassword: { try Bcrypt.hash($0, cost: 4) }, persons: persons)
        try configure(app, services: try await AppServices.make(config: config, store: store))
        let r = try await body(app, store)
        try await app.asyncShutdown()
        await store.destroy()
        return r
    } catch {
        try? await app.asyncShutdown()
        await store.destroy()
        throw error
    }
}

/// A browser-like client: keeps cookies, posts forms with their CSRF token.
final class Browser: @unchecked Sendable {
    let app: Application
    var cookies: [String: String] = [:]
    var lastCSRF: String?
    var acceptLanguage: String?

    init(_ app: Application) { self.app = app }

    struct Result { let status: HTTPStatus; let body: String; let headers: HTTPHeaders; let bytes: Data }

    @discardableResult
    func request(_ method: HTTPMethod, _ path: String, form: [String: String]? = nil, json: String? = nil, raw: (type: HTTPMediaType, body: String)? = nil,
                 bytes: (type: HTTPMediaType, body: Data)? = nil, headers extra: [(String, String)] = [], bearer: String? = nil) async throws -> Result {
        var headers = HTTPHeaders()
        if !cookies.isEmpty { headers.add(name: .cookie, value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
        if let acceptLanguage { headers.add(name: .acceptLanguage, value: acceptLanguage) }
        if let bearer { headers.bearerAuthorization = .init(token: bearer) }
        var body: ByteBuffer? = nil
        if let form {
            headers.contentType = .urlEncodedForm
            body = ByteBuffer(string: form.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&"))
        } else if let json {
            headers.contentType = .json
            body = ByteBuffer(string: json)
        } else if let raw {
            headers.contentType = raw.type
            body = ByteBuffer(string: raw.body)
        } else if let bytes {
            headers.contentType = bytes.type
            body = ByteBuffer(data: bytes.body)
        }
        for (n, v) in extra { headers.replaceOrAdd(name: n, value: v) }
        var result: Result? = nil
        try await app.testing().test(method, path, headers: headers, body: body) { res in
            for (name, value) in res.headers.setCookie?.all ?? [:] {
                if value.string.isEmpty { cookies[name] = nil } else { cookies[name] = value.string }
            }
            let text = res.body.string
            if let m = text.firstMatch(of: /name="_csrf" value="([0-9a-f]+)"/) { lastCSRF = String(m.1) }
            result = Result(status: res.status, body: text, headers: res.headers, bytes: Data(res.body.readableBytesView))
        }
        return result!
    }

    /// Posts a form with the CSRF token of the last page seen.
    @discardableResult
    func post(_ path: String, _ fields: [String: String]) async throws -> Result {
        var f = fields
        f["_csrf"] = lastCSRF ?? ""
        return try await request(.POST, path, form: f)
    }

    /// Follows a background job's page (a redirect's `Location`) until the job has finished: its page stops
    /// refreshing itself. Fails after a minute.
    @discardableResult
    func finished(_ redirect: Result) async throws -> Result {
        let location = try #require(redirect.headers.first(name: .location))
        for _ in 0..<600 {
            let page = try await request(.GET, location)
            if page.headers.first(name: "Refresh") == nil { return page }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the job at \(location) did not finish")
        return try await request(.GET, location)
    }

    /// Posts a multipart form with one file and the CSRF token of the last page seen.
    @discardableResult
    func upload(_ path: String, file name: String, filename: String, content: String, fields: [String: String] = [:]) async throws -> Result {
        try await upload(path, file: name, filename: filename, data: Data(content.utf8), fields: fields)
    }

    @discardableResult
    func upload(_ path: String, file name: String, filename: String, data: Data, fields: [String: String] = [:]) async throws -> Result {
        let boundary = "jumys-test-\(UUID().uuidString)"
        var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(lastCSRF ?? "")\r\n"
        for (k, v) in fields { head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n" }
        head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        let body = Data(head.utf8) + data + Data("\r\n--\(boundary)--\r\n".utf8)
        return try await request(.POST, path, bytes: (HTTPMediaType(type: "multipart", subType: "form-data", parameters: ["boundary": boundary]), body))
    }

    func signIn(_ login: String, password: String = "demo") async throws -> Result {
        try await request(.GET, "/signin")
        return try await post("/signin", ["login": login, "password": password])
    }

    static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }
}

func apiToken(_ app: Application, _ login: String) async throws -> String {
    let b = Browser(app)
    let r = try await b.request(.POST, "/api/v1/auth/token", json: #"{"login":"\#(login)","password":"demo"}"#)
    #expect(r.status == .ok)
    struct T: Decodable { let token: String }
    return try JSONDecoder().decode(T.self, from: Data(r.body.utf8)).token
}

/// Dates relative to today (Kazakhstan time), so that the tests mean the same on any day they run.
enum Days {
    static var today: CivilDate { CivilDate(daysSinceEpoch: Int(floor((Date().timeIntervalSince1970 + 5 * 3600) / 86400))) }
    static func from(_ n: Int) -> String { today.adding(days: n).iso }
    static func months(_ n: Int) -> String { today.adding(months: n).iso }
    /// `YYYY-MM` of the month after today's.
    static var nextMonth: String { let d = today.adding(months: 1); return String(format: "%04d-%02d", d.year, d.month) }
    static var thisYear: Int { today.year }
}

/// The year's national limit of a direction split between the regions and approved (F1).
func allocate(_ store: Store, year: Int, _ direction: FundingDirection, tenge: Int64 = 10_000_000_000) async throws {
    let dir = Directory(store: store), limits = LimitStore(store: store)
    let ministry = try #require(try await dir.credentials(login: "ministry.officer")?.user), iac = try #require(try await dir.credentials(login: "interagency")?.user)
    let id = try await limits.propose(year: year, direction: direction, total: Money(tenge: tenge), period: LimitStore.shippedPeriod, by: ministry)
    try await limits.approve(allocation: id, decision: "Протокол МВК №1", by: iac)
}
