import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Metrics
import Prometheus
import Vapor

/// Everything the handlers need, passed in once (no globals).
public struct AppServices: Sendable {
    public let config: AppConfig
    public let store: Store
    public let directory: Directory
    public let registry: Registry
    public let translator: Translator
    public let metrics: PrometheusCollectorRegistry
    public let stylesheet: String
    /// The one script of the pages (sortable and filterable tables); every page works without it.
    public let tablesScript: String
    /// A bcrypt hash of a random secret, checked when a login is unknown so that timing does not reveal accounts.
    public let decoyHash: String
    public let rules: RulesService
    /// The API's OpenAPI document, read once.
    public let openapi: OpenAPIDocument

    public init(config: AppConfig, store: Store, rules: RulesService, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) throws {
        self.rules = rules
        self.config = config
        self.store = store
        self.directory = Directory(store: store)
        self.registry = Registry(store: store)
        self.translator = try Translator.bundled()
        self.metrics = metrics
        guard let css = Bundle.module.url(forResource: "app", withExtension: "css", subdirectory: "Public") else {
            throw AppConfig.Invalid(variable: "Public/app.css", message: "missing from the build")
        }
        self.stylesheet = try String(contentsOf: css, encoding: .utf8)
        guard let js = Bundle.module.url(forResource: "tables", withExtension: "js", subdirectory: "Public") else {
            throw AppConfig.Invalid(variable: "Public/tables.js", message: "missing from the build")
        }
        self.tablesScript = try String(contentsOf: js, encoding: .utf8)
        self.decoyHash = try Bcrypt.hash(Directory.randomToken(), cost: config.bcryptCost)
        self.openapi = try OpenAPIDocument.bundled()
    }
}

struct ServicesKey: StorageKey { typealias Value = AppServices }

extension Application {
    public var jumys: AppServices {
        get { storage[ServicesKey.self]! }
        set { storage[ServicesKey.self] = newValue }
    }
}

extension Request {
    var jumys: AppServices { application.jumys }
}

/// Wires the application: middleware, routes and the services. Tests call this too, so they run the real wiring.
public func configure(_ app: Application, services: AppServices) throws {
    app.jumys = services
    app.http.server.configuration.hostname = services.config.host
    app.http.server.configuration.port = services.config.port
    app.passwords.use(.bcrypt(cost: services.config.bcryptCost))
    app.routes.defaultMaxBodySize = "1mb"

    // Our own middleware only: Vapor's default route logger would log raw URLs with query strings.
    app.middleware = Middlewares()
    app.middleware.use(RequestContextMiddleware())
    app.middleware.use(AccessLogMiddleware())
    app.middleware.use(MetricsMiddleware(registry: services.metrics))
    app.middleware.use(JumysErrorMiddleware())
    app.middleware.use(SecurityHeadersMiddleware())
    app.middleware.use(InputMiddleware())
    app.middleware.use(AuthenticationMiddleware())
    app.middleware.use(SystemTokenMiddleware())
    app.middleware.use(IdempotencyMiddleware())
    app.middleware.use(CSRFMiddleware())
    app.middleware.use(ReadOnlyRoleMiddleware())
    app.middleware.use(WriteGate())
    app.middleware.use(RequestSchemaMiddleware())

    try OperationsRoutes().boot(routes: app.routes)
    try SessionRoutes().boot(routes: app.routes)
    try HomeRoutes().boot(routes: app.routes)
    try PeopleRoutes().boot(routes: app.routes)
    try CaseworkRoutes().boot(routes: app.routes)
    try LabourRoutes().boot(routes: app.routes)
    try LabourMarketRoutes().boot(routes: app.routes)
    try BusinessRoutes().boot(routes: app.routes)
    try RelocationRoutes().boot(routes: app.routes)
    try ProjectRoutes().boot(routes: app.routes)
    try LimitRoutes().boot(routes: app.routes)
    try LoanRoutes().boot(routes: app.routes)
    try FinanceAPIRoutes().boot(routes: app.routes)
    try ReportRoutes().boot(routes: app.routes)
    try DashboardRoutes().boot(routes: app.routes)
    try IndicatorRoutes().boot(routes: app.routes)
    try PlanRoutes().boot(routes: app.routes)
    try ProjectAPIRoutes().boot(routes: app.routes)
    try PortalRoutes().boot(routes: app.routes)
    try AdminRoutes().boot(routes: app.routes)
    try TokenRoutes().boot(routes: app.routes)
    try APIRoutes().boot(routes: app.routes)
    try RulesAPIRoutes().boot(routes: app.routes)
    try CaseworkAPIRoutes().boot(routes: app.routes)
    try LabourAPIRoutes().boot(routes: app.routes)
    try ParameterRoutes().boot(routes: app.routes)
    try ImportRoutes().boot(routes: app.routes)
    try ExportRoutes().boot(routes: app.routes)
    try OpenAPIRoutes(document: services.openapi).boot(routes: app.routes)
    try JobRoutes().boot(routes: app.routes)
    _ = app.importWorker
    _ = app.jobWorker
}

extension AppServices {
    /// Services over a store with the shipped parameter files and calendar (and the store's additions).
    public static func make(config: AppConfig, store: Store, files: ParameterSet? = nil, calendar: WorkCalendar? = nil) async throws -> AppServices {
        let rules = try await RulesService(store: store, files: try files ?? ParameterSet.bundled(), calendar: try calendar ?? WorkCalendar.bundled())
        return try AppServices(config: config, store: store, rules: rules)
    }
}
