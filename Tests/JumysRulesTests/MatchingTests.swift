import JumysDomain
import Testing
@testable import JumysRules

@Suite struct MatchingTests {
    func seekers(_ n: Int, seed: UInt64) -> [MatchItem] {
        var g = SplitMix(seed)
        return (0..<n).map { i in
            MatchItem(id: i + 1, isco: g.next(10) == 0 ? nil : 1000 + Int(g.next(60)) * 100 + Int(g.next(3)) * 10 + Int(g.next(2)),
                      district: Int(g.next(12)), region: 0, rank: MatchIndex.seekerRank(priorities: Int(g.next(3)), daysRegistered: Int(g.next(400))))
        }.map { MatchItem(id: $0.id, isco: $0.isco, district: $0.district, region: $0.district / 4, rank: $0.rank) }
    }

    @Test func theIndexAgreesWithScanningEverything() {
        let items = seekers(3000, seed: 7)
        let index = MatchIndex(items)
        var g = SplitMix(11)
        for _ in 0..<300 {
            let target = MatchItem(id: 0, isco: 1000 + Int(g.next(60)) * 100 + Int(g.next(3)) * 10 + Int(g.next(2)), district: Int(g.next(12)), region: 0, rank: 0)
            let t = MatchItem(id: 0, isco: target.isco, district: target.district, region: target.district / 4, rank: 0)
            let fast = index.top(for: t, limit: 20).map { "\($0.item.id):\($0.reason.occupationLevel):\($0.reason.place.rawValue)" }
            let slow = index.topByScanning(for: t, limit: 20).map { "\($0.item.id):\($0.reason.occupationLevel):\($0.reason.place.rawValue)" }
            #expect(fast == slow)
        }
    }

    @Test func occupationBeatsPlaceAndPlaceBeatsRank() {
        let items = [
            MatchItem(id: 1, isco: 7112, district: 9, region: 2, rank: 5),      // exact code, other region
            MatchItem(id: 2, isco: 7113, district: 1, region: 1, rank: 99),     // 3 digits, same district
            MatchItem(id: 3, isco: 7112, district: 1, region: 1, rank: 1),      // exact, same district
            MatchItem(id: 4, isco: 7112, district: 2, region: 1, rank: 50),     // exact, same region
            MatchItem(id: 5, isco: 2512, district: 1, region: 1, rank: 1000),   // no match at all
            MatchItem(id: 6, isco: nil, district: 1, region: 1, rank: 1000),
        ]
        let top = MatchIndex(items).top(for: MatchItem(id: 0, isco: 7112, district: 1, region: 1, rank: 0))
        #expect(top.map(\.item.id) == [3, 4, 1, 2])
        #expect(top.map(\.reason.occupationLevel) == [4, 4, 4, 3])
        #expect(top.map(\.reason.place) == [.sameDistrict, .sameRegion, .elsewhere, .sameDistrict])
    }
}

/// A tiny seeded generator for tests.
struct SplitMix {
    var s: UInt64
    init(_ seed: UInt64) { s = seed }
    mutating func next(_ bound: UInt64) -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (z ^ (z >> 31)) % bound
    }
}
