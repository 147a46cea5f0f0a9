import Foundation
import JumysDomain
import Testing
import Yams
@testable import JumysRules

/// One YAML case (OpenFisca style).
struct RuleCase: CustomTestStringConvertible, Sendable {
    let file: String
    let name: String
    let rule: String
    let date: CivilDate
    let inputs: [String: String]
    let expectedJSON: String?
    let error: String?
    let exceptions: [CalendarException]
    var testDescription: String { "\(file): \(name)" }
}

enum Cases {
    static let directory = Bundle.module.url(forResource: "Cases", withExtension: nil)!

    static func scalarText(_ node: Node) -> String {
        if let s = node.scalar { return s.string }
        // Nested values (a JSON object given as YAML) are passed as JSON text.
        return jsonText(node)
    }

    /// A YAML node as JSON, with scalars typed the way the rule outputs are: quoted strings stay strings,
    /// plain numbers and booleans stay numbers and booleans, dates become strings.
    static func jsonText(_ node: Node) -> String {
        switch node {
        case .scalar(let s):
            if s.style == .plain {
                if s.string == "true" || s.string == "false" { return s.string }
                if Int(s.string) != nil || FixedDecimal(s.string) != nil { return FixedDecimal(s.string).map(\.description) ?? s.string }
            }
            return RuleOutput.text(s.string).json
        case .sequence(let seq): return "[" + seq.map(jsonText).joined(separator: ",") + "]"
        case .mapping(let m): return "{" + m.map { RuleOutput.text($0.key.string ?? "").json + ":" + jsonText($0.value) }.joined(separator: ",") + "}"
        case .alias: return "null"
        }
    }

    static func load() throws -> [RuleCase] {
        var out: [RuleCase] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where file.hasSuffix(".yaml") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            guard let seq = try Yams.compose(yaml: text)?.sequence else { throw RuleInputError(file, "expected a list of cases") }
            for item in seq {
                guard let m = item.mapping, let name = m["name"]?.string, let rule = m["rule"]?.string,
                      let ds = m["date"]?.string, let date = CivilDate(iso: ds) else { throw RuleInputError(file, "a case needs name, rule, date") }
                var inputs: [String: String] = [:]
                for (k, v) in m["inputs"]?.mapping ?? [:] { inputs[k.string ?? ""] = scalarText(v) }
                let exceptions = (m["calendar_exceptions"]?.sequence ?? []).compactMap { e -> CalendarException? in
                    guard let em = e.mapping, let d = em["date"]?.string.flatMap(CivilDate.init(iso:)) else { return nil }
                    return CalendarException(date: d, working: em["working"]?.string == "true", note: em["note"]?.string ?? "")
                }
                out.append(RuleCase(file: file, name: name, rule: rule, date: date, inputs: inputs,
                                    expectedJSON: m["expected"].map(jsonText), error: m["error"]?.string, exceptions: exceptions))
            }
        }
        return out
    }

    /// Parsed JSON compared as values (so 90 and 90.0 or key order do not matter).
    static func same(_ a: String, _ b: String) -> Bool {
        guard let x = try? JSONDecoder().decode(JSONValue.self, from: Data(a.utf8)),
              let y = try? JSONDecoder().decode(JSONValue.self, from: Data(b.utf8)) else { return a == b }
        return x == y
    }
}

let environment = (try! ParameterSet.bundled(), try! WorkCalendar.bundled())

@Suite struct RuleCaseTests {
    @Test(arguments: try! Cases.load())
    func ruleCase(_ c: RuleCase) throws {
        let spec = try #require(RuleCatalogue.byName[c.rule], "unknown rule \(c.rule)")
        let ctx = RuleContext(date: c.date, parameters: environment.0, calendar: environment.1.with(exceptions: c.exceptions))
        if let expectedError = c.error {
            do {
                let r = try spec(RuleInputs(c.inputs), ctx)
                Issue.record("expected an error containing \"\(expectedError)\", got \(r.value.json)")
            } catch {
                #expect(String(describing: error).contains(expectedError), "error was: \(error)")
            }
            return
        }
        let result = try spec(RuleInputs(c.inputs), ctx)
        let expected = try #require(c.expectedJSON)
        #expect(Cases.same(result.value.json, expected), "got \(result.value.json), expected \(expected)")
        #expect(!result.steps.isEmpty, "every result carries its explanation")
    }

    @Test func everyRuleHasCases() throws {
        let covered = Set(try Cases.load().map(\.rule))
        let missing = RuleCatalogue.all.map(\.name).filter { !covered.contains($0) }
        #expect(missing == [])
    }

    @Test func youthPracticeExplanationNamesTheMCIItsValueAndDate() throws {
        let ctx = RuleContext(date: CivilDate(iso: "2021-05-01")!, parameters: environment.0, calendar: environment.1)
        let r = try Rules.youthPracticeSubsidy(month: 1, ctx)
        let mci = try #require(r.steps.first { $0.parameter == "monthly_calculation_index" })
        #expect(mci.value == "2917")
        #expect(mci.effectiveFrom == CivilDate(iso: "2021-01-01"))
        #expect(r.steps.allSatisfy { $0.rule == "B2" })
    }

    @Test func schedulesSumExactlyForManyShapes() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let principal = Money(tiyn: Int64.random(in: 1...50_000_000_000, using: &rng))
            let term = Int.random(in: 1...120, using: &rng)
            let grace = Int.random(in: 0..<term, using: &rng)
            let rate = FixedDecimal(units: Int64.random(in: 0...250_000, using: &rng))
            for method in Rules.ScheduleMethod.allCases {
                let s = try Rules.loanSchedule(principal: principal, ratePercent: rate, termMonths: term, graceMonths: grace, method: method, startDate: CivilDate(iso: "2021-01-31")!)
                #expect(s.value.reduce(Money.zero) { $0 + $1.principal } == principal)
                #expect(s.value.last?.balance == .zero)
                #expect(s.value.allSatisfy { $0.principal.tiyn >= 0 && $0.interest.tiyn >= 0 })
                #expect(s.value.prefix(grace).allSatisfy { $0.principal == .zero })
            }
        }
    }

    @Test func allocationSumsExactlyToTheTotal() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var lf: [String: FixedDecimal] = [:]
            for code in RegionCode.known.shuffled(using: &rng).prefix(Int.random(in: 1...20, using: &rng)) {
                lf[code] = FixedDecimal(units: Int64.random(in: 1...20_000_000, using: &rng))
            }
            let total = Money(tenge: Int64.random(in: 0...500_000_000_000, using: &rng))
            let r = try Rules.regionalLimitAllocation(total: total, labourForce: lf)
            #expect(r.value.reduce(Money.zero) { $0 + $1.amount } == total)
        }
    }
}

/// Any JSON value, compared by meaning.
enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), number(Decimal), string(String), array([JSONValue]), object([String: JSONValue])
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Decimal.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}
