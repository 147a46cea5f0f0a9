import ArgumentParser
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import JumysWeb
import Logging

struct PayrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "payroll",
        abstract: "Compute the month's youth practice and social job subsidies (idempotent) and write the payment list as CSV and XLSX.")

    @ArgumentParser.Option(help: "The month, YYYY-MM") var month: String
    @ArgumentParser.Option(help: "Folder for payments-YYYY-MM.csv and .xlsx") var out = "."
    @ArgumentParser.Option(help: "Language of the payment list: kk or ru") var lang = "ru"
    @ArgumentParser.Option(help: "Re-compute the month already paid and add correction lines with the differences, for this reason") var correct: String?
    @ArgumentParser.Option(help: "With --correct: only this placement") var placement: Int?

    func run() async throws {
        guard let m = Payroll.Month(month) else { throw RulesBoot.fail("--month: expected YYYY-MM") }
        guard let l = Lang(rawValue: lang) else { throw RulesBoot.fail("--lang: expected kk, ru or en") }
        let config = try Boot.config()
        let store = try await Boot.store(config, logger: Logger(label: "jumys.payroll"))
        let env = try await RulesStore(store: store).environment(files: try ParameterSet.bundled(), calendar: try WorkCalendar.bundled())
        let outcome = try await Payroll(store: store).run(month: m, env: env, by: Actor(userID: nil, login: "payroll")) { seen, added in
            FileHandle.standardError.write(Data("\r\(seen) placements read, \(added) lines added".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        if let reason = correct {
            do {
                let fixes = try await Payroll(store: store).correct(month: m, placement: placement, reason: reason, env: env, by: Actor(userID: nil, login: "payroll"))
                let sum = fixes.reduce(Money.zero) { $0 + $1.difference }
                print("corrections \(m): \(fixes.count) lines added (\(sum.decimalString) KZT in all)")
            } catch let e as FieldErrors { throw RulesBoot.fail("--correct: \(e.description)") }
        }
        let dir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let csv = dir.appendingPathComponent("payments-\(m).csv"), xlsx = dir.appendingPathComponent("payments-\(m).xlsx")
        let totals = try await PaymentList.write(month: m, scope: .national, store: store, translator: try Translator.bundled(), lang: l, csv: csv, xlsx: xlsx)
        print("payroll \(m): \(outcome.placements) placements running, \(outcome.added) lines added now (\(outcome.total.decimalString) KZT)")
        if outcome.held > 0 {
            print("held for lack of limit (direction 1, \(m.year)): \(outcome.held) lines, \(outcome.heldTotal.decimalString) KZT in \(outcome.heldRegions.sorted().joined(separator: ", ")); run again once the limits allow")
        }
        print("payment list: \(totals.lines) lines, \(totals.total.decimalString) KZT in \(totals.byDistrict.count) districts and \(totals.byRegion.count) regions")
        print("written: \(csv.path), \(xlsx.path)")
        await store.shutdown()
    }
}
