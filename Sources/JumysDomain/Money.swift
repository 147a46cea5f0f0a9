/// An amount of tenge held as whole tiyn (1 tenge = 100 tiyn). Never a floating-point number.
public struct Money: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var tiyn: Int64

    public init(tiyn: Int64) { self.tiyn = tiyn }
    public init(tenge: Int64) { self.tiyn = tenge * 100 }
    public static let zero = Money(tiyn: 0)

    /// Parses "50172.40", "50172.4", "50172", "-12.05" (a dot or comma, at most two decimals).
    public init?(string raw: some StringProtocol) {
        var s = Substring(raw.trimmingSpaces)
        var negative = false
        if s.first == "-" { negative = true; s.removeFirst() }
        let parts = s.split(separator: s.contains(",") ? "," : ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), parts[0].count <= 15,
              let whole = Int64(parts[0]) else { return nil }
        var frac: Int64 = 0
        if parts.count == 2 {
            guard (1...2).contains(parts[1].count), let f = Int64(parts[1]) else { return nil }
            frac = parts[1].count == 1 ? f * 10 : f
        }
        let t = whole * 100 + frac
        self.tiyn = negative ? -t : t
    }

    /// "50172.40": tenge with two decimals, no grouping (the API form).
    public var decimalString: String {
        let sign = tiyn < 0 ? "-" : ""
        let a = tiyn.magnitude
        let f = a % 100
        return "\(sign)\(a / 100).\(f < 10 ? "0" : "")\(f)"
    }

    /// "50 172,40 ₸"-style grouping for people: groups of three with a narrow space.
    public func formatted(decimalSeparator: String = ",") -> String {
        let sign = tiyn < 0 ? "-" : ""
        let a = tiyn.magnitude
        var whole = String(a / 100)
        var groups: [Substring] = []
        while whole.count > 3 {
            groups.insert(Substring(whole.suffix(3)), at: 0)
            whole.removeLast(3)
        }
        groups.insert(Substring(whole), at: 0)
        let f = a % 100
        return sign + groups.joined(separator: "\u{202F}") + decimalSeparator + (f < 10 ? "0" : "") + String(f)
    }

    public var description: String { decimalString }

    public static func + (a: Money, b: Money) -> Money { Money(tiyn: a.tiyn + b.tiyn) }
    public static func - (a: Money, b: Money) -> Money { Money(tiyn: a.tiyn - b.tiyn) }
    public static func += (a: inout Money, b: Money) { a.tiyn += b.tiyn }
    public static func -= (a: inout Money, b: Money) { a.tiyn -= b.tiyn }
    public static func * (a: Money, n: Int64) -> Money { Money(tiyn: a.tiyn * n) }
    public static func < (a: Money, b: Money) -> Bool { a.tiyn < b.tiyn }
    public static prefix func - (a: Money) -> Money { Money(tiyn: -a.tiyn) }

    /// How a division that does not come out even is settled; every call site names one.
    public enum Rounding: Sendable { case down, halfUp, up }

    /// self × numerator / denominator, rounded as named, without overflow for amounts of this domain.
    public func multiplied(by numerator: Int64, dividedBy denominator: Int64, rounding: Rounding) -> Money {
        precondition(denominator > 0)
        let (hi, lo) = tiyn.multipliedFullWidth(by: numerator)
        let (q, r) = denominator.dividingFullWidth((hi, lo))
        var result = q
        if r != 0 {
            let positive = (r > 0)
            switch rounding {
            case .down: if !positive { result -= 1 }
            case .up: if positive { result += 1 }
            case .halfUp:
                let twice = r.magnitude * 2
                if twice >= denominator.magnitude { result += positive ? 1 : -1 }
            }
        }
        return Money(tiyn: result)
    }

    public static func min(_ a: Money, _ b: Money) -> Money { a < b ? a : b }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self), let m = Money(string: s) { self = m; return }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected an amount in tenge as a string, e.g. \"50172.40\""))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(decimalString)
    }
}
