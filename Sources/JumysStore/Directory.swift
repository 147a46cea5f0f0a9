import Crypto
import FluentKit
import Foundation
import JumysDomain
import SQLKit

/// The signed-in user as every request sees it: who, what role, and what part of the country.
public struct UserContext: Sendable, Equatable {
    public let id: Int
    public let login: String
    public let displayName: String
    public let role: Role
    public let regionISO: String?
    public let districtID: Int?
    public let organisationID: Int?

    /// The territory or organisation this user's queries are limited to.
    public var scope: Scope {
        switch role {
        case .administrator, .analyst, .ministryOfficer: return .national
        case .contractor, .lender, .authorityOfficer: return .organisation(Int64(organisationID ?? -1))
        case .caseworker:
            // An outside system working as a caseworker may be given a whole region (people always have a district).
            if let d = districtID { return .district(Int64(d)) }
            if let r = regionISO, let code = RegionCode(r) { return .region(code) }
            return .district(-1)
        case .akimatOfficer, .regionalCoordinator, .commissionMember:
            if let d = districtID { return .district(Int64(d)) }
            if let r = regionISO, let code = RegionCode(r) { return .region(code) }
            return role == .commissionMember ? .national : .organisation(-1)
        }
    }

    public var actor: Actor { Actor(userID: id, login: login) }
    /// Registering people, taking applications and running contracts is the employment centre's work.
    public var doesCasework: Bool { role == .caseworker || role == .administrator }
    public var canWrite: Bool { !role.isReadOnly }

    init(_ u: UserRecord) {
        id = u.id!; login = u.login; displayName = u.displayName
        role = Role(rawValue: u.role) ?? .analyst
        regionISO = u.regionISO; districtID = u.districtID; organisationID = u.organisationID
    }
}

/// A new user's details; the password arrives already hashed (hashing belongs to the web layer).
public struct NewUser: Sendable {
    public var login: String
    public var passwordHash: String
    public var role: Role
    public var displayName: String
    public var regionISO: String?
    public var districtID: Int?
    public var organisationID: Int?
    public init(login: String, passwordHash: String, role: Role, displayName: String, regionISO: String? = nil, districtID: Int? = nil, organisationID: Int? = nil) {
        self.login = login; self.passwordHash = passwordHash; self.role = role; self.displayName = displayName
        self.regionISO = regionISO; self.districtID = districtID; self.organisationID = organisationID
    }
}

