import Foundation
import JumysStore
import Logging

/// Settings read once from the environment at start-up; a bad value stops start-up naming the variable.
public struct AppConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var database: StoreLocation = .sqliteFile("jumys.sqlite")
    public var logLevel: Logger.Level = .info
    public var bcryptCost = 12
    /// A session unused this long ends (inactivity timeout).
    public var sessionIdle: TimeInterval = 30 * 60
    /// No session lives longer than this, used or not.
    public var sessionLifetime: TimeInterval = 12 * 3600
    public var apiTokenLifetime: TimeInterval = 24 * 3600
    public var cookieSecure = true
    public var signInMaxFailures = 10
    public var signInMaxFailuresPerAddress = 50
    public var signInWindow: TimeInterval = 15 * 60
    public var signInLockout: TimeInterval = 15 * 60

    public init() {}

    public struct Invalid: Error, CustomStringConvertible {
        public let variable: String
        public let message: String
        public var description: String { "\(variable): \(message)" }
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> AppConfig {
        var c = AppConfig()
        func int(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let raw = env[name], !raw.isEmpty else { return nil }
            guard let v = Int(raw), range.contains(v) else {
                throw Invalid(variable: name, message: "expected a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\"")
            }
            return v
        }
        if let h = env["HOST"], !h.isEmpty { c.host = h }
        if let p = try int("PORT", 1...65535) { c.port = p }
        do { c.database = try StoreLocation.parse(env["DATABASE_URL"]) } catch {
            throw Invalid(variable: "DATABASE_URL", message: error.description)
        }
        if let raw = env["LOG_LEVEL"], !raw.isEmpty {
            guard let l = Logger.Level(rawValue: raw.lowercased()) else {
                throw Invalid(variable: "LOG_LEVEL", message: "expected one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = l
        }
        if let v = try int("BCRYPT_COST", 4...31) { c.bcryptCost = v }
        if let v = try int("SESSION_IDLE_MINUTES", 1...1440) { c.sessionIdle = TimeInterval(v * 60) }
        if let v = try int("SESSION_LIFETIME_HOURS", 1...720) { c.sessionLifetime = TimeInterval(v * 3600) }
        if let v = try int("SIGNIN_MAX_FAILURES", 1...1000) { c.signInMaxFailures = v }
        if let v = try int("SIGNIN_LOCKOUT_MINUTES", 1...1440) { c.signInLockout = TimeInterval(v * 60) }
        if let raw = env["COOKIE_SECURE"], !raw.isEmpty {
            switch raw.lowercased() {
            case "1", "true", "yes": c.cookieSecure = true
            case "0", "false", "no": c.cookieSecure = false
            default: throw Invalid(variable: "COOKIE_SECURE", message: "expected true or false")
            }
        }
        return c
    }
}
