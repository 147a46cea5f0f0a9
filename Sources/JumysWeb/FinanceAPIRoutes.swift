import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Vapor

/// `/api/v1` for money: a year's limits with their allocations and history, the allocation and change steps of the
/// authorised body and the interagency commission; loans with their standing and schedule, the lender's steps, and
/// the month's loan report with its due dates — scoped and refused like the pages.
struct FinanceAPIRoutes: RouteCollection {
    typealias API = CaseworkAPIRoutes
    typealias L = LabourAPIRoutes

    func boot(routes: any RoutesBuilder) throws {
        let v1 = routes.grouped("api", "v1")
        v1.get("limits", use: limits)
        v1.post("limits", "allocations", use: propose)
        v1.post("limits", "allocations", ":id", "approve", use: approve)
        v1.post("limits", "changes", use: proposeChange)
        v1.post("limits", "changes", ":id", "decision", use: decideChange)
        v1.get("loans", use: loans)
        v1.post("loans", use: createLoan)
        v1.get("loans", "report", use: report)
        v1.get("loans", ":id", use: loan)
        v1.post("loans", ":id", ":action", use: loanStep)
    }

    static func form(_ o: [String: Any]) -> [String: String] {
        var f: [String: String] = [:]
        for (k, v) in o { f[k] = RuleInputs.text(fromJSON: v) }
        return f
    }

    static func year(_ req: Request) throws -> Int {
        guard let y = try? req.query.get(String.self, at: "year") else { return req.jumys.store.today().year }
        guard let v = Int(y), ProgrammeYears.range.contains(v) else { throw L.bad("year", "year_invalid") }
        return v
    }

    // MARK: limits

    /// `?year=2021&direction=rm_projects&region=KZ-35`: the allocations, each limit (region and district) with what
    /// is committed, spent and left, and the history of changes.
    @Sendable func limits(req: Request) async throws -> Response {
        _ = try req.requireUser()
        let year = try Self.year(req)
        let direction = try (try? req.query.get(String.self, at: "direction")).map { s throws -> FundingDirection in
            guard let d = FundingDirection(rawValue: s) else { throw L.bad("direction", "choose_from_list") }
            return d
        }
        let region = try (try? req.query.get(String.self, at: "region")).map { s throws -> String in
            guard let c = RegionCode(s), c.isKnown else { throw L.bad("region", "choose_from_list") }
            return c.iso
        }
        let store = LimitStore(store: req.jumys.store)
        let spent = try await store.spent(year: year)
        let rows = try await store.limits(year: year, region: region).filter { direction == nil || $0.direction == direction!.rawValue }
        let allocations = try await store.allocations(year: year).filter { direction == nil || $0.direction == direction!.rawValue }
        let history = try await store.history(year: year, region: region).filter { direction == nil || $0.to_direction == direction!.rawValue || $0.from_direction == direction!.rawValue }
        func opt(_ s: String?) -> RuleOutput { s.map { .text($0) } ?? .text("") }
        return JSONText.response(RuleOutput.object([
            ("year", .count(year)),
            ("allocations", .list(allocations.map { a in .object([("id", .count(a.id)), ("direction", .text(a.direction)), ("total", .money(Money(tiyn: a.total))), ("period", .text(a.period)),
                                                                  ("state", .text(a.state)), ("proposed_on", .text(a.proposed_on)), ("decision", opt(a.decision)), ("decided_on", opt(a.decided_on))]) })),
            ("limits", .list(rows.map { r in .object([("id", .count(r.id)), ("direction", .text(r.direction)), ("region", .text(r.region_iso)), ("district_id", r.district_id == 0 ? .text("") : .count(r.district_id)),
                                                       ("amount", .money(Money(tiyn: r.amount))), ("committed", .money(Money(tiyn: r.committed))), ("spent", .money(Money(tiyn: spent[r.id] ?? 0))),
                                                       ("remaining", .money(Money(tiyn: r.remaining)))]) })),
            ("history", .list(history.map { c in .object([("id", .count(c.id)), ("kind", .text(c.kind)), ("state", .text(c.state)), ("from_direction", opt(c.from_direction)), ("from_region", opt(c.from_region)),
                                                           ("to_direction", opt(c.to_direction)), ("to_region", opt(c.to_region)), ("to_district_id", c.to_district.map { .count($0) } ?? .text("")),
                                                           ("amount", .money(Money(tiyn: c.amount))), ("reason", .text(c.reason)), ("proposed_on", .text(c.proposed_on)),
                                                           ("decision", opt(c.decision)), ("decided_on", opt(c.decided_on))]) })),
        ]).json)
    }

