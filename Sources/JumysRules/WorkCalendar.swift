import Foundation
import JumysDomain

/// A public holiday as the law lists it, with the years it applied.
public struct Holiday: Sendable, Equatable {
    public enum Kind: String, Sendable { case national, state, religious }
    public let month: Int
    public let day: Int
    public let names: (kk: String, ru: String, en: String)
    public let kind: Kind
    public let firstYear: Int
    public let lastYear: Int?
    /// National and state holidays on a day off move to the next working day; religious ones do not.
    public let movesWhenOnWeekend: Bool

    public static func == (a: Holiday, b: Holiday) -> Bool { a.month == b.month && a.day == b.day && a.firstYear == b.firstYear }
}

/// A day an administrator declared non-working (Kurban ait, a day moved by decree) or working (a moved weekend day).
public struct CalendarException: Sendable, Equatable, Codable {
    public let date: CivilDate
    public let working: Bool
    public let note: String
    public init(date: CivilDate, working: Bool, note: String) { self.date = date; self.working = working; self.note = note }
}

/// Kazakhstan working days (RULES.md H1–H3): five-day week, public holidays, their transfer off weekends,
/// and the administrators' list of exceptions.
public struct WorkCalendar: Sendable {
    public let holidays: [Holiday]
    public let exceptions: [CivilDate: CalendarException]
    /// Legal days off precomputed for the years working days are asked about most.
    private let precomputed: [CivilDate: DayOff]
    static let precomputedYears = 2000...2060

    public init(holidays: [Holiday], exceptions: [CalendarException] = []) {
        self.holidays = holidays
        self.exceptions = Dictionary(exceptions.map { ($0.date, $0) }, uniquingKeysWith: { $1 })
        var table: [CivilDate: DayOff] = [:]
        for y in Self.precomputedYears { table.merge(Self.legalDaysOff(holidays: holidays, year: y)) { a, _ in a } }
        self.precomputed = table
    }

    private init(holidays: [Holiday], exceptions: [CivilDate: CalendarException], precomputed: [CivilDate: DayOff]) {
        self.holidays = holidays; self.exceptions = exceptions; self.precomputed = precomputed
    }

    public func with(exceptions: [CalendarException]) -> WorkCalendar {
        WorkCalendar(holidays: holidays, exceptions: Dictionary(exceptions.map { ($0.date, $0) }, uniquingKeysWith: { $1 }), precomputed: precomputed)
    }

    /// The holidays file shipped with the rules.
    public static func bundled() throws -> WorkCalendar {
        guard let url = Bundle.module.url(forResource: "holidays", withExtension: "csv") else {
            throw ParameterFileError(file: "holidays.csv", line: 0, message: "missing from the build")
        }
        return WorkCalendar(holidays: try parseHolidays(String(contentsOf: url, encoding: .utf8)))
    }

    static func parseHolidays(_ text: String) throws -> [Holiday] {
        var out: [Holiday] = []
        for (i, line) in text.split(whereSeparator: \.isNewline).enumerated() where i > 0 {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 9, let m = Int(f[0]), let d = Int(f[1]), let kind = Holiday.Kind(rawValue: f[5]), let first = Int(f[6]) else {
                throw ParameterFileError(file: "holidays.csv", line: i + 1, message: "expected month,day,name_en,name_ru,name_kk,kind,first_year,last_year,moves_when_on_weekend")
            }
            out.append(Holiday(month: m, day: d, names: (f[4], f[3], f[2]), kind: kind, firstYear: first,
                               lastYear: Int(f[7]), movesWhenOnWeekend: f[8] == "yes"))
        }
        return out
    }

    /// Why a day is not a working day, or nil when it is one.
    public enum DayOff: Sendable, Equatable {
        case weekend
        case holiday(en: String)
        case transferred(en: String)
        case exception(note: String)
    }

    /// The non-working days a year has by law (holidays and their transfers), before exceptions.
    public func legalDaysOff(year: Int) -> [CivilDate: DayOff] { Self.legalDaysOff(holidays: holidays, year: year) }

    static func legalDaysOff(holidays: [Holiday], year: Int) -> [CivilDate: DayOff] {
        var off: [CivilDate: DayOff] = [:]
        var toTransfer: [(CivilDate, String)] = []
        for h in holidays where h.firstYear <= year && (h.lastYear ?? Int.max) >= year {
            guard let d = CivilDate(year: year, month: h.month, day: h.day) else { continue }
            off[d] = .holiday(en: h.names.en)
            if d.isoWeekday >= 6 && h.movesWhenOnWeekend { toTransfer.append((d, h.names.en)) }
        }
        // Each holiday on a day off gives the next day that is neither a weekend nor a holiday nor already given.
        for (d, name) in toTransfer.sorted(by: { $0.0 < $1.0 }) {
            var n = d.adding(days: 1)
            while n.isoWeekday >= 6 || off[n] != nil { n = n.adding(days: 1) }
            off[n] = .transferred(en: name)
        }
        return off
    }

    /// nil when `date` is a working day; else why it is not.
    public func dayOff(_ date: CivilDate) -> DayOff? {
        if let e = exceptions[date] { return e.working ? nil : .exception(note: e.note) }
        if Self.precomputedYears.contains(date.year) {
            if let reason = precomputed[date] { return reason }
            return date.isoWeekday >= 6 ? .weekend : nil
        }
        if let reason = legalDaysOff(year: date.year)[date] { return reason }
        // A holiday late in December of the year before can transfer into January.
        if date.month == 1, let reason = legalDaysOff(year: date.year - 1)[date] { return reason }
        return date.isoWeekday >= 6 ? .weekend : nil
    }

    public func isWorkingDay(_ date: CivilDate) -> Bool { dayOff(date) == nil }

    /// The date `n` working days after `date` (the count starts the day after; H1).
    public func adding(workingDays n: Int, to date: CivilDate) -> CivilDate {
        precondition(n >= 0)
        var d = date
        var left = n
        while left > 0 {
            d = d.adding(days: 1)
            if isWorkingDay(d) { left -= 1 }
        }
        return d
    }

    /// The next working day on or after `date` (Civil Code art. 173; H2).
    public func onOrNextWorkingDay(_ date: CivilDate) -> CivilDate {
        var d = date
        while !isWorkingDay(d) { d = d.adding(days: 1) }
        return d
    }

    /// A term of `days` calendar days from the event, counted from the next day, ending on a working day (H3, H2).
    public func calendarTerm(days: Int, from event: CivilDate) -> (raw: CivilDate, due: CivilDate) {
        let raw = event.adding(days: days)
        return (raw, onOrNextWorkingDay(raw))
    }

    /// A term of `months` months from the event (H3), ending on a working day (H2).
    public func monthTerm(months: Int, from event: CivilDate) -> (raw: CivilDate, due: CivilDate) {
        let raw = event.adding(months: months)
        return (raw, onOrNextWorkingDay(raw))
    }

    /// "By the Nth of the month after the period", moved to the next working day when that day is off (H2).
    public func byDayOfNextMonth(_ day: Int, periodYear: Int, periodMonth: Int) -> (raw: CivilDate, due: CivilDate) {
        let first = CivilDate(year: periodYear, month: periodMonth, day: 1)!.adding(months: 1)
        let raw = CivilDate(year: first.year, month: first.month, day: min(day, CivilDate.daysIn(month: first.month, year: first.year)))!
        return (raw, onOrNextWorkingDay(raw))
    }
}
