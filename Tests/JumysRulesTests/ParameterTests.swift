import Foundation
import JumysDomain
import Testing
@testable import JumysRules

@Suite struct ParameterTests {
    @Test func bundledParametersLoadAndCiteTheirRules() throws {
        let ps = try ParameterSet.bundled()
        #expect(ps.parameters.count >= 70)
        for p in ps.parameters.values {
            #expect(!p.reference.isEmpty)
            #expect(p.values == p.values.sorted { $0.effectiveFrom < $1.effectiveFrom })
        }
        let mci = try #require(ps["monthly_calculation_index"])
        #expect(mci.unit == .MCI || mci.unit == .KZT)
        #expect(mci.value(at: CivilDate(iso: "2020-03-31")!)?.value == FixedDecimal(2651))
        #expect(mci.value(at: CivilDate(iso: "2020-04-01")!)?.value == FixedDecimal(2778))
        #expect(mci.value(at: CivilDate(iso: "2022-04-01")!)?.value == FixedDecimal(3180))
        #expect(mci.value(at: CivilDate(iso: "2010-12-31")!) == nil)
        #expect(ps["youth_practice_monthly_mci"]?.value(at: CivilDate(iso: "2021-05-01")!)?.value.description == "17.2")
    }

    @Test func aBadFileNamesItsLine() {
        func err(_ text: String) -> ParameterFileError? {
            do { _ = try ParameterSet.parse(text, name: "x", file: "x.yaml"); return nil } catch let e as ParameterFileError { return e } catch { return nil }
        }
        let base = "description: \"d\"\nunit: KZT\nreference: \"B2\"\nvalues:\n  2020-01-01: 1\n"
        #expect(err(base) == nil)
        #expect(err(base.replacingOccurrences(of: "unit: KZT", with: "unit: dollars"))?.line == 2)
        #expect(err(base + "  2019-01-01: 2\n")?.line == 6)
        #expect(err(base + "colour: red\n")?.line == 6)
        #expect(err(base.replacingOccurrences(of: "reference: \"B2\"\n", with: "")) != nil)
        #expect(err(base + "  2021-01-01:\n    value: 2\n    note: x\n")?.line == 8)
        #expect(err(base + "  2021-01-01: 1.23456\n")?.line == 6)
        #expect(err("description: [unclosed\n") != nil)
    }

    @Test func anAdministratorsValueAppliesFromItsDate() throws {
        let ps = try ParameterSet.bundled()
        let added = ps.adding("monthly_calculation_index", ParameterValue(effectiveFrom: CivilDate(iso: "2027-01-01")!, value: FixedDecimal(4600), reference: "budget law 2027", source: .administrator(login: "admin", at: "2026-11-21T10:00:00Z")))
        #expect(try added.value("monthly_calculation_index", at: CivilDate(iso: "2026-12-31")!).value == FixedDecimal(4325))
        #expect(try added.value("monthly_calculation_index", at: CivilDate(iso: "2027-01-01")!).value == FixedDecimal(4600))
    }
}

@Suite struct CalendarTests {
    let cal = try! WorkCalendar.bundled()
    func d(_ s: String) -> CivilDate { CivilDate(iso: s)! }

    @Test func weekendsHolidaysAndTransfers() {
        #expect(!cal.isWorkingDay(d("2021-01-01")))   // New Year, Friday
        #expect(!cal.isWorkingDay(d("2021-01-04")))   // 2 January fell on a Saturday
        #expect(cal.isWorkingDay(d("2021-01-05")))
        #expect(!cal.isWorkingDay(d("2021-01-07")))   // Orthodox Christmas
        #expect(!cal.isWorkingDay(d("2021-03-24")))   // Nauryz 21 March was a Sunday
        #expect(cal.isWorkingDay(d("2021-03-25")))
        #expect(!cal.isWorkingDay(d("2021-05-10")))   // Victory Day on a Sunday
        #expect(!cal.isWorkingDay(d("2021-12-01")))   // First President's Day, until 2021
        #expect(cal.isWorkingDay(d("2022-12-01")))
        #expect(!cal.isWorkingDay(d("2022-10-25")))   // Republic Day from 2022
        #expect(cal.isWorkingDay(d("2021-10-25")))
        #expect(!cal.isWorkingDay(d("2026-11-21")))   // a Saturday
    }

    @Test func religiousHolidaysDoNotMove() {
        // 7 January 2024 was a Sunday: no day off on Monday 8 January.
        #expect(cal.isWorkingDay(d("2024-01-08")))
    }

    @Test func exceptionsOverrideTheLaw() {
        let c = cal.with(exceptions: [CalendarException(date: d("2021-07-20"), working: false, note: "Kurban ait"),
                                      CalendarException(date: d("2021-07-03"), working: true, note: "moved")])
        #expect(!c.isWorkingDay(d("2021-07-20")))
        #expect(c.isWorkingDay(d("2021-07-03")))
    }

    @Test func termsFollowH1H2H3() {
        #expect(cal.adding(workingDays: 3, to: d("2021-03-19")) == d("2021-03-29"))
        #expect(cal.adding(workingDays: 0, to: d("2021-03-21")) == d("2021-03-21"))
        #expect(cal.calendarTerm(days: 10, from: d("2021-03-11")).due == d("2021-03-25"))
        #expect(cal.byDayOfNextMonth(10, periodYear: 2021, periodMonth: 4).due == d("2021-05-11"))
        #expect(cal.monthTerm(months: 24, from: d("2021-05-01")).due == d("2023-05-02"))
    }
}

@Suite struct YearlyParameterTests {
    @Test func aYearlyValueHoldsForItsYearOnly() throws {
        let ps = try ParameterSet.bundled()
        let budget = try #require(ps["programme_budget_total"])
        #expect(budget.yearly)
        #expect(budget.value(at: CivilDate(iso: "2015-12-31")!)?.value == FixedDecimal(98_700_000_000))
        #expect(budget.value(at: CivilDate(iso: "2016-01-01")!) == nil)
        #expect(ps["programme_budget_direction4"]?.value(at: CivilDate(iso: "2013-06-01")!) == nil)
        #expect(ps["target_unemployment_rate"]?.value(at: CivilDate(iso: "2014-06-01")!)?.value.description == "5.6")
    }

    @Test func onlyYearIsAPeriod() {
        let text = "description: \"d\"\nunit: KZT\nreference: \"F3\"\nperiod: month\nvalues:\n  2020-01-01: 1\n"
        #expect(throws: ParameterFileError.self) { try ParameterSet.parse(text, name: "x", file: "x.yaml") }
    }
}
