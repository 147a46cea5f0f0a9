import Foundation
import JumysDomain
import JumysRules
import JumysStore

/// The payroll's payment list for a month in a scope, as CSV and XLSX: every line, then totals by district
/// and by region (which add up to the grand total). Written while the lines stream from the database.
public enum PaymentList {
    public struct Totals: Sendable { public var lines = 0; public var total = Money.zero; public var byDistrict: [String: (Int, Money)] = [:]; public var byRegion: [String: (Int, Money)] = [:] }

    /// A short explanation for a spreadsheet cell: the rule and the arithmetic, without the parameter lines.
    static func shortExplanation(_ json: String) -> String {
        let steps = (try? JSONDecoder().decode([ExplanationStep].self, from: Data(json.utf8))) ?? []
        return steps.filter { $0.parameter == nil }.map { "\($0.rule): \($0.text)" }.joined(separator: " | ")
    }

    @discardableResult
    public static func write(month: Payroll.Month, scope: Scope, store: Store, translator: Translator, lang: Lang, csv csvURL: URL?, xlsx xlsxURL: URL?) async throws -> Totals {
        func t(_ k: String) -> String { translator.t(k, lang) }
        let headers = ["payroll.col.region", "payroll.col.district", "person.iin", "person.last_name", "person.first_name", "payroll.col.employer",
                       "application.measure", "payroll.col.month_index", "payroll.col.amount", "payroll.col.explanation"].map(t)
        var csv: FileHandle? = nil
        if let csvURL {
            FileManager.default.createFile(atPath: csvURL.path, contents: nil)
            csv = try FileHandle(forWritingTo: csvURL)
            // A byte-order mark so that spreadsheet programs read the Cyrillic correctly.
            csv?.write(Data([0xEF, 0xBB, 0xBF]))
            csv?.write(Data((headers.map(csvField).joined(separator: ",") + "\r\n").utf8))
        }
        let xlsx = try xlsxURL.map { try XLSXWriter(url: $0) }
        try xlsx?.beginSheet(t("payroll.sheet.lines"), columnWidths: [8, 20, 14, 16, 14, 30, 20, 8, 13, 70])
        xlsx?.header(headers)
        var totals = Totals()
        try await Payroll(store: store).lines(month: month, scope: scope) { page in
            for l in page {
                let district = lang == .kk ? l.district_name_kk : l.district_name_ru
                let employer = lang == .kk ? l.employer_name_kk : l.employer_name_ru
                let amount = Money(tiyn: l.amount)
                let row = [l.region_iso, district, l.iin, l.last_name, l.first_name, employer, t("measure.\(l.measure)"), String(l.month_index), amount.decimalString, shortExplanation(l.explanation)]
                csv?.write(Data((row.map(csvField).joined(separator: ",") + "\r\n").utf8))
                xlsx?.row([.text(row[0]), .text(row[1]), .text(row[2]), .text(row[3]), .text(row[4]), .text(row[5]), .text(row[6]), .number(row[7]), .amount(amount.decimalString), .wrapped(row[9])])
                totals.lines += 1
                totals.total += amount
                let dk = l.region_iso + "|" + district
                totals.byDistrict[dk] = ((totals.byDistrict[dk]?.0 ?? 0) + 1, (totals.byDistrict[dk]?.1 ?? .zero) + amount)
                totals.byRegion[l.region_iso] = ((totals.byRegion[l.region_iso]?.0 ?? 0) + 1, (totals.byRegion[l.region_iso]?.1 ?? .zero) + amount)
            }
        }
        try csv?.close()
        if let xlsx {
            xlsx.row([.text(t("payroll.total")), .text(""), .text(""), .text(""), .text(""), .text(""), .text(""), .number(String(totals.lines)), .amount(totals.total.decimalString)], style: 1)
            try xlsx.beginSheet(t("payroll.sheet.districts"), columnWidths: [8, 30, 12, 16])
            xlsx.header([t("payroll.col.region"), t("payroll.col.district"), t("payroll.col.lines"), t("payroll.col.amount")])
            for (k, v) in totals.byDistrict.sorted(by: { $0.key < $1.key }) {
                let parts = k.split(separator: "|", maxSplits: 1).map(String.init)
                xlsx.row([.text(parts[0]), .text(parts.count > 1 ? parts[1] : ""), .number(String(v.0)), .amount(v.1.decimalString)])
            }
            xlsx.row([.text(t("payroll.total")), .text(""), .number(String(totals.lines)), .amount(totals.total.decimalString)], style: 1)
            try xlsx.beginSheet(t("payroll.sheet.regions"), columnWidths: [10, 12, 16])
            xlsx.header([t("payroll.col.region"), t("payroll.col.lines"), t("payroll.col.amount")])
            for (k, v) in totals.byRegion.sorted(by: { $0.key < $1.key }) { xlsx.row([.text(k), .number(String(v.0)), .amount(v.1.decimalString)]) }
            xlsx.row([.text(t("payroll.total")), .number(String(totals.lines)), .amount(totals.total.decimalString)], style: 1)
            try xlsx.finish()
        }
        return totals
    }

    static func csvField(_ s: String) -> String {
        // Quote when needed; a leading = + - @ is neutralised so that a spreadsheet never runs it as a formula.
        var v = s
        if let f = v.first, "=+-@".contains(f), Double(v) == nil { v = "'" + v }
        return v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : v
    }
}
