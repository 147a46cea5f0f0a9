import JumysDomain

/// Something that can be matched by occupation (ISCO-08 unit group) and place: a job seeker or a vacancy.
public struct MatchItem: Sendable, Equatable {
    public let id: Int
    /// ISCO-08 4-digit code as a number (0110 → 110), or nil when unknown.
    public let isco: Int?
    public let district: Int
    public let region: Int
    /// Higher is better among equals in occupation and place: priority groups and time registered for a
    /// seeker, wage for a vacancy (callers build it).
    public let rank: Int64
    public init(id: Int, isco: Int?, district: Int, region: Int, rank: Int64) {
        self.id = id; self.isco = isco; self.district = district; self.region = region; self.rank = rank
    }
}

/// Why an item is where it is in a ranked list.
public struct MatchReason: Sendable, Equatable {
    /// 4, 3, 2 or 1: how many leading ISCO digits agree.
    public let occupationLevel: Int
    public enum Place: Int, Sendable, Comparable { case elsewhere = 0, sameRegion = 1, sameDistrict = 2
        public static func < (a: Place, b: Place) -> Bool { a.rawValue < b.rawValue }
    }
    public let place: Place
    public let rank: Int64
}

/// An index of items by ISCO prefix (4 to 1 digits) and place (district, region, country), each bucket sorted
/// best first, so that the top N for a target is read off a few buckets — never by comparing everything with
/// everything. Order: occupation level, then place, then the item's rank, then id.
public struct MatchIndex: Sendable {
    let items: [MatchItem]
    let buckets: [UInt64: [Int32]]

    static func key(level: Int, prefix: Int, scope: Int, value: Int) -> UInt64 {
        // level 1–4 (3 bits) | scope 0 district, 1 region, 2 country (2 bits) | place value (32 bits) | prefix (14 bits)
        UInt64(level) << 60 | UInt64(scope) << 56 | UInt64(UInt32(truncatingIfNeeded: value)) << 16 | UInt64(prefix)
    }

    static func prefix(_ isco: Int, _ level: Int) -> Int {
        switch level { case 4: isco; case 3: isco / 10; case 2: isco / 100; default: isco / 1000 }
    }

    public init(_ items: [MatchItem]) {
        self.items = items
        var b: [UInt64: [Int32]] = [:]
        b.reserveCapacity(items.count / 2)
        for (i, it) in items.enumerated() {
            guard let isco = it.isco else { continue }
            for level in 1...4 {
                let p = Self.prefix(isco, level)
                b[Self.key(level: level, prefix: p, scope: 0, value: it.district), default: []].append(Int32(i))
                b[Self.key(level: level, prefix: p, scope: 1, value: it.region), default: []].append(Int32(i))
                b[Self.key(level: level, prefix: p, scope: 2, value: 0), default: []].append(Int32(i))
            }
        }
        for k in b.keys {
            b[k]!.sort { x, y in
                let a = items[Int(x)], c = items[Int(y)]
                return a.rank != c.rank ? a.rank > c.rank : a.id < c.id
            }
        }
        self.buckets = b
    }

    public var count: Int { items.count }

    /// The best `limit` items for a target, with their reasons (RULES.md A4 priorities enter through `rank`).
    public func top(for target: MatchItem, limit: Int = 20, excluding: Set<Int> = []) -> [(item: MatchItem, reason: MatchReason)] {
        guard let isco = target.isco, limit > 0 else { return [] }
        var out: [(MatchItem, MatchReason)] = []
        out.reserveCapacity(limit)
        for level in stride(from: 4, through: 1, by: -1) {
            let p = Self.prefix(isco, level)
            // Within a level: the district's, then the rest of the region's, then the rest of the country's.
            // A wider bucket is read only when the narrower one is used up, so skipping by attribute is exact.
            for scope in 0...2 {
                let value = scope == 0 ? target.district : (scope == 1 ? target.region : 0)
                guard let bucket = buckets[Self.key(level: level, prefix: p, scope: scope, value: value)] else { continue }
                for idx in bucket {
                    let it = items[Int(idx)]
                    if level < 4, let c = it.isco, Self.prefix(c, level + 1) == Self.prefix(isco, level + 1) { continue }
                    if scope >= 1 && it.district == target.district { continue }
                    if scope == 2 && it.region == target.region { continue }
                    if excluding.contains(it.id) { continue }
                    let place: MatchReason.Place = it.district == target.district ? .sameDistrict : (it.region == target.region ? .sameRegion : .elsewhere)
                    out.append((it, MatchReason(occupationLevel: level, place: place, rank: it.rank)))
                    if out.count == limit { return out }
                }
            }
        }
        return out
    }

    /// The same answer by brute force: every item scored and sorted (for tests and the benchmark's baseline).
    public func topByScanning(for target: MatchItem, limit: Int = 20) -> [(item: MatchItem, reason: MatchReason)] {
        guard let isco = target.isco else { return [] }
        var scored: [(MatchItem, MatchReason)] = []
        for it in items {
            guard let c = it.isco else { continue }
            var level = 0
            for l in stride(from: 4, through: 1, by: -1) where Self.prefix(c, l) == Self.prefix(isco, l) { level = l; break }
            guard level > 0 else { continue }
            let place: MatchReason.Place = it.district == target.district ? .sameDistrict : (it.region == target.region ? .sameRegion : .elsewhere)
            scored.append((it, MatchReason(occupationLevel: level, place: place, rank: it.rank)))
        }
        scored.sort { a, b in
            if a.1.occupationLevel != b.1.occupationLevel { return a.1.occupationLevel > b.1.occupationLevel }
            if a.1.place != b.1.place { return a.1.place > b.1.place }
            if a.1.rank != b.1.rank { return a.1.rank > b.1.rank }
            return a.0.id < b.0.id
        }
        return Array(scored.prefix(limit))
    }

    /// A seeker's rank: priority groups first (each counts), then days registered.
    public static func seekerRank(priorities: Int, daysRegistered: Int) -> Int64 { Int64(priorities) << 32 | Int64(max(0, daysRegistered)) }
}
