import Foundation
import JumysDomain

/// A rule's result in a form every front end can print: JSON for the API and `--json`, a table for people.
/// Money is a string in tenge with two decimals, dates `YYYY-MM-DD`, counts integers, areas and percents numbers.
public indirect enum RuleOutput: Sendable, Equatable {
    case money(Money)
    case date(CivilDate)
    case count(Int)
    case number(FixedDecimal)
    case bool(Bool)
    case text(String)
    case list([RuleOutput])
    case object([(String, RuleOutput)])

    public static func == (a: RuleOutput, b: RuleOutput) -> Bool { a.json == b.json }

    /// An explanation as JSON: rule, text, and the parameter with its value and effective date where one was used.
    public static func steps(_ steps: [ExplanationStep]) -> RuleOutput {
        .list(steps.map { s in
            var kv: [(String, RuleOutput)] = [("rule", .text(s.rule)), ("text", .text(s.text))]
            if let p = s.parameter { kv.append(("parameter", .text(p))) }
            if let v = s.value { kv.append(("value", .text(v))) }
            if let d = s.effectiveFrom { kv.append(("effective_from", .date(d))) }
            return .object(kv)
        })
    }

    /// Compact JSON with keys in the order the rule gives them.
    public var json: String {
        switch self {
        case .money(let m): return "\"\(m.decimalString)\""
        case .date(let d): return "\"\(d.iso)\""
        case .count(let n): return String(n)
        case .number(let f): return f.description
        case .bool(let b): return b ? "true" : "false"
        case .text(let s): return Self.quote(s)
        case .list(let xs): return "[" + xs.map(\.json).joined(separator: ",") + "]"
        case .object(let kv): return "{" + kv.map { Self.quote($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        }
    }

    /// A readable form for people (used by `jumys calc` without `--json`).
    public var plain: String {
        switch self {
        case .money(let m): return m.decimalString + " KZT"
        case .date(let d): return d.iso
        case .count(let n): return String(n)
        case .number(let f): return f.description
        case .bool(let b): return b ? "yes" : "no"
        case .text(let s): return s
        case .list(let xs): return xs.isEmpty ? "—" : xs.map(\.plain).joined(separator: ", ")
        case .object(let kv): return kv.map { "\($0.0): \($0.1.plain)" }.joined(separator: "; ")
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// Inputs to a rule by name, as text (from `name=value`, JSON, or a batch line).
public struct RuleInputs: Sendable {
    public var values: [String: String]
    public init(_ values: [String: String]) { self.values = values }

    /// Inputs from a decoded JSON object: strings as they are, numbers with their digits, booleans as
    /// true/false, objects as JSON text. (JSON booleans arrive as a boolean NSNumber; 1 and 0 stay numbers.)
    public init(json: [String: Any]) {
        var v: [String: String] = [:]
        for (k, x) in json { v[k] = Self.text(fromJSON: x) }
        self.values = v
    }

    public static func text(fromJSON v: Any) -> String {
        switch v {
        case let s as String: return s
        case let n as NSNumber:
            if String(describing: type(of: v)).contains("Boolean") || type(of: v) == Bool.self { return n.boolValue ? "true" : "false" }
            return n.stringValue
        case let d as [String: Any]:
            return (try? String(decoding: JSONSerialization.data(withJSONObject: d, options: [.sortedKeys]), as: UTF8.self)) ?? "{}"
        default: return String(describing: v)
        }
    }

    func raw(_ name: String) throws -> String {
        guard let v = values[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { throw RuleInputError(name, "is required") }
        return v
    }
    func int(_ name: String) throws -> Int {
        let s = try raw(name)
        guard let n = Int(s) else { throw RuleInputError(name, "expected a whole number, got \"\(s.prefix(40))\"") }
        return n
    }
    func money(_ name: String) throws -> Money {
        let s = try raw(name)
        guard let m = Money(string: s) else { throw RuleInputError(name, "expected an amount in tenge such as 50172.40, got \"\(s.prefix(40))\"") }
        return m
    }
    func decimal(_ name: String) throws -> FixedDecimal {
        let s = try raw(name)
        guard let d = FixedDecimal(s) else { throw RuleInputError(name, "expected a number with at most four decimals, got \"\(s.prefix(40))\"") }
        return d
    }
    /// Dates the rules can be asked about: terms and schedules run up to 50 years past them, well inside the calendar.
    public static let dateRange = CivilDate(year: 1900, month: 1, day: 1)!...CivilDate(year: 2200, month: 12, day: 31)!

    func date(_ name: String) throws -> CivilDate {
        let s = try raw(name)
        guard let d = CivilDate(iso: s) else { throw RuleInputError(name, "expected a date YYYY-MM-DD, got \"\(s.prefix(40))\"") }
        guard Self.dateRange.contains(d) else { throw RuleInputError(name, "must be between 1900-01-01 and 2200-12-31") }
        return d
    }
    func bool(_ name: String) throws -> Bool {
        switch try raw(name).lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        case let s: throw RuleInputError(name, "expected true or false, got \"\(s.prefix(40))\"")
        }
    }
    func categories(_ name: String) throws -> Set<PersonCategory> {
        let s = values[name]?.trimmingCharacters(in: .whitespaces) ?? ""
        var out = Set<PersonCategory>()
        for part in s.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            guard let c = PersonCategory(rawValue: t) else { throw RuleInputError(name, "unknown category \"\(t.prefix(40))\"") }
            out.insert(c)
        }
        return out
    }
    func choice<E: RawRepresentable & CaseIterable>(_ name: String, _: E.Type) throws -> E where E.RawValue == String {
        let s = try raw(name)
        guard let e = E(rawValue: s) else { throw RuleInputError(name, "expected one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(s.prefix(40))\"") }
        return e
    }
}

/// What a rule takes and gives, for `GET /api/v1/rules` and `jumys calc --help`.
public struct RuleSpec: Sendable {
    public struct Input: Sendable { public let name: String; public let type: String; public let description: String }
    public let name: String
    public let references: [String]
    public let summary: String
    public let inputs: [Input]
    public let output: String
    let evaluate: @Sendable (RuleInputs, RuleContext) throws -> Explained<RuleOutput>

    /// Evaluates the rule; input errors name the input, a rule not in force on the date says so.
    public func callAsFunction(_ inputs: RuleInputs, _ c: RuleContext) throws -> Explained<RuleOutput> {
        let known = Set(self.inputs.map(\.name))
        if let unknown = inputs.values.keys.sorted().first(where: { !known.contains($0) }) {
            throw RuleInputError(unknown, "is not an input of \(name) (inputs: \(self.inputs.isEmpty ? "none" : self.inputs.map(\.name).joined(separator: ", ")))")
        }
        return try evaluate(inputs, c)
    }
}

/// Every rule, by name.
public enum RuleCatalogue {
    typealias I = RuleSpec.Input

    public static let all: [RuleSpec] = [
        RuleSpec(name: "iin_info", references: ["IIN structure"], summary: "Checks an IIN and reads the birth date and sex from it",
                 inputs: [I(name: "iin", type: "string", description: "12 digits")], output: "{valid, birth_date, sex}") { i, _ in
            let s = try i.raw("iin")
            do {
                let iin = try IIN(s)
                return Explained(.object([("valid", .bool(true)), ("birth_date", .date(iin.birthDate)), ("sex", .text(iin.sex.rawValue))]),
                                 steps: [ExplanationStep(rule: "IIN", text: "digits 1–6 give the birth date, digit 7 the century and sex, digit 12 checks the other 11 (weights 1…11 mod 11, then 3…11,1,2)")])
            } catch {
                return Explained(.object([("valid", .bool(false)), ("reason", .text(String(describing: error)))]),
                                 steps: [ExplanationStep(rule: "IIN", text: "not a valid IIN: \(error)")])
            }
        },
        RuleSpec(name: "youth_practice_subsidy", references: ["B2"], summary: "Monthly youth practice subsidy; 0 after month 6",
                 inputs: [I(name: "month", type: "integer", description: "month of practice, from 1")], output: "money") { i, c in
            try Rules.youthPracticeSubsidy(month: i.int("month"), c).map { .money($0) }
        },
        RuleSpec(name: "social_job_subsidy", references: ["B3"], summary: "Monthly social-job subsidy by the 50/30/15 % schedule with caps; 0 after month 12",
                 inputs: [I(name: "wage", type: "money", description: "monthly wage with taxes and contributions"), I(name: "month", type: "integer", description: "month of work, from 1")], output: "money") { i, c in
            try Rules.socialJobSubsidy(wage: i.money("wage"), month: i.int("month"), c).map { .money($0) }
        },
        RuleSpec(name: "relocation_subsidy", references: ["D3"], summary: "Relocation subsidy for a family",
                 inputs: [I(name: "move", type: "within_district | within_region | other_region", description: "kind of move"), I(name: "family_members", type: "integer", description: "members besides the head")], output: "money") { i, c in
            try Rules.relocationSubsidy(move: i.choice("move", Rules.Move.self), familyMembers: i.int("family_members"), c).map { .money($0) }
        },
        RuleSpec(name: "service_housing_max_area", references: ["D4"], summary: "Largest service housing area for a family",
                 inputs: [I(name: "family_size", type: "integer", description: "people living together, the head included")], output: "m² (number)") { i, c in
            try Rules.serviceHousingMaxArea(familySize: i.int("family_size"), c).map { .number($0) }
        },
        RuleSpec(name: "housing_cost_cap_per_m2", references: ["D4"], summary: "Largest republican budget cost of 1 m² of service housing",
                 inputs: [I(name: "region", type: "region ISO code", description: "e.g. KZ-71")], output: "money per m²") { i, c in
            let s = try i.raw("region")
            guard let r = RegionCode(s) else { throw RuleInputError("region", "expected a region code such as KZ-71") }
            return try Rules.housingCostCapPerM2(region: r, c).map { .money($0) }
        },
        RuleSpec(name: "youth_hostel_eligible", references: ["D5"], summary: "Whether a young person may get a youth hostel place",
                 inputs: [I(name: "age", type: "integer", description: "years"), I(name: "has_contract", type: "boolean", description: "active labour or social contract"), I(name: "in_housing_savings", type: "boolean", description: "takes part in housing construction savings")], output: "{eligible, reasons}") { i, c in
            try Rules.youthHostelEligible(age: i.int("age"), hasContract: i.bool("has_contract"), inHousingSavings: i.bool("in_housing_savings"), c)
                .map { .object([("eligible", .bool($0.eligible)), ("reasons", .list($0.reasons.map { .text($0) }))]) }
        },
        RuleSpec(name: "employer_housing_share", references: ["D6"], summary: "Employer co-financing of service housing and the division of dwellings",
                 inputs: [I(name: "total_cost", type: "money", description: "cost of the housing"), I(name: "employer_cost", type: "money", description: "the employer's money"), I(name: "dwellings", type: "integer", description: "flats or houses")], output: "{eligible, employer_dwellings, state_dwellings}") { i, c in
            try Rules.employerHousingShare(totalCost: i.money("total_cost"), employerCost: i.money("employer_cost"), dwellings: i.int("dwellings"), c)
                .map { .object([("eligible", .bool($0.eligible)), ("employer_dwellings", .count($0.employerDwellings)), ("state_dwellings", .count($0.stateDwellings))]) }
        },
        RuleSpec(name: "project_priority", references: ["E3"], summary: "Priority ranking of infrastructure projects, with each criterion's points",
                 inputs: [I(name: "projects", type: "JSON list", description: "[{\"id\", \"cost\", \"jobs_created\", \"permanent_jobs\", \"duration_months\", \"planned_referrals\"}]")], output: "list [{id, rank, score, components}]") { i, c in
            try Rules.projectPriority(try parsePriorityFacts(i.raw("projects")), c).map { scores in
                .list(scores.map { s in .object([("id", .text(s.id)), ("rank", .count(s.rank)), ("score", .number(s.score)),
                    ("components", .object(s.components.map { ($0.name, .object([("figure", .number($0.raw)), ("points", .number($0.points)), ("weight", .number($0.weight))])) }))]) })
            }
        },
        RuleSpec(name: "referral_quota_works", references: ["E4"], summary: "Least number of workers referred by the employment centre during works",
                 inputs: [I(name: "jobs_created", type: "integer", description: "jobs created per the design documents")], output: "count") { i, c in
            try Rules.referralQuotaWorks(jobsCreated: i.int("jobs_created"), c).map { .count($0) }
        },
        RuleSpec(name: "referral_quota_permanent", references: ["E5"], summary: "Least number of people placed in the permanent jobs after commissioning",
                 inputs: [I(name: "permanent_jobs", type: "integer", description: "new permanent jobs (staff)")], output: "count") { i, c in
            try Rules.referralQuotaPermanent(permanentJobs: i.int("permanent_jobs"), c).map { .count($0) }
        },
        RuleSpec(name: "rural_project_participant_jobs", references: ["E10"], summary: "Most jobs of a rural project that go to programme participants",
                 inputs: [I(name: "jobs_created", type: "integer", description: "jobs created")], output: "count") { i, c in
            try Rules.ruralProjectParticipantJobs(jobsCreated: i.int("jobs_created"), c).map { .count($0) }
        },
        RuleSpec(name: "referred_worker_min_wage", references: ["E6"], summary: "Lowest wage of a referred worker", inputs: [], output: "money") { _, c in
            try Rules.referredWorkerMinWage(c).map { .money($0) }
        },
        RuleSpec(name: "relocation_bonus", references: ["E7", "H1"], summary: "Relocation bonus of a referred worker and its due date",
                 inputs: [I(name: "contract_date", type: "date", description: "date of the labour contract")], output: "{amount, due_date}") { i, c in
            try Rules.relocationBonus(contractDate: i.date("contract_date"), c).map { .object([("amount", .money($0.amount)), ("due_date", .date($0.dueDate))]) }
        },
        RuleSpec(name: "local_content_ok", references: ["E8"], summary: "Whether the project spends enough on domestic goods, works and services",
                 inputs: [I(name: "total_cost", type: "money", description: "project's money"), I(name: "domestic_cost", type: "money", description: "spent domestically")], output: "{ok, share_percent}") { i, c in
            try Rules.localContentOK(totalCost: i.money("total_cost"), domesticCost: i.money("domestic_cost"), c).map { .object([("ok", .bool($0.ok)), ("share_percent", .number($0.sharePercent))]) }
        },
        RuleSpec(name: "cofinancing_ok", references: ["E10"], summary: "Whether a Programme 2020 direction 4 project is co-financed enough",
                 inputs: [I(name: "total_cost", type: "money", description: "project cost"), I(name: "local_budget", type: "money", description: "local budget share"), I(name: "entrepreneurs", type: "money", description: "entrepreneurs' share (money or goods)")], output: "{ok, reasons}") { i, c in
            try Rules.cofinancingOK(totalCost: i.money("total_cost"), localBudget: i.money("local_budget"), entrepreneurs: i.money("entrepreneurs"), c)
                .map { .object([("ok", .bool($0.ok)), ("reasons", .list($0.reasons.map { .text($0) }))]) }
        },
        RuleSpec(name: "final_borrower_loan_check", references: ["C5"], summary: "Whether a loan to a final borrower meets the Roadmap's terms",
                 inputs: [I(name: "amount", type: "money", description: "loan amount"), I(name: "term_months", type: "integer", description: "term"), I(name: "purpose", type: "investment | working_capital", description: "purpose"), I(name: "rate_percent", type: "number", description: "nominal rate per year"), I(name: "grace_months", type: "integer", description: "grace on principal and interest")], output: "{ok, violations, max_amount}") { i, c in
            try Rules.finalBorrowerLoanCheck(amount: i.money("amount"), termMonths: i.int("term_months"), purpose: i.choice("purpose", Rules.LoanPurpose.self), ratePercent: i.decimal("rate_percent"), graceMonths: i.int("grace_months"), c)
                .map { .object([("ok", .bool($0.ok)), ("violations", .list($0.violations.map { .text($0) })), ("max_amount", .money($0.maxAmount))]) }
        },
        RuleSpec(name: "microcredit_check", references: ["C2"], summary: "Whether a Programme 2020 microcredit meets its terms",
                 inputs: [I(name: "amount", type: "money", description: "amount"), I(name: "term_months", type: "integer", description: "term"), I(name: "grace_months", type: "integer", description: "grace on principal")], output: "{ok, violations}") { i, c in
            try Rules.microcreditCheck(amount: i.money("amount"), termMonths: i.int("term_months"), graceMonths: i.int("grace_months"), c)
                .map { .object([("ok", .bool($0.ok)), ("violations", .list($0.violations.map { .text($0) }))]) }
        },
        RuleSpec(name: "loan_schedule", references: ["C2", "C5"], summary: "Monthly repayment schedule; the principal parts sum exactly to the loan",
                 inputs: [I(name: "principal", type: "money", description: "loan"), I(name: "rate_percent", type: "number", description: "rate per year"), I(name: "term_months", type: "integer", description: "term"), I(name: "grace_months", type: "integer", description: "interest-only months at the start"), I(name: "method", type: "annuity | equal_principal", description: "repayment method"), I(name: "start_date", type: "date", description: "disbursement date")], output: "lines [{n, date, principal, interest, balance}]") { i, _ in
            try Rules.loanSchedule(principal: i.money("principal"), ratePercent: i.decimal("rate_percent"), termMonths: i.int("term_months"), graceMonths: i.int("grace_months"), method: i.choice("method", Rules.ScheduleMethod.self), startDate: i.date("start_date")).map(scheduleOutput)
        },
        RuleSpec(name: "bond_loan_schedule", references: ["C8"], summary: "Bond loan to a local body: yearly interest, principal at the end",
                 inputs: [I(name: "principal", type: "money", description: "loan"), I(name: "years", type: "integer", description: "term"), I(name: "start_date", type: "date", description: "date of the loan")], output: "lines [{n, date, principal, interest, balance}]") { i, c in
            try Rules.bondLoanSchedule(principal: i.money("principal"), years: i.int("years"), startDate: i.date("start_date"), c).map(scheduleOutput)
        },
        RuleSpec(name: "loan_deadlines", references: ["C6", "H3"], summary: "When target use and the new jobs must be confirmed",
                 inputs: [I(name: "disbursed_on", type: "date", description: "date the borrower received the loan")], output: "{target_use_by, jobs_by}") { i, c in
            try Rules.loanDeadlines(disbursedOn: i.date("disbursed_on"), c).map { .object([("target_use_by", .date($0.targetUseBy)), ("jobs_by", .date($0.jobsBy))]) }
        },
        RuleSpec(name: "conclusion_deadline", references: ["C3", "H3"], summary: "When a body's conclusion on an entrepreneurship application is due",
                 inputs: [I(name: "request_date", type: "date", description: "date of the request")], output: "date") { i, c in
            try Rules.conclusionDeadline(requestDate: i.date("request_date"), c).map { .date($0) }
        },
        RuleSpec(name: "notification_deadline", references: ["C3", "H1"], summary: "When the written notification of a decision is due",
                 inputs: [I(name: "decision_date", type: "date", description: "date of the decision")], output: "date") { i, c in
            try Rules.notificationDeadline(decisionDate: i.date("decision_date"), c).map { .date($0) }
        },
        RuleSpec(name: "report_deadline", references: ["G1", "G2", "G3", "G4", "C7", "H2"], summary: "When a report is due",
                 inputs: [I(name: "report", type: Rules.Report.allCases.map(\.rawValue).joined(separator: " | "), description: "which report"),
                          I(name: "period", type: "YYYY-MM | YYYY-Qn | YYYY-Hn", description: "reporting month (a quarter for roadmap_quarterly, a half-year for loan_monitoring)")], output: "date") { i, c in
            let p = try i.raw("period")
            let report = try i.choice("report", Rules.Report.self)
            let parts = p.split(separator: "-")
            guard parts.count == 2, parts[0].count == 4, let y = Int(parts[0]) else { throw RuleInputError("period", "expected YYYY-MM, YYYY-Qn or YYYY-Hn, got \"\(p.prefix(40))\"") }
            let tail = parts[1]
            let month: Int
            switch report.monthsInPeriod {
            case 3:
                guard tail.count == 2, tail.first == "Q", let q = Int(tail.dropFirst()), (1...4).contains(q) else { throw RuleInputError("period", "expected a quarter, YYYY-Qn, got \"\(p.prefix(40))\"") }
                month = q * 3
            case 6:
                guard tail.count == 2, tail.first == "H", let h = Int(tail.dropFirst()), (1...2).contains(h) else { throw RuleInputError("period", "expected a half-year, YYYY-Hn, got \"\(p.prefix(40))\"") }
                month = h * 6
            default:
                guard tail.count == 2, let m = Int(tail), (1...12).contains(m) else { throw RuleInputError("period", "expected YYYY-MM, got \"\(p.prefix(40))\"") }
                month = m
            }
            return try Rules.reportDeadline(report: report, periodYear: y, periodMonth: month, c).map { .date($0) }
        },
        RuleSpec(name: "loan_monitoring_deadline", references: ["C7", "H2"], summary: "When the local body's half-year monitoring of loans is due",
                 inputs: [I(name: "year", type: "year", description: "the year monitored"), I(name: "half", type: "1 | 2", description: "its first or second half")], output: "date") { i, c in
            try Rules.loanMonitoringDeadline(year: i.int("year"), half: i.int("half"), c).map { .date($0) }
        },
        RuleSpec(name: "forecast_deadline", references: ["G6", "H2"], summary: "When central bodies' forecast of jobs is due and the years it covers",
                 inputs: [I(name: "year", type: "year", description: "the reporting year")], output: "{due, first_year, last_year}") { i, c in
            try Rules.forecastDeadline(year: i.int("year"), c).map { .object([("due", .date($0.due)), ("first_year", .count($0.years.lowerBound)), ("last_year", .count($0.years.upperBound))]) }
        },
        RuleSpec(name: "regional_limit_allocation", references: ["F1"], summary: "Split of a national limit between regions by labour force (largest remainder)",
                 inputs: [I(name: "total", type: "money (whole tenge)", description: "national limit"), I(name: "labour_force", type: "map region → number", description: "e.g. {\"KZ-71\": 689.9, \"KZ-75\": 1098}")], output: "map region → money") { i, _ in
            let map = try parseMap(i.raw("labour_force"))
            return try Rules.regionalLimitAllocation(total: i.money("total"), labourForce: map).map { .object($0.map { ($0.region, .money($0.amount)) }) }
        },
        RuleSpec(name: "measure_eligibility", references: ["A1", "A2", "A4", "B2"], summary: "Whether a person may apply for a measure, why not, and the priority groups that apply",
                 inputs: [I(name: "measure", type: Measure.allCases.map(\.rawValue).joined(separator: " | "), description: "the measure"), I(name: "birth_date", type: "date", description: "date of birth"),
                          I(name: "sex", type: "male | female", description: "sex"), I(name: "rural", type: "boolean", description: "lives in a rural settlement"),
                          I(name: "categories", type: "comma-separated list", description: PersonCategory.allCases.map(\.rawValue).joined(separator: ", ")),
                          I(name: "consent", type: "boolean", description: "consent to the processing of personal data recorded")], output: "{eligible, reasons, priorities}") { i, c in
            let facts = PersonFacts(birthDate: try i.date("birth_date"), sex: try i.choice("sex", Sex.self), rural: try i.bool("rural"),
                                    categories: try i.categories("categories"), hasConsent: try i.bool("consent"))
            return try Rules.measureEligibility(measure: i.choice("measure", Measure.self), facts: facts, c)
                .map { .object([("eligible", .bool($0.eligible)), ("reasons", .list($0.reasons.map { .text($0) })), ("priorities", .list($0.priorities.map { .text($0) }))]) }
        },
        RuleSpec(name: "entrepreneurship_eligibility", references: ["C1"], summary: "Whether a person may apply to start or expand a business in a place, why not, and the priorities",
                 inputs: personInputs + [I(name: "place", type: BusinessPlace.allCases.map(\.rawValue).joined(separator: " | "), description: "where the business is to be"),
                                         I(name: "support_settlement", type: "boolean", description: "the place is a support rural settlement")], output: "{eligible, reasons, priorities}") { i, c in
            try Rules.entrepreneurshipEligibility(facts: personFacts(i), place: i.choice("place", BusinessPlace.self), supportSettlement: i.bool("support_settlement"), c)
                .map { .object([("eligible", .bool($0.eligible)), ("reasons", .list($0.reasons.map { .text($0) })), ("priorities", .list($0.priorities.map { .text($0) }))]) }
        },
        RuleSpec(name: "relocation_eligibility", references: ["D1"], summary: "Whether a person may relocate with the programme, the criteria waived, and the priority",
                 inputs: personInputs + [
                    I(name: "move", type: "within_district | within_region | other_region", description: "kind of move"),
                    I(name: "skills_match", type: "boolean", description: "vocational education matches demand at the destination"),
                    I(name: "origin_low_potential", type: "boolean", description: "the origin is on the low-potential list"),
                    I(name: "lived_since", type: "date (optional)", description: "lives permanently in the origin since"),
                    I(name: "destination_high_potential", type: "boolean", description: "the destination is on the high-potential list"),
                    I(name: "employer_relocated", type: "boolean", description: "an employer organises the move and the job"),
                    I(name: "employment_at_destination", type: "boolean", description: "a family member will work at the destination")], output: "{eligible, reasons, exemptions, priorities}") { i, c in
            let lived: CivilDate? = (i.values["lived_since"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty ? nil : try i.date("lived_since")
            let m = MoveFacts(move: try i.choice("move", Rules.Move.self), skillsMatch: try i.bool("skills_match"), originLowPotential: try i.bool("origin_low_potential"),
                              livedSince: lived, destinationHighPotential: try i.bool("destination_high_potential"), employerRelocated: try i.bool("employer_relocated"),
                              employmentAtDestination: try i.bool("employment_at_destination"))
            return try Rules.relocationEligibility(facts: personFacts(i), move: m, c)
                .map { .object([("eligible", .bool($0.eligible)), ("reasons", .list($0.reasons.map { .text($0) })), ("exemptions", .list($0.exemptions.map { .text($0) })), ("priorities", .list($0.priorities.map { .text($0) }))]) }
        },
        RuleSpec(name: "housing_allocation_check", references: ["D4"], summary: "Whether a service dwelling may go to a family: area norm and the republican budget's cost cap",
                 inputs: [I(name: "area", type: "number", description: "m²"), I(name: "cost_per_m2", type: "money", description: "cost of 1 m²"),
                          I(name: "family_size", type: "integer", description: "people moving in, the head included"), I(name: "region", type: "region ISO code", description: "where the dwelling is"),
                          I(name: "excess_covered", type: "boolean", description: "the local budget or the employer pays any cost over the cap")], output: "{ok, reasons, republican_cost, excess}") { i, c in
            guard let region = RegionCode(try i.raw("region")) else { throw RuleInputError("region", "expected a region code such as KZ-71") }
            return try Rules.housingAllocationCheck(area: i.decimal("area"), costPerM2: i.money("cost_per_m2"), familySize: i.int("family_size"), region: region, excessCovered: i.bool("excess_covered"), c)
                .map { .object([("ok", .bool($0.ok)), ("reasons", .list($0.reasons.map { .text($0) })), ("republican_cost", .money($0.republicanCost)), ("excess", .money($0.excess))]) }
        },
        RuleSpec(name: "tsa_suspension", references: ["A5"], summary: "Whether refusing the programme or breaching the contract suspends a person's targeted social assistance",
                 inputs: [I(name: "birth_date", type: "date", description: "date of birth"), I(name: "sex", type: "male | female", description: "sex"),
                          I(name: "tsa_recipient", type: "boolean", description: "member of a low-income family receiving TSA"),
                          I(name: "family_has_disabled_or_ill", type: "boolean", description: "the family has a disabled member or one with a socially significant illness"),
                          I(name: "event", type: "refusal | breach", description: "what happened")], output: "{suspend, reasons}") { i, c in
            let member = PersonFacts.Member(birthDate: CivilDate(year: 1950, month: 1, day: 1)!, sex: .female, disabled: try i.bool("family_has_disabled_or_ill"), sociallySignificantIllness: false)
            let facts = PersonFacts(birthDate: try i.date("birth_date"), sex: try i.choice("sex", Sex.self), rural: false, categories: [.lowIncome],
                                    hasConsent: true, receivesTSA: try i.bool("tsa_recipient"), household: [member])
            return try Rules.tsaSuspension(facts: facts, event: i.choice("event", ParticipationEvent.self), c)
                .map { .object([("suspend", .bool($0.suspend)), ("reasons", .list($0.reasons.map { .text($0) }))]) }
        },
        RuleSpec(name: "application_decision_due", references: ["A2", "H1"], summary: "When the centre's decision on an application is due",
                 inputs: [I(name: "submitted_on", type: "date", description: "date the application was submitted")], output: "date") { i, c in
            try Rules.applicationDecisionDue(submittedOn: i.date("submitted_on"), c).map { .date($0) }
        },
        RuleSpec(name: "contract_signing_due", references: ["A3", "H1"], summary: "When the social contract is due to be signed after inclusion",
                 inputs: [I(name: "decided_on", type: "date", description: "date of the decision to include")], output: "date") { i, c in
            try Rules.contractSigningDue(decidedOn: i.date("decided_on"), c).map { .date($0) }
        },
        RuleSpec(name: "monitoring_due", references: ["A3", "H3"], summary: "When the next monitoring of a social contract is due",
                 inputs: [I(name: "since", type: "date", description: "last monitoring or the contract's start")], output: "date") { i, c in
            try Rules.monitoringDue(since: i.date("since"), c).map { .date($0) }
        },
    ]

    /// The person's inputs shared by the eligibility rules.
    static let personInputs: [I] = [
        I(name: "birth_date", type: "date", description: "date of birth"), I(name: "sex", type: "male | female", description: "sex"),
        I(name: "rural", type: "boolean", description: "lives in a rural settlement"),
        I(name: "categories", type: "comma-separated list", description: PersonCategory.allCases.map(\.rawValue).joined(separator: ", ")),
        I(name: "consent", type: "boolean", description: "consent to the processing of personal data recorded"),
    ]
    static func personFacts(_ i: RuleInputs) throws -> PersonFacts {
        PersonFacts(birthDate: try i.date("birth_date"), sex: try i.choice("sex", Sex.self), rural: try i.bool("rural"),
                    categories: try i.categories("categories"), hasConsent: try i.bool("consent"))
    }

    public static let byName: [String: RuleSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    static func scheduleOutput(_ lines: [ScheduleLine]) -> RuleOutput {
        .list(lines.map { .object([("n", .count($0.n)), ("date", .date($0.date)), ("principal", .money($0.principal)), ("interest", .money($0.interest)), ("balance", .money($0.balance))]) })
    }

    /// A map given as JSON (`{"KZ-71": 689.9}`) or as `KZ-71:689.9,KZ-75:1098`.
    /// Projects for `project_priority`, as a JSON list of objects.
    static func parsePriorityFacts(_ text: String) throws -> [Rules.PriorityFacts] {
        guard let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw RuleInputError("projects", "expected a JSON list of {id, cost, jobs_created, permanent_jobs, duration_months, planned_referrals}")
        }
        func str(_ o: [String: Any], _ k: String) -> String { (o[k] as? String) ?? (o[k] as? NSNumber)?.stringValue ?? "" }
        return try list.map { o in
            let id = str(o, "id")
            guard let cost = Money(string: str(o, "cost")) else { throw RuleInputError("cost", "\(id): expected an amount in tenge") }
            func int(_ k: String) throws -> Int {
                guard let n = Int(str(o, k)) else { throw RuleInputError(k, "\(id): expected a whole number") }
                return n
            }
            return Rules.PriorityFacts(id: id, cost: cost, jobs: try int("jobs_created"), permanentJobs: try int("permanent_jobs"),
                                       durationMonths: try int("duration_months"), plannedReferrals: try int("planned_referrals"))
        }
    }

    static func parseMap(_ text: String) throws -> [String: FixedDecimal] {
        var out: [String: FixedDecimal] = [:]
        if text.hasPrefix("{") {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw RuleInputError("labour_force", "expected a JSON object of region → number")
            }
            for (k, v) in obj {
                let s = (v as? String) ?? (v as? NSNumber)?.stringValue ?? ""
                guard let d = FixedDecimal(s) else { throw RuleInputError("labour_force", "\(k): expected a number") }
                out[k] = d
            }
        } else {
            for pair in text.split(separator: ",") {
                let kv = pair.split(separator: ":")
                guard kv.count == 2, let d = FixedDecimal(kv[1]) else { throw RuleInputError("labour_force", "expected REGION:NUMBER pairs separated by commas") }
                out[String(kv[0]).trimmingCharacters(in: .whitespaces)] = d
            }
        }
        for k in out.keys where RegionCode(k) == nil { throw RuleInputError("labour_force", "\(k) is not a region code such as KZ-71") }
        return out
    }
}
