import Foundation
import Testing
@testable import JumysDomain

@Suite struct MoneyTests {
    @Test(arguments: [("50172.40", Int64(5_017_240)), ("50172.4", 5_017_240), ("50172", 5_017_200), ("-12.05", -1205), ("0,99", 99), (" 7 ", 700)])
    func parses(text: String, tiyn: Int64) {
        #expect(Money(string: text)?.tiyn == tiyn)
    }

    @Test(arguments: ["", "-", "1.234", "1.2.3", "abc", "1e5", ".5", "12 000"])
    func refusesMalformed(text: String) {
        #expect(Money(string: text) == nil)
    }

    @Test func formatsForTheAPIAndForPeople() {
        #expect(Money(tiyn: 5_017_240).decimalString == "50172.40")
        #expect(Money(tiyn: -5).decimalString == "-0.05")
        #expect(Money(tenge: 1_234_567).formatted() == "1\u{202F}234\u{202F}567,00")
    }

    @Test func multipliesWithNamedRounding() {
        let m = Money(tiyn: 1001)
        #expect(m.multiplied(by: 1, dividedBy: 2, rounding: .down).tiyn == 500)
        #expect(m.multiplied(by: 1, dividedBy: 2, rounding: .halfUp).tiyn == 501)
        #expect(m.multiplied(by: 1, dividedBy: 2, rounding: .up).tiyn == 501)
        #expect(Money(tiyn: -1001).multiplied(by: 1, dividedBy: 2, rounding: .down).tiyn == -501)
        #expect(Money(tiyn: -1001).multiplied(by: 1, dividedBy: 2, rounding: .halfUp).tiyn == -501)
        // 17.2 × MCI 2917 = 50172.40 tenge, exactly, as integer arithmetic.
        #expect(Money(tenge: 2917).multiplied(by: 172, dividedBy: 10, rounding: .halfUp).decimalString == "50172.40")
        // No overflow for large products.
        #expect(Money(tenge: 9_000_000_000).multiplied(by: 1_000_000, dividedBy: 1_000_000, rounding: .down) == Money(tenge: 9_000_000_000))
    }

    @Test func codesAsStringInJSON() throws {
        let data = try JSONEncoder().encode([Money(tiyn: 5_017_240)])
        #expect(String(decoding: data, as: UTF8.self) == #"["50172.40"]"#)
        #expect(try JSONDecoder().decode([Money].self, from: Data(#"["1.50"]"#.utf8)) == [Money(tiyn: 150)])
    }
}

@Suite struct CivilDateTests {
    @Test func roundTripsThroughDayNumbers() {
        var d = CivilDate(year: 1899, month: 12, day: 31)!
        for _ in 0..<60_000 {
            #expect(CivilDate(daysSinceEpoch: d.daysSinceEpoch) == d)
            d = d.adding(days: 1)
        }
        #expect(CivilDate(year: 1970, month: 1, day: 1)!.daysSinceEpoch == 0)
    }

    @Test func knowsWeekdays() {
        #expect(CivilDate(year: 2026, month: 11, day: 21)!.isoWeekday == 6) // Saturday
        #expect(CivilDate(year: 2021, month: 5, day: 1)!.isoWeekday == 6)
        #expect(CivilDate(year: 1970, month: 1, day: 1)!.isoWeekday == 4)
    }

    @Test func refusesImpossibleDates() {
        #expect(CivilDate(year: 2023, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 1900, month: 2, day: 29) == nil)
        #expect(CivilDate(iso: "2021-13-01") == nil)
        #expect(CivilDate(iso: "2021-1-01") == nil)
        #expect(CivilDate(iso: "2021-05-01")?.iso == "2021-05-01")
        // Exactly YYYY-MM-DD in ASCII digits: nothing more, less or else.
        for bad in ["", "2021-05-0", "2021-05-011", "2021-05-01 ", " 2021-05-01", "2021/05/01", "20210-5-01", "2021-05-0a", "２０２１-05-01", "2021-05-01\u{301}", "+021-05-01", "2021--5-01"] {
            #expect(CivilDate(iso: bad) == nil, "\(bad)")
        }
        #expect(CivilDate(iso: "on 2021-05-01".dropFirst(3)) == CivilDate(year: 2021, month: 5, day: 1))
        #expect(CivilDate(iso: "0001-01-01") == CivilDate(year: 1, month: 1, day: 1))
    }

    @Test func addsMonthsClampingTheDay() {
        #expect(CivilDate(year: 2021, month: 1, day: 31)!.adding(months: 1) == CivilDate(year: 2021, month: 2, day: 28))
        #expect(CivilDate(year: 2020, month: 11, day: 30)!.adding(months: 24) == CivilDate(year: 2022, month: 11, day: 30))
        #expect(CivilDate(year: 2020, month: 3, day: 15)!.adding(months: -3) == CivilDate(year: 2019, month: 12, day: 15))
    }

    @Test func kazakhstanDateTurnsAtMidnightUTCPlusFive() {
        // 2026-11-20 19:00 UTC is 00:00 on 21 November in Kazakhstan; one second earlier is still the 20th.
        let midnight = Date(timeIntervalSince1970: 1_795_201_200)
        #expect(CivilDate(kazakhstanAt: midnight).iso == "2026-11-21")
        #expect(CivilDate(kazakhstanAt: midnight.addingTimeInterval(-1)).iso == "2026-11-20")
    }

    @Test func computesAge() {
        let b = CivilDate(year: 2000, month: 6, day: 15)!
        #expect(b.age(on: CivilDate(year: 2029, month: 6, day: 14)!) == 28)
        #expect(b.age(on: CivilDate(year: 2029, month: 6, day: 15)!) == 29)
    }
}

@Suite struct TerritoryTests {
    @Test func regionCodes() {
        #expect(RegionCode("kz-71")?.iso == "KZ-71")
        #expect(RegionCode("KZ-71")?.number == "71")
        #expect(RegionCode("KZ-7") == nil)
        #expect(RegionCode("RU-71") == nil)
        #expect(KATOCode("710000000")?.regionNumber == "71")
        #expect(KATOCode("71000000") == nil)
    }

    @Test func onlyTheAnalystIsReadOnly() {
        #expect(Role.allCases.filter(\.isReadOnly) == [.analyst])
    }
}
