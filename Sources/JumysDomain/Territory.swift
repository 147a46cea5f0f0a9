/// First-level region by its ISO 3166-2 code, e.g. `KZ-71` (Astana).
public struct RegionCode: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let iso: String

    public init?(_ raw: some StringProtocol) {
        let s = String(raw).uppercased()
        guard s.count == 5, s.hasPrefix("KZ-"), s.dropFirst(3).allSatisfy(\.isASCIIDigit) else { return nil }
        self.iso = s
    }

    /// The 20 first-level regions' codes (17 oblasts, 3 cities of republican significance).
    public static let known: Set<String> = ["KZ-10", "KZ-11", "KZ-15", "KZ-19", "KZ-23", "KZ-27", "KZ-31", "KZ-33", "KZ-35", "KZ-39",
                                            "KZ-43", "KZ-47", "KZ-55", "KZ-59", "KZ-61", "KZ-62", "KZ-63", "KZ-71", "KZ-75", "KZ-79"]
    public var isKnown: Bool { Self.known.contains(iso) }

    /// The two-digit number shared by the ISO code and the KATO prefix.
    public var number: String { String(iso.suffix(2)) }
    public var description: String { iso }
    public static func < (a: RegionCode, b: RegionCode) -> Bool { a.iso < b.iso }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let r = RegionCode(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected a region code such as KZ-71"))
        }
        self = r
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(iso)
    }
}

/// Classifier of administrative-territorial objects (КАТО): 9 digits, the first two being the region.
public struct KATOCode: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    public init?(_ raw: some StringProtocol) {
        let s = String(raw)
        guard s.count == 9, s.allSatisfy(\.isASCIIDigit) else { return nil }
        self.value = s
    }

    public var regionNumber: String { String(value.prefix(2)) }
    public var description: String { value }
}

/// The kinds of organisation that take part in the programmes.
public enum OrganisationKind: String, Sendable, Codable, CaseIterable {
    case ministry
    case akimat
    case employmentCentre = "employment_centre"
    case commission
    case contractor
    case creditOrganisation = "credit_organisation"
    case educationProvider = "education_provider"
    /// District authority for business development (C3 a) and the authority for engineering infrastructure (C3 d).
    case businessAuthority = "business_authority"
    case infrastructureAuthority = "infrastructure_authority"
}

/// Roles of users (DESIGN.md, "Who uses it").
public enum Role: String, Sendable, Codable, CaseIterable {
    case administrator
    case analyst
    case regionalCoordinator = "regional_coordinator"
    case akimatOfficer = "akimat_officer"
    case caseworker
    case commissionMember = "commission_member"
    case contractor
    case lender
    /// An officer of an outside authority that gives conclusions (business development, infrastructure).
    case authorityOfficer = "authority_officer"
    /// An officer of the authorised body (the programme operator, the Ministry of Labour) who consolidates the national list (E2).
    case ministryOfficer = "ministry_officer"

    /// Roles that may never change anything.
    public var isReadOnly: Bool { self == .analyst }
}

/// What part of the country a user may see; enforced in every query.
public enum Scope: Hashable, Sendable {
    case national
    case region(RegionCode)
    case district(Int64)
    case organisation(Int64)
}
