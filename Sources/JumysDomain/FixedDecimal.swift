/// A decimal number with four places held as an integer (units of 1/10,000): rates, percents, multiples of the MCI.
public struct FixedDecimal: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let scale: Int64 = 10_000
    public let units: Int64

    public init(units: Int64) { self.units = units }
    public init(_ whole: Int64) { self.units = whole * Self.scale }

    /// Parses "17.2", "0.01", "-3", "70000" (at most four decimals).
    public init?(_ raw: some StringProtocol) {
        var s = Substring(raw.trimmingSpaces)
        var negative = false
        if s.first == "-" { negative = true; s.removeFirst() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 14,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), let whole = Int64(parts[0]) else { return nil }
        var frac: Int64 = 0
        if parts.count == 2 {
            guard (1...4).contains(parts[1].count), let f = Int64(parts[1]) else { return nil }
            frac = f
            for _ in parts[1].count..<4 { frac *= 10 }
        }
        let u = whole * Self.scale + frac
        self.units = negative ? -u : u
    }

    /// The whole number, when there is no fraction.
    public var wholeValue: Int64? { units % Self.scale == 0 ? units / Self.scale : nil }

    /// "17.2", "6", "0.01": shortest exact form.
    public var description: String {
        let sign = units < 0 ? "-" : ""
        let a = units.magnitude
        let whole = a / UInt64(Self.scale)
        var frac = a % UInt64(Self.scale)
        guard frac != 0 else { return sign + String(whole) }
        var digits = 4
        while frac % 10 == 0 { frac /= 10; digits -= 1 }
        let f = String(frac)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - f.count) + f
    }

    /// Money × this number, rounded as named.
    public func times(_ money: Money, rounding: Money.Rounding) -> Money {
        money.multiplied(by: units, dividedBy: Self.scale, rounding: rounding)
    }

    /// Money × this many percent, rounded as named.
    public func percentOf(_ money: Money, rounding: Money.Rounding) -> Money {
        money.multiplied(by: units, dividedBy: Self.scale * 100, rounding: rounding)
    }

    public static func < (a: FixedDecimal, b: FixedDecimal) -> Bool { a.units < b.units }
}