/// Users, sessions and sign-in throttling.
public struct Directory: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    struct UserSnapshot: Encodable, Sendable {
        let login, role, display_name: String; let region_iso: String?; let district_id: Int?; let organisation_id: Int?; let active: Bool
    }

    public static func hashToken(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    /// Creates a user unless one with the login exists; returns its id.
    @discardableResult
    public func ensureUser(_ n: NewUser, by actor: Actor = .system) async throws -> Int {
        // Logins are case-insensitive: kept in lower case, so "caseworker.KZ-71" and "caseworker.kz-71" are one account.
        let login = n.login.lowercased()
        return try await store.write(as: actor) { ctx in
            if let existing = try await UserRecord.query(on: ctx.db).filter(\.$login == login).first() { return existing.id! }
            guard login.wholeMatch(of: /[a-z0-9][a-z0-9._-]{1,62}/) != nil else {
                throw StoreError.invalid(field: "login", reason: "use 2-63 lower-case letters, digits, dots, dashes")
            }
            let u = UserRecord()
            u.login = login; u.passwordHash = n.passwordHash; u.role = n.role.rawValue; u.displayName = n.displayName
            u.regionISO = n.regionISO; u.districtID = n.districtID; u.organisationID = n.organisationID
            u.active = true; u.createdAt = ctx.now
            try await u.create(on: ctx.db)
            try ctx.audit("create", entity: "user", id: String(u.id!), after: UserSnapshot(login: u.login, role: u.role, display_name: u.displayName, region_iso: u.regionISO, district_id: u.districtID, organisation_id: u.organisationID, active: true))
            return u.id!
        }
    }

    /// The stored hash and context for a login, for the web layer to check a password against.
    public func credentials(login: String) async throws -> (hash: String, user: UserContext)? {
        guard let u = try await UserRecord.query(on: store.db).filter(\.$login == login.lowercased()).filter(\.$active == true).first() else { return nil }
        return (u.passwordHash, UserContext(u))
    }

    public func user(id: Int) async throws -> UserContext? {
        try await UserRecord.find(id, on: store.db).flatMap { $0.active ? UserContext($0) : nil }
    }

    // MARK: sessions

    /// Starts a session and returns its secret (only its hash is stored). Sign-in is audited.
    public func startSession(for user: UserContext, kind: String, lifetime: TimeInterval) async throws -> (token: String, csrf: String, expiresAt: Date) {
        let token = Self.randomToken(), csrf = Self.randomToken()
        return try await store.write(as: user.actor) { ctx in
            let s = SessionRecord()
            s.id = Self.hashToken(token); s.userID = user.id; s.kind = kind; s.csrfToken = csrf
            s.createdAt = ctx.now; s.lastSeenAt = ctx.now; s.expiresAt = ctx.now.addingTimeInterval(lifetime)
            try await s.create(on: ctx.db)
            try ctx.audit(kind == "api" ? "issue_token" : "sign_in", entity: "user", id: String(user.id))
            return (token, csrf, s.expiresAt)
        }
    }

    /// The session behind a secret, if it is alive: not past its end and, when `idle` is given, used within it.
    public func session(token: String, idle: TimeInterval?) async throws -> (user: UserContext, csrf: String, kind: String)? {
        let key = Self.hashToken(token)
        guard let s = try await SessionRecord.find(key, on: store.db) else { return nil }
        let now = store.now()
        if s.expiresAt < now || (idle.map { s.lastSeenAt.addingTimeInterval($0) < now } ?? false) {
            try await store.bookkeeping { db in try await SessionRecord.query(on: db).filter(\.$id == key).delete() }
            return nil
        }
        guard let user = try await user(id: s.userID) else { return nil }
        if now.timeIntervalSince(s.lastSeenAt) > 60 {
            try await store.bookkeeping { db in
                try await SessionRecord.query(on: db).filter(\.$id == key).set(\.$lastSeenAt, to: now).update()
            }
        }
        return (user, s.csrfToken, s.kind)
    }

    public func endSession(token: String, user: UserContext) async throws {
        let key = Self.hashToken(token)
        try await store.write(as: user.actor) { ctx in
            try await SessionRecord.query(on: ctx.db).filter(\.$id == key).delete()
            try ctx.audit("sign_out", entity: "user", id: String(user.id))
        }
    }

    // MARK: throttling

    /// The time until which any of the keys is locked, if one is.
    public func lockedUntil(keys: [String]) async throws -> Date? {
        let ids = keys.map(Self.hashToken)
        let now = store.now()
        let rows = try await SignInThrottleRecord.query(on: store.db).filter(\.$id ~~ ids).all()
        return rows.compactMap(\.lockedUntil).filter { $0 > now }.max()
    }

    /// Counts one attempt against each key, under a row lock, and returns when the first locked key unlocks, if
    /// one is locked or has just gone over its limit. Counting before the password is checked means that parallel
    /// guesses cannot slip past the limit.
    public func countAttempt(keys: [(key: String, limit: Int)], window: TimeInterval, lockFor: TimeInterval) async throws -> Date? {
        let now = store.now()
        let isPostgres = store.isPostgres
        return try await store.bookkeeping { db in
            let sql = db as! any SQLDatabase
            var locked: Date? = nil
            for (key, limit) in keys {
                let id = Self.hashToken(key)
                try await sql.insert(into: "sign_in_throttle").columns("id", "failures", "window_start").values(SQLBind(id), SQLBind(0), SQLBind(now))
                    .ignoringConflicts(with: ["id"]).run()
                guard let r = try await Self.lockedRow(id, db: db, sql: sql, isPostgres: isPostgres) else { continue }
                if let until = r.lockedUntil, until > now { locked = max(locked ?? until, until); continue }
                if now.timeIntervalSince(r.windowStart) > window || r.lockedUntil != nil { r.failures = 0; r.windowStart = now; r.lockedUntil = nil }
                r.failures += 1
                if r.failures > limit { r.lockedUntil = now.addingTimeInterval(lockFor); locked = max(locked ?? r.lockedUntil!, r.lockedUntil!) }
                try await r.save(on: db)
            }
            return locked
        }
    }

    static func lockedRow(_ id: String, db: any Database, sql: any SQLDatabase, isPostgres: Bool) async throws -> SignInThrottleRecord? {
        if isPostgres {
            // Lock the row for the rest of this transaction.
            _ = try await sql.select().column("id").from("sign_in_throttle").where("id", .equal, SQLBind(id)).for(.update).all()
        }
        return try await SignInThrottleRecord.find(id, on: db)
    }

    /// After a wrong password: keys whose attempts reached their limit are locked.
    public func lockIfAtLimit(keys: [(key: String, limit: Int)], lockFor: TimeInterval) async throws -> Date? {
        let now = store.now()
        let isPostgres = store.isPostgres
        return try await store.bookkeeping { db in
            let sql = db as! any SQLDatabase
            var locked: Date? = nil
            for (key, limit) in keys {
                guard let r = try await Self.lockedRow(Self.hashToken(key), db: db, sql: sql, isPostgres: isPostgres) else { continue }
                if r.failures >= limit {
                    let until = r.lockedUntil.map { max($0, now.addingTimeInterval(lockFor)) } ?? now.addingTimeInterval(lockFor)
                    r.lockedUntil = until
                    try await r.save(on: db)
                    locked = max(locked ?? until, until)
                }
            }
            return locked
        }
    }

    /// Counts a failed attempt against each key; a key reaching its limit within the window is locked.
    public func recordFailure(keys: [(key: String, limit: Int)], window: TimeInterval, lockFor: TimeInterval) async throws {
        _ = try await countAttempt(keys: keys, window: window, lockFor: lockFor)
        _ = try await lockIfAtLimit(keys: keys, lockFor: lockFor)
    }

    public func clearFailures(key: String) async throws {
        let id = Self.hashToken(key)
        try await store.bookkeeping { db in try await SignInThrottleRecord.query(on: db).filter(\.$id == id).delete() }
    }
}

extension Directory {
    public func hasUsers() async throws -> Bool {
        try await UserRecord.query(on: store.db).count() > 0
    }
}
