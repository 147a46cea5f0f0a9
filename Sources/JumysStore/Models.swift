import FluentKit
import Foundation

/// A first-level region (oblast or city of republican significance).
public final class RegionRecord: Model, @unchecked Sendable {
    public static let schema = "regions"
    @ID(custom: "iso", generatedBy: .user) public var id: String?
    @Field(key: "kato") public var kato: String
    @Field(key: "kind") public var kind: String
    @Field(key: "name_kk") public var nameKk: String
    @Field(key: "name_ru") public var nameRu: String
    @Field(key: "name_en") public var nameEn: String
    /// Labour force in persons (ILO method) for the quarter the statistics refer to.
    @Field(key: "labour_force") public var labourForce: Int
    @Field(key: "unemployed") public var unemployed: Int
    public init() {}
}

/// A district (or city) inside a region; employment centres serve one each.
public final class DistrictRecord: Model, @unchecked Sendable {
    public static let schema = "districts"
    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "region_iso") public var regionISO: String
    @Field(key: "kato") public var kato: String
    @Field(key: "name_kk") public var nameKk: String
    @Field(key: "name_ru") public var nameRu: String
    @Field(key: "name_en") public var nameEn: String
    @Field(key: "settlement_kind") public var settlementKind: String
    public init() {}
}

/// An organisation taking part in the programmes (ministry, akimat, centre, commission, contractor, lender, provider).
public final class OrganisationRecord: Model, @unchecked Sendable {
    public static let schema = "organisations"
    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "code") public var code: String
    @Field(key: "kind") public var kind: String
    @OptionalField(key: "region_iso") public var regionISO: String?
    @OptionalField(key: "district_id") public var districtID: Int?
    @OptionalField(key: "bin") public var bin: String?
    @Field(key: "name_kk") public var nameKk: String
    @Field(key: "name_ru") public var nameRu: String
    @Field(key: "name_en") public var nameEn: String
    public init() {}
}

/// A person who signs in, with a role and the territory or organisation it may act for.
public final class UserRecord: Model, @unchecked Sendable {
    public static let schema = "users"
    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "login") public var login: String
    @Field(key: "password_hash") public var passwordHash: String
    @Field(key: "role") public var role: String
    @Field(key: "display_name") public var displayName: String
    @OptionalField(key: "region_iso") public var regionISO: String?
    @OptionalField(key: "district_id") public var districtID: Int?
    @OptionalField(key: "organisation_id") public var organisationID: Int?
    @Field(key: "active") public var active: Bool
    @Field(key: "created_at") public var createdAt: Date
    public init() {}
}

/// A signed-in session (web cookie or API bearer token), stored by the SHA-256 of its secret.
public final class SessionRecord: Model, @unchecked Sendable {
    public static let schema = "sessions"
    @ID(custom: "id", generatedBy: .user) public var id: String?
    @Field(key: "user_id") public var userID: Int
    @Field(key: "kind") public var kind: String
    @Field(key: "csrf_token") public var csrfToken: String
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "last_seen_at") public var lastSeenAt: Date
    @Field(key: "expires_at") public var expiresAt: Date
    public init() {}
}

/// Failed sign-in counters per account and per address (keys are hashed).
public final class SignInThrottleRecord: Model, @unchecked Sendable {
    public static let schema = "sign_in_throttle"
    @ID(custom: "id", generatedBy: .user) public var id: String?
    @Field(key: "failures") public var failures: Int
    @Field(key: "window_start") public var windowStart: Date
    @OptionalField(key: "locked_until") public var lockedUntil: Date?
    public init() {}
}

/// A person in the registry.
public final class PersonRecord: Model, @unchecked Sendable {
    public static let schema = "persons"
    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "iin") public var iin: String
    @Field(key: "last_name") public var lastName: String
    @Field(key: "first_name") public var firstName: String
    @OptionalField(key: "middle_name") public var middleName: String?
    /// Lower-cased "last first middle", for prefix search.
    @Field(key: "search_name") public var searchName: String
    @Field(key: "birth_date") public var birthDate: String
    @Field(key: "sex") public var sex: String
    @Field(key: "region_iso") public var regionISO: String
    @Field(key: "district_id") public var districtID: Int
    @OptionalField(key: "settlement") public var settlement: String?
    @Field(key: "is_rural") public var isRural: Bool
    @OptionalField(key: "phone") public var phone: String?
    @OptionalField(key: "email") public var email: String?
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "updated_at") public var updatedAt: Date
    public init() {}

    public static func searchName(last: String, first: String, middle: String?) -> String {
        [last, first, middle ?? ""].filter { !$0.isEmpty }.joined(separator: " ").lowercased()
    }
}