    /// `{"year": 2021, "direction": "rm_projects", "total": "150000000000", "period": "2023"}`.
    @Sendable func propose(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        guard let year = L.int(o, "year") else { throw L.bad("year", "year_invalid") }
        guard let d = API.text(o, "direction").flatMap(FundingDirection.init(rawValue:)) else { throw L.bad("direction", "choose_from_list") }
        guard let total = L.money(o, "total") else { throw L.bad("total", "limit_total_invalid") }
        let id = try await API.run { try await LimitStore(store: req.jumys.store).propose(year: year, direction: d, total: total, period: API.text(o, "period") ?? LimitStore.shippedPeriod, by: user) }
        let lines = try await LimitStore(store: req.jumys.store).lines(of: id)
        return L.created(.object([("id", .count(id)), ("state", .text("proposed")),
                                  ("regions", .list(lines.map { .object([("region", .text($0.region_iso)), ("persons", .count(Int($0.persons))), ("amount", .money(Money(tiyn: $0.amount)))]) }))]),
                         "/api/v1/limits?year=\(year)&direction=\(d.rawValue)")
    }

    /// `{"decision": "Протокол МВК №1"}`.
    @Sendable func approve(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        try await API.run { try await LimitStore(store: req.jumys.store).approve(allocation: id, decision: API.text(o, "decision") ?? "", by: user) }
        return JSONText.response(RuleOutput.object([("id", .count(id)), ("state", .text("approved"))]).json)
    }

    /// `{"year", "kind": "correction" | "reallocation", "from_region", "from_direction", "to_region", "to_direction", "amount", "reason"}`.
    @Sendable func proposeChange(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        guard let year = L.int(o, "year") else { throw L.bad("year", "year_invalid") }
        guard let kind = API.text(o, "kind").flatMap(LimitChangeKind.init(rawValue:)), [.correction, .reallocation].contains(kind) else { throw L.bad("kind", "choose_from_list") }
        guard let toRegion = API.text(o, "to_region").flatMap({ RegionCode($0) }).flatMap({ $0.isKnown ? $0.iso : nil }),
              let toDir = API.text(o, "to_direction").flatMap(FundingDirection.init(rawValue:)) else { throw L.bad("to_region", "choose_from_list") }
        guard let amount = L.money(o, "amount") else { throw L.bad("amount", "limit_total_invalid") }
        var from: LimitStore.Place? = nil
        if kind == .reallocation {
            guard let r = API.text(o, "from_region").flatMap({ RegionCode($0) }).flatMap({ $0.isKnown ? $0.iso : nil }),
                  let d = API.text(o, "from_direction").flatMap(FundingDirection.init(rawValue:)) else { throw L.bad("from_region", "choose_from_list") }
            from = LimitStore.Place(d, r)
        }
        let id = try await API.run { try await LimitStore(store: req.jumys.store).proposeChange(year: year, kind: kind, from: from, to: LimitStore.Place(toDir, toRegion), amount: amount, reason: API.text(o, "reason") ?? "", by: user) }
        return L.created(.object([("id", .count(id)), ("state", .text("proposed"))]), "/api/v1/limits?year=\(year)")
    }

    /// `{"approve": true, "decision": "Протокол МВК №4"}`.
    @Sendable func decideChange(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let o = try API.body(req)
        guard let id = req.parameters.get("id", as: Int.self) else { throw Abort(.notFound) }
        guard let approve = o["approve"] as? Bool else { throw L.bad("approve", "choose_from_list") }
        try await API.run { try await LimitStore(store: req.jumys.store).decideChange(id, approve: approve, decision: API.text(o, "decision") ?? "", by: user) }
        return JSONText.response(RuleOutput.object([("id", .count(id)), ("state", .text(approve ? "approved" : "refused"))]).json)
    }

    // MARK: loans

