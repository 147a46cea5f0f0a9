/// Sex as encoded in the 7th digit of an IIN.
public enum Sex: String, Sendable, Codable, CaseIterable {
    case male, female
}

/// Why an identification number was refused.
public enum IdentifierError: Error, Equatable, Sendable {
    case notTwelveDigits
    case badCheckDigit
    case badDate
    case badCenturyDigit
    case badEntityKind
}

/// The check digit shared by IIN and BIN: weights 1…11 mod 11; on 10 the weights 3…11,1,2; 10 again is invalid.
public enum KazakhCheckDigit {
    static let first = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    static let second = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]

    /// The check digit for 11 leading digits, or nil when the number cannot have one.
    public static func compute(_ digits: [Int]) -> Int? {
        precondition(digits.count >= 11)
        var s = 0
        for i in 0..<11 { s += digits[i] * first[i] }
        var c = s % 11
        if c == 10 {
            s = 0
            for i in 0..<11 { s += digits[i] * second[i] }
            c = s % 11
            if c == 10 { return nil }
        }
        return c
    }

    static func digits(_ s: some StringProtocol) -> [Int]? {
        guard s.utf8.count == 12 else { return nil }
        var out: [Int] = []
        out.reserveCapacity(12)
        for b in s.utf8 {
            guard b >= 48, b <= 57 else { return nil }
            out.append(Int(b - 48))
        }
        return out
    }
}

/// Individual identification number (ЖСН / ИИН): 12 digits, YYMMDD, century-and-sex digit, serial, check digit.
public struct IIN: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String
    public let birthDate: CivilDate
    public let sex: Sex

    public init(_ raw: some StringProtocol) throws(IdentifierError) {
        let trimmed = raw.trimmingSpaces
        guard let d = KazakhCheckDigit.digits(trimmed) else { throw .notTwelveDigits }
        guard let check = KazakhCheckDigit.compute(d), check == d[11] else { throw .badCheckDigit }
        let centuryBase: Int
        switch d[6] {
        case 1, 2: centuryBase = 1800
        case 3, 4: centuryBase = 1900
        case 5, 6: centuryBase = 2000
        default: throw .badCenturyDigit
        }
        let yy = d[0] * 10 + d[1], mm = d[2] * 10 + d[3], dd = d[4] * 10 + d[5]
        guard let date = CivilDate(year: centuryBase + yy, month: mm, day: dd) else { throw .badDate }
        self.value = trimmed
        self.birthDate = date
        self.sex = d[6] % 2 == 1 ? .male : .female
    }

    /// Builds a valid IIN for a birth date, sex and 4-digit serial; nil when that serial has no check digit.
    public static func make(birthDate: CivilDate, sex: Sex, serial: Int) -> IIN? {
        let centuryDigit: Int
        switch birthDate.year {
        case 1800..<1900: centuryDigit = sex == .male ? 1 : 2
        case 1900..<2000: centuryDigit = sex == .male ? 3 : 4
        case 2000..<2100: centuryDigit = sex == .male ? 5 : 6
        default: return nil
        }
        let yy = birthDate.year % 100
        var d = [yy / 10, yy % 10, birthDate.month / 10, birthDate.month % 10, birthDate.day / 10, birthDate.day % 10, centuryDigit]
        let s = ((serial % 10000) + 10000) % 10000
        d += [s / 1000, s / 100 % 10, s / 10 % 10, s % 10]
        guard let c = KazakhCheckDigit.compute(d) else { return nil }
        return try? IIN(d.map(String.init).joined() + String(c))
    }

    /// The IIN with its middle digits hidden, for the few places that must show which record it is.
    public var masked: String { String(value.prefix(2)) + "••••••••" + String(value.suffix(2)) }

    public var description: String { masked }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        do { self = try IIN(s) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid IIN"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

/// Business identification number (БСН / БИН): 12 digits with the same check digit as the IIN.
public struct BIN: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ raw: some StringProtocol) throws(IdentifierError) {
        let trimmed = raw.trimmingSpaces
        guard let d = KazakhCheckDigit.digits(trimmed) else { throw .notTwelveDigits }
        guard let check = KazakhCheckDigit.compute(d), check == d[11] else { throw .badCheckDigit }
        // Digit 5 is the kind of entity (4 resident legal entity, 5 non-resident, 6 IE): only 4-6 exist.
        guard (4...6).contains(d[4]) else { throw .badEntityKind }
        self.value = trimmed
    }

    /// Builds a valid BIN from registration year/month, entity kind digit and a serial.
    public static func make(year: Int, month: Int, kind: Int = 4, serial: Int) -> BIN? {
        let yy = year % 100
        var d = [yy / 10, yy % 10, month / 10, month % 10, kind, 0]
        let s = ((serial % 100000) + 100000) % 100000
        d += [s / 10000, s / 1000 % 10, s / 100 % 10, s / 10 % 10, s % 10]
        guard let c = KazakhCheckDigit.compute(d) else { return nil }
        return try? BIN(d.map(String.init).joined() + String(c))
    }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        do { self = try BIN(s) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid BIN"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