    static func loanJSON(_ l: CreditStore.LoanRow, _ s: CreditStore.Standing) -> [(String, RuleOutput)] {
        var kv: [(String, RuleOutput)] = [
            ("id", .count(l.id)), ("number", .text(l.number)), ("kind", .text(l.kind)), ("credit_id", .count(l.credit_id)), ("lender_id", .count(l.lender_id)),
            ("region", .text(l.region_iso)), ("district_id", .count(l.district_id)), ("borrower_id", .text(l.borrower_id)), ("borrower_name", .text(l.borrower_name)),
            ("purpose", .text(l.purpose)), ("amount", .money(Money(tiyn: l.amount))), ("term_months", .count(l.term_months)), ("rate_percent", .number(FixedDecimal(units: l.rate))),
            ("grace_months", .count(l.grace_months)), ("method", .text(l.method)), ("jobs_promised", .count(l.jobs_promised)), ("contract_on", .text(l.contract_on)),
            ("disbursed", .money(Money(tiyn: l.disbursed))), ("state", .text(l.state)), ("version", .count(l.version)),
            ("standing", .object([("due", .money(s.due)), ("repaid", .money(s.repaid)), ("arrears", .money(s.arrears)), ("outstanding_principal", .money(s.outstandingPrincipal)),
                                  ("jobs_confirmed", .count(s.jobsConfirmed)), ("jobs_vacant", .count(s.jobsVacant)), ("flags", .list(s.flags.map { .text($0) }))])),
        ]
        let optional: [(String, String?)] = [("disbursed_on", l.disbursed_on), ("target_use_by", l.target_use_by), ("target_use_confirmed_on", l.target_use_confirmed_on),
                                             ("jobs_by", l.jobs_by), ("demanded_on", l.demanded_on)]
        kv += optional.compactMap { k, v in v.map { (k, .text($0)) } }
        if let p = l.penalty { kv.append(("penalty", .money(Money(tiyn: p)))) }
        return kv
    }

    /// `?state=disbursed&flag=jobs_overdue&region=KZ-71`, by id with a cursor.
    @Sendable func loans(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let limit = try L.limit(req), after = try L.cursor(req)
        var f = CreditStore.LoanFilter()
        if let s = try? req.query.get(String.self, at: "state") { guard let v = LoanState(rawValue: s) else { throw L.bad("state", "choose_from_list") }; f.state = v }
        let place = try ListFilter(req, from: "contract_from", to: "contract_to")
        f.region = place.region; f.district = place.district; f.contractFrom = place.from; f.contractTo = place.to
        let flag = try (try? req.query.get(String.self, at: "flag")).map { s throws -> String in
            guard ["arrears", "target_use_overdue", "jobs_overdue", "job_vacant"].contains(s) else { throw L.bad("flag", "choose_from_list") }
            return s
        }
        let store = CreditStore(store: req.jumys.store)
        let today = req.jumys.store.today()
        var out: [RuleOutput] = []
        var cursor = after, more = false
        // A flag is computed, not stored: read on until the page is full.
        scan: while true {
            let rows = try await store.loans(for: user, f, limit: limit + 1, after: cursor, ascending: true)
            let standings = try await store.standings(of: rows, today: today)
            for l in rows {
                if out.count == limit { more = true; break scan }
                cursor = l.id
                let s = standings[l.id]!
                if let flag, !s.flags.contains(flag) { continue }
                out.append(.object(Self.loanJSON(l, s)))
            }
            if rows.count <= limit { break }
        }
        return L.page(out, next: more ? cursor.map(String.init) : nil)
    }

    @Sendable func loan(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let store = CreditStore(store: req.jumys.store)
        guard let id = req.parameters.get("id", as: Int.self), let l = try await store.loan(id, for: user) else { throw Abort(.notFound) }
        // One read of each, for the standing and for the answer.
        let lines = try await store.schedule(of: id), jobs = try await store.jobs(of: id)
        let s = CreditStore.standing(l, schedule: lines, repayments: try await store.repayments(of: id), jobs: jobs, today: req.jumys.store.today())
        return Versions.tag(JSONText.response(RuleOutput.object(Self.loanJSON(l, s) + [
            ("schedule", .list(lines.map { .object([("n", .count($0.n)), ("due_on", .text($0.due_on)), ("principal", .money(Money(tiyn: $0.principal))), ("interest", .money(Money(tiyn: $0.interest))),
                                                    ("balance", .money(Money(tiyn: $0.balance)))]) })),
            ("jobs", .list(jobs.map { j in .object([("id", .count(j.id)), ("slot", .count(j.slot)), ("contract_number", .text(j.contract_number)), ("contract_on", .text(j.contract_on)),
                                                                             ("ended_on", .text(j.ended_on ?? "")), ("seasonal", .bool(j.seasonal))]) })),
        ]).json), l.version)
    }

    /// The form's fields as JSON: `credit_id`, `district_id`, `borrower_id` (IIN or BIN), `borrower_name`, `tax_registered`,
    /// `purpose`, `purpose_text`, `amount`, `term_months`, `rate_percent`, `grace_months`, `method`, `jobs_promised`, `contract_on`.
    @Sendable func createLoan(req: Request) async throws -> Response {
        let user = try API.writer(req)
        let f = Self.form(try API.body(req))
        let store = CreditStore(store: req.jumys.store)
        let env = try await req.jumys.rules.current()
        let id = try await API.run { try await store.createLoan(try LoanRoutes.loanInput(f), env: env, by: user) }
        guard let l = try await store.loan(id, for: user) else { throw Abort(.notFound) }
        return L.created(.object(Self.loanJSON(l, try await store.standing(of: l))), "/api/v1/loans/\(id)")
    }

    /// `disburse {amount, on}`, `repay {repay_amount, repay_on}`, `target-use {use_on}`, `job {contract_number, contract_on, slot?, seasonal?}`,
    /// `job-end {job_id, ended_on}`, `demand {penalty, reason, demand_on}`.
    @Sendable func loanStep(req: Request) async throws -> Response {
        let user = try API.writer(req)
        guard let id = req.parameters.get("id", as: Int.self), let action = req.parameters.get("action"),
              ["disburse", "repay", "target-use", "job", "job-end", "demand"].contains(action) else { throw Abort(.notFound) }
        let f = Self.form(try API.body(req))
        let store = CreditStore(store: req.jumys.store)
        let env = try await req.jumys.rules.current()
        if let before = try await store.loan(id, for: user) { try Versions.check(req, current: before.version) }
        try await ProjectAPIRoutes.run { try await LoanRoutes.perform(action, loan: id, f, store: store, env: env, by: user) }
        guard let l = try await store.loan(id, for: user) else { throw Abort(.notFound) }
        return Versions.tag(JSONText.response(RuleOutput.object(Self.loanJSON(l, try await store.standing(of: l))).json), l.version)
    }

    /// `?month=2021-04`: per region and credit organisation, loans issued and their target use, with the reports' due dates.
    @Sendable func report(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let m = (try? req.query.get(String.self, at: "month")).flatMap(Payroll.Month.init) else { throw L.bad("month", "month_invalid") }
        let rows = try await CreditStore(store: req.jumys.store).report(month: m, for: user)
        let env = try await req.jumys.rules.current()
        let c = env.context(on: req.jumys.store.today())
        var dues: [(String, RuleOutput)] = []
        for r in [Rules.Report.loansIssuedByLender, .loansUseByLender, .loansIssuedByAkimat, .loansUseByAkimat] {
            if let d = try? Rules.reportDeadline(report: r, periodYear: m.year, periodMonth: m.month, c).value { dues.append((r.rawValue, .date(d))) }
        }
        if let d = try? Rules.loanMonitoringDeadline(year: m.year, half: m.month <= 6 ? 1 : 2, c).value { dues.append(("half_year_monitoring", .date(d))) }
        return JSONText.response(RuleOutput.object([("month", .text(m.description)), ("due", .object(dues)),
            ("rows", .list(rows.map { r in .object([("region", .text(r.region_iso)), ("lender_id", .count(r.lender_id)), ("issued", .count(r.issued)), ("issued_amount", .money(Money(tiyn: r.issued_amount))),
                                                    ("jobs_promised", .count(r.jobs_promised)), ("disbursed_amount", .money(Money(tiyn: r.disbursed_amount))), ("use_confirmed", .count(r.use_confirmed)),
                                                    ("use_overdue", .count(r.use_overdue)), ("jobs_confirmed", .count(r.jobs_confirmed)), ("demanded", .count(r.demanded))]) }))]).json)
    }
}
