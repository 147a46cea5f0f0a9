import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// What a lender enters for a loan to a final borrower (C5) or a microcredit (C2).
public struct LoanInput: Sendable {
    public var creditID: Int
    public var districtID: Int
    /// IIN of a person or BIN of an entity (an individual entrepreneur may use either).
    public var borrowerID: String
    public var borrowerName: String
    public var taxRegistered: Bool
    public var purpose: Rules.LoanPurpose
    public var purposeText: String
    public var amount: Money
    public var termMonths: Int
    public var ratePercent: FixedDecimal
    public var graceMonths: Int
    public var method: Rules.ScheduleMethod
    public var jobsPromised: Int
    public var contractOn: CivilDate
    public init(creditID: Int, districtID: Int, borrowerID: String, borrowerName: String, taxRegistered: Bool, purpose: Rules.LoanPurpose, purposeText: String,
                amount: Money, termMonths: Int, ratePercent: FixedDecimal, graceMonths: Int, method: Rules.ScheduleMethod, jobsPromised: Int, contractOn: CivilDate) {
        self.creditID = creditID; self.districtID = districtID; self.borrowerID = borrowerID; self.borrowerName = borrowerName; self.taxRegistered = taxRegistered
        self.purpose = purpose; self.purposeText = purposeText; self.amount = amount; self.termMonths = termMonths; self.ratePercent = ratePercent
        self.graceMonths = graceMonths; self.method = method; self.jobsPromised = jobsPromised; self.contractOn = contractOn
    }
}

/// The credit chain (RULES.md C2, C4–C8): budget credits from the republic to the local body and from the local body
/// to the regional credit organisation, each drawing on the one above (the first on the region's limit), with their
/// utilisation deadlines and the return of what is unused; loans to final borrowers and microcredits checked against
/// their terms on the contract date, with schedules, disbursements, repayments and arrears; the confirmations of
/// target use and of each promised job (C6) and the demand for full repayment when they fail; the loan reports (C7);
/// and bond loans to local bodies (C8).
public struct CreditStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    func today() -> CivilDate { store.today() }
    func body(_ user: UserContext) async throws -> ProjectBody? { try await ProjectStore(store: store).body(of: user) }

    // MARK: budget credits (C4, C2)

    public struct CreditRow: Decodable, Sendable {
        public let id: Int, level: String, parent_id: Int?, year: Int, direction: String, region_iso: String, borrower_id: Int, amount: Int64, rate: Int64
        public let term_months: Int, grace_months: Int, transferred_on: String, use_by: String, used: Int64, returned: Int64?, returned_on: String?, decision: String
        public let explanation: String?, by_login: String
        public var available: Int64 { amount - used - (returned ?? 0) }
        public var levelValue: CreditLevel { CreditLevel(rawValue: level) ?? .localBody }
        public var directionValue: FundingDirection { FundingDirection(rawValue: direction) ?? .roadmapCredit }
        /// Past its utilisation deadline with money neither used nor returned yet.
        public func unsettled(today: CivilDate) -> Bool { returned_on == nil && (CivilDate(iso: use_by).map { today > $0 } ?? false) }
    }

    public func credits(for user: UserContext) async throws -> [CreditRow] {
        var q = store.sql.select().column("*").from("budget_credits")
        switch user.scope {
        case .national: break
        case .region(let r): q = q.where("region_iso", .equal, SQLBind(r.iso))
        case .district(let d):
            let region = try await DistrictRecord.find(Int(d), on: store.db)?.regionISO ?? ""
            q = q.where("region_iso", .equal, SQLBind(region))
        case .organisation(let o): q = q.where("borrower_id", .equal, SQLBind(Int(o)))
        }
        return try await q.orderBy("year", .descending).orderBy("id").all(decoding: CreditRow.self)
    }

    public func credit(_ id: Int, on sql: (any SQLDatabase)? = nil) async throws -> CreditRow? {
        try await (sql ?? store.sql).select().column("*").from("budget_credits").where("id", .equal, SQLBind(id)).first(decoding: CreditRow.self)
    }

    /// The terms in force on a date for a credit of a direction: rate, term and the longest grace.
    static func creditTerms(_ direction: FundingDirection, _ rules: RuleContext) throws -> (rate: FixedDecimal, years: Int, maxGrace: Int, steps: [ExplanationStep]) {
        let rateName = direction == .programmeBusiness ? "microcredit_budget_credit_rate" : "budget_credit_rate"
        let yearsName = direction == .programmeBusiness ? "microcredit_budget_credit_years" : "budget_credit_years"
        let rate = try rules.p(rateName), years = try rules.p(yearsName), divisor = try rules.p("budget_credit_max_grace_divisor")
        let y = Int(years.value.wholeValue ?? 0), div = max(1, Int(divisor.value.wholeValue ?? 3))
        return (rate.value, y, y * 12 / div, [.uses(direction == .programmeBusiness ? "C2" : "C4", rateName, rate), .uses(direction == .programmeBusiness ? "C2" : "C4", yearsName, years),
                                              .uses("C4", "budget_credit_max_grace_divisor", divisor)])
    }

    struct CreditSnapshot: Encodable, Sendable { let level: String; let parent_id: Int?; let year: Int; let direction: String; let region: String; let borrower_id: Int; let amount: String; let transferred_on: String; let use_by: String; let decision: String }

    /// A budget credit. From the republic to the local body (the authorised body records it; it draws on the region's
    /// limit of the direction), or from the local body to a credit organisation (the region's akimat records it; it
    /// draws on the local body's credit). Rate and term are the ones in force on the transfer date; the grace is at
    /// most a third of the term; the money must be used within 6 (local body) or 12 (credit organisation) months.
    @discardableResult
    public func grant(level: CreditLevel, parent: Int?, year: Int, direction: FundingDirection, region: String, borrower: Int, amount: Money, graceMonths: Int,
                      transferredOn: CivilDate, decision: String, env: RulesEnvironment, by user: UserContext) async throws -> Int {
        var errors: [FieldError] = []
        let b = try await body(user)
        var parentRow: CreditRow? = nil
        var dir = direction, reg = region, yr = year
        switch level {
        case .localBody:
            guard b == .ministry else { throw FieldErrors(errors: [FieldError("amount", "limit_not_your_body")]) }
            if ![.roadmapCredit, .programmeBusiness].contains(direction) { errors.append(FieldError("direction", "choose_from_list")) }
            let org = try await OrganisationRecord.find(borrower, on: store.db)
            if org?.kind != OrganisationKind.akimat.rawValue || org?.regionISO != region || org?.districtID != nil { errors.append(FieldError("borrower_id", "credit_borrower_invalid")) }
        case .creditOrganisation:
            guard let pid = parent, let p = try await credit(pid), p.levelValue == .localBody else { throw FieldErrors(errors: [FieldError("parent_id", "choose_from_list")]) }
            guard b == .akimat, user.districtID == nil, user.regionISO == p.region_iso else { throw FieldErrors(errors: [FieldError("amount", "limit_not_your_body")]) }
            parentRow = p; dir = p.directionValue; reg = p.region_iso; yr = p.year
            let org = try await OrganisationRecord.find(borrower, on: store.db)
            if org?.kind != OrganisationKind.creditOrganisation.rawValue || (org?.regionISO != nil && org?.regionISO != p.region_iso) { errors.append(FieldError("borrower_id", "credit_borrower_invalid")) }
            if let by = CivilDate(iso: p.use_by), transferredOn > by { errors.append(FieldError("transferred_on", "credit_use_deadline_passed", ["date": p.use_by])) }
            if let t = CivilDate(iso: p.transferred_on), transferredOn < t { errors.append(FieldError("transferred_on", "credit_before_parent")) }
        }
        if !ProgrammeYears.range.contains(yr) { errors.append(FieldError("year", "year_invalid")) }
        if amount.tiyn <= 0 || amount.tiyn > 100_000_000_000_000 { errors.append(FieldError("amount", "amount_invalid")) }
        if transferredOn > today() { errors.append(FieldError("transferred_on", "date_future")) }
        let d = decision.trimmingCharacters(in: .whitespaces)
        if d.isEmpty || d.count > 200 { errors.append(FieldError("decision", "project_decision_required")) }
        let rules = env.context(on: transferredOn)
        let terms = try Self.creditTerms(dir, rules)
        if graceMonths < 0 || graceMonths > terms.maxGrace { errors.append(FieldError("grace_months", "credit_grace_above_max", ["max": String(terms.maxGrace)])) }
        let useName = level == .localBody ? "budget_credit_use_months_local_body" : "budget_credit_use_months_credit_organisation"
        let useMonths = try rules.p(useName)
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let useBy = transferredOn.adding(months: Int(useMonths.value.wholeValue ?? 6))
        let steps = terms.steps + [.uses("C4", useName, useMonths),
                                   ExplanationStep(rule: "C4", text: "\(terms.years) years at \(terms.rate) %, grace \(graceMonths) of at most \(terms.maxGrace) months; to be used by \(useBy.iso)")]
        let explanation = try CaseStore.explanationJSON(steps)
        let (fDir, fReg, fYr, fParent) = (dir, reg, yr, parentRow)
        return try await store.write(as: user.actor) { ctx in
            if let p = fParent {
                let n = try await ctx.sql.update("budget_credits").set("used", to: SQLRaw("used + \(amount.tiyn)")).where("id", .equal, SQLBind(p.id))
                    .where("returned_on", .is, SQLLiteral.null).where(SQLRaw("used + \(amount.tiyn) <= amount")).returning("id").all()
                guard n.count == 1 else {
                    let now = try await self.credit(p.id, on: ctx.sql)
                    throw FieldErrors(errors: [FieldError("amount", "credit_exceeded", ["available": Money(tiyn: now?.available ?? 0).formatted()])])
                }
            }
            struct R: Decodable { let id: Int }
            guard let id = try await ctx.sql.insert(into: "budget_credits")
                .columns("level", "parent_id", "year", "direction", "region_iso", "borrower_id", "amount", "rate", "term_months", "grace_months", "transferred_on", "use_by", "used",
                         "decision", "explanation", "by_login", "at")
                .values(SQLBind(level.rawValue), SQLBind(fParent?.id), SQLBind(fYr), SQLBind(fDir.rawValue), SQLBind(fReg), SQLBind(borrower), SQLBind(amount.tiyn), SQLBind(terms.rate.units),
                        SQLBind(terms.years * 12), SQLBind(graceMonths), SQLBind(transferredOn.iso), SQLBind(useBy.iso), SQLBind(Int64(0)), SQLBind(d), SQLBind(explanation),
                        SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now)))
                .returning("id").first(decoding: R.self)?.id else { throw StoreError.conflict("credit not stored") }
            if level == .localBody {
                // The transfer is money out of the republican budget: committed and spent at once.
                try await LimitStore.commit(ctx, year: fYr, direction: fDir, region: fReg, district: nil, kind: .budgetCredit, reference: "credit:\(id)",
                                            amount: amount.tiyn, spent: amount.tiyn, on: transferredOn, field: "amount")
            }
            try ctx.audit("grant", entity: "budget_credit", id: String(id), after: CreditSnapshot(level: level.rawValue, parent_id: fParent?.id, year: fYr, direction: fDir.rawValue, region: fReg,
                                                                                              borrower_id: borrower, amount: amount.decimalString, transferred_on: transferredOn.iso, use_by: useBy.iso, decision: d))
            return id
        }
    }

    /// C4: at the utilisation deadline the money not used goes back: a credit organisation's to the local body's
    /// credit and on to the budget; a local body's to the budget. What reaches the budget returns to the region's limit.
    /// Settles every credit past its deadline (credit organisations first); returns how many were settled.
    @discardableResult
    public func settleDue(on date: CivilDate? = nil, by actor: Actor) async throws -> Int {
        let today = date ?? self.today()
        let due = try await store.sql.select().column("*").from("budget_credits").where("returned_on", .is, SQLLiteral.null).where("use_by", .lessThan, SQLBind(today.iso))
            .orderBy("level").orderBy("id").all(decoding: CreditRow.self)
        // credit_organisation sorts before local_body: children first.
        var settled = 0
        for c in due {
            let done: Bool = try await store.write(as: actor) { ctx in
                guard let now = try await self.credit(c.id, on: ctx.sql), now.returned_on == nil else { return false }
                let unused = now.amount - now.used
                let n = try await ctx.sql.update("budget_credits").set("returned", to: SQLBind(unused)).set("returned_on", to: SQLBind(today.iso)).where("id", .equal, SQLBind(c.id))
                    .where("returned_on", .is, SQLLiteral.null).returning("id").all()
                guard n.count == 1 else { return false }
                var toBudget = unused
                var root = now
                if let pid = now.parent_id, let parent = try await self.credit(pid, on: ctx.sql) {
                    try await ctx.sql.update("budget_credits").set("used", to: SQLRaw("used - \(unused)")).where("id", .equal, SQLBind(pid)).run()
                    root = parent
                    // The local body's own deadline has passed: what comes back goes on to the budget.
                    if parent.returned_on == nil { toBudget = 0 } else {
                        try await ctx.sql.update("budget_credits").set("returned", to: SQLRaw("returned + \(unused)")).where("id", .equal, SQLBind(pid)).run()
                    }
                }
                if toBudget > 0 {
                    try await LimitStore.release(ctx, kind: .budgetCredit, reference: "credit:\(root.id)", amount: toBudget, on: today, change: .creditReturn, reason: "C4: credit \(c.id) unused at \(c.use_by)")
                }
                try ctx.audit("return", entity: "budget_credit", id: String(c.id), after: ["returned": Money(tiyn: unused).decimalString, "on": today.iso])
                return true
            }
            if done { settled += 1 }
        }
        return settled
    }

    // MARK: loans (C2, C5)

    public struct LoanRow: Decodable, Sendable {
        public let id: Int, number: String, kind: String, credit_id: Int, lender_id: Int, region_iso: String, district_id: Int
        public let borrower_kind: String, borrower_id: String, borrower_name: String, tax_registered: Bool, purpose: String, purpose_text: String
        public let amount: Int64, term_months: Int, rate: Int64, grace_months: Int, method: String, jobs_promised: Int, contract_on: String
        public let disbursed: Int64, disbursed_on: String?, target_use_by: String?, target_use_confirmed_on: String?, jobs_by: String?, state: String
        public let check_explanation: String?, demanded_on: String?, penalty: Int64?, demand_reason: String?, version: Int, by_login: String
        public var kindValue: LoanKind { LoanKind(rawValue: kind) ?? .finalBorrower }
        public var stateValue: LoanState { LoanState(rawValue: state) ?? .contracted }
    }

    /// Loans the user may see: a lender its own, a territory its own, national roles all.
    func visible(_ q: SQLSelectBuilder, _ user: UserContext) -> SQLSelectBuilder {
        switch user.scope {
        case .national: return q
        case .region(let r): return q.where("region_iso", .equal, SQLBind(r.iso))
        case .district(let d): return q.where("district_id", .equal, SQLBind(Int(d)))
        case .organisation(let o): return user.role == .lender ? q.where("lender_id", .equal, SQLBind(Int(o))) : q.where(SQLLiteral.boolean(false))
        }
    }

    public struct LoanFilter: Sendable {
        public var region: String?, state: LoanState?, kind: LoanKind?
        /// The district, and the days the loan contract was signed between (both ends included).
        public var district: Int?, contractFrom: CivilDate?, contractTo: CivilDate?
        public init(region: String? = nil, state: LoanState? = nil, kind: LoanKind? = nil, district: Int? = nil, contractFrom: CivilDate? = nil, contractTo: CivilDate? = nil) {
            self.region = region; self.state = state; self.kind = kind; self.district = district; self.contractFrom = contractFrom; self.contractTo = contractTo
        }
    }

    /// The newest first; or, for paging through them all (the API), by id after a cursor.
    public func loans(for user: UserContext, _ f: LoanFilter = LoanFilter(), limit: Int = 500, after: Int? = nil, ascending: Bool = false) async throws -> [LoanRow] {
        var q = visible(store.sql.select().column("*").from("loans"), user)
        if let after { q = q.where("id", .greaterThan, SQLBind(after)) }
        if let r = f.region { q = q.where("region_iso", .equal, SQLBind(r)) }
        if let s = f.state { q = q.where("state", .equal, SQLBind(s.rawValue)) }
        if let k = f.kind { q = q.where("kind", .equal, SQLBind(k.rawValue)) }
        if let d = f.district { q = q.where("district_id", .equal, SQLBind(d)) }
        if let from = f.contractFrom { q = q.where("contract_on", .greaterThanOrEqual, SQLBind(from.iso)) }
        if let to = f.contractTo { q = q.where("contract_on", .lessThanOrEqual, SQLBind(to.iso)) }
        return try await q.orderBy("id", ascending ? .ascending : .descending).limit(limit).all(decoding: LoanRow.self)
    }

    public func loan(_ id: Int, for user: UserContext) async throws -> LoanRow? {
        try await visible(store.sql.select().column("*").from("loans").where("id", .equal, SQLBind(id)), user).first(decoding: LoanRow.self)
    }

    func loanRow(_ id: Int, on sql: any SQLDatabase) async throws -> LoanRow? {
        try await sql.select().column("*").from("loans").where("id", .equal, SQLBind(id)).first(decoding: LoanRow.self)
    }

    /// Checks a loan against the terms in force on its contract date. Returns the problems (the violated conditions
    /// with the limits that apply) and the explanation.
    public static func check(_ input: LoanInput, kind: LoanKind, rules: RuleContext) throws -> (errors: [FieldError], steps: [ExplanationStep]) {
        var errors: [FieldError] = []
        var steps: [ExplanationStep] = []
        switch kind {
        case .finalBorrower:
            let c = try Rules.finalBorrowerLoanCheck(amount: input.amount, termMonths: input.termMonths, purpose: input.purpose, ratePercent: input.ratePercent, graceMonths: input.graceMonths, rules)
            steps = c.steps
            for v in c.value.violations {
                switch v {
                case "amount_above_max": errors.append(FieldError("amount", "loan_amount_above_max", ["max": c.value.maxAmount.formatted(), "date": rules.date.iso]))
                case "term_above_max": errors.append(FieldError("term_months", "loan_term_above_max"))
                case "rate_above_max": errors.append(FieldError("rate_percent", "loan_rate_above_max"))
                default: errors.append(FieldError("grace_months", "loan_grace_above_max"))
                }
            }
            // C5: the loan is given on condition of creating new jobs.
            if input.jobsPromised < 1 { errors.append(FieldError("jobs_promised", "loan_jobs_required")) }
        case .microcredit:
            let c = try Rules.microcreditCheck(amount: input.amount, termMonths: input.termMonths, graceMonths: input.graceMonths, rules)
            steps = c.steps
            for v in c.value.violations {
                switch v {
                case "amount_above_max": errors.append(FieldError("amount", "loan_amount_above_max", ["max": Money(fixedTenge: (try? rules.p("microcredit_max_amount").value) ?? FixedDecimal(0)).formatted(), "date": rules.date.iso]))
                case "term_above_max": errors.append(FieldError("term_months", "loan_term_above_max"))
                default: errors.append(FieldError("grace_months", "loan_grace_above_max"))
                }
            }
            if input.jobsPromised < 0 { errors.append(FieldError("jobs_promised", "loan_jobs_required")) }
        }
        // C5: registered with the tax authority.
        if !input.taxRegistered { errors.append(FieldError("tax_registered", "loan_not_tax_registered")) }
        return (errors, steps)
    }

    struct LoanSnapshot: Encodable, Sendable { let number: String; let kind: String; let credit_id: Int; let amount: String; let term_months: Int; let rate: String; let grace_months: Int; let jobs_promised: Int; let contract_on: String }

    /// The credit organisation records a loan contract. It is checked against `final_borrower_loan_check` or
    /// `microcredit_check` on the contract date and refused with the violated conditions; a good loan gets its
    /// schedule by `loan_schedule`. The borrower is identified by IIN or BIN; names stay out of logs and URLs.
    @discardableResult
    public func createLoan(_ input: LoanInput, env: RulesEnvironment, by user: UserContext) async throws -> Int {
        guard user.role == .lender, let org = user.organisationID else { throw FieldErrors(errors: [FieldError("credit_id", "read_only")]) }
        guard let credit = try await credit(input.creditID), credit.levelValue == .creditOrganisation, credit.borrower_id == org else {
            throw FieldErrors(errors: [FieldError("credit_id", "choose_from_list")])
        }
        let kind: LoanKind = credit.directionValue == .programmeBusiness ? .microcredit : .finalBorrower
        var errors: [FieldError] = []
        let id = input.borrowerID.trimmingCharacters(in: .whitespaces)
        var borrowerKind = ""
        if (try? IIN(id)) != nil { borrowerKind = "iin" } else if (try? BIN(id)) != nil { borrowerKind = "bin" } else { errors.append(FieldError("borrower_id", "borrower_id_invalid")) }
        let name = input.borrowerName.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 300 { errors.append(FieldError("borrower_name", "name_required")) }
        let purposeText = input.purposeText.trimmingCharacters(in: .whitespaces)
        if purposeText.isEmpty || purposeText.count > 1000 { errors.append(FieldError("purpose_text", "note_required")) }
        if let d = try await DistrictRecord.find(input.districtID, on: store.db), d.regionISO == credit.region_iso {} else { errors.append(FieldError("district_id", "choose_from_list")) }
        if input.contractOn > today() { errors.append(FieldError("contract_on", "date_future")) }
        if let t = CivilDate(iso: credit.transferred_on), input.contractOn < t { errors.append(FieldError("contract_on", "credit_before_parent")) }
        // C4: the credit organisation uses the credit within its utilisation period; after it the rest goes back.
        if input.contractOn.iso > credit.use_by { errors.append(FieldError("contract_on", "credit_use_deadline_passed", ["date": credit.use_by])) }
        if input.amount.tiyn <= 0 || input.termMonths < 1 || input.termMonths > 600 || input.graceMonths < 0 || input.ratePercent.units < 0 || input.ratePercent.units > 100 * FixedDecimal.scale
            || input.jobsPromised > 10_000 {
            errors.append(FieldError("amount", "amount_invalid"))
            throw FieldErrors(errors: errors)
        }
        let rules = env.context(on: input.contractOn)
        let checked = try Self.check(input, kind: kind, rules: rules)
        errors += checked.errors
        if input.amount.tiyn > credit.available { errors.append(FieldError("amount", "credit_exceeded", ["available": Money(tiyn: credit.available).formatted()])) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let schedule = try Rules.loanSchedule(principal: input.amount, ratePercent: input.ratePercent, termMonths: input.termMonths, graceMonths: input.graceMonths,
                                              method: input.method, startDate: input.contractOn)
        let explanation = try CaseStore.explanationJSON(checked.steps + schedule.steps)
        let region = credit.region_iso, borrowerKindValue = borrowerKind
        return try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            let number = "L-\(input.contractOn.year)-\(UUID().uuidString.prefix(8).uppercased())"
            guard let loanID = try await ctx.sql.insert(into: "loans")
                .columns("number", "kind", "credit_id", "lender_id", "region_iso", "district_id", "borrower_kind", "borrower_id", "borrower_name", "tax_registered", "purpose", "purpose_text",
                         "amount", "term_months", "rate", "grace_months", "method", "jobs_promised", "contract_on", "disbursed", "state", "check_explanation", "version", "by_login", "at")
                .values(SQLBind(number), SQLBind(kind.rawValue), SQLBind(credit.id), SQLBind(org), SQLBind(region), SQLBind(input.districtID), SQLBind(borrowerKindValue), SQLBind(id), SQLBind(name),
                        SQLBind(input.taxRegistered), SQLBind(input.purpose.rawValue), SQLBind(purposeText), SQLBind(input.amount.tiyn), SQLBind(input.termMonths), SQLBind(input.ratePercent.units),
                        SQLBind(input.graceMonths), SQLBind(input.method.rawValue), SQLBind(input.jobsPromised), SQLBind(input.contractOn.iso), SQLBind(Int64(0)), SQLBind(LoanState.contracted.rawValue),
                        SQLBind(explanation), SQLBind(1), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now)))
                .returning("id").first(decoding: R.self)?.id else { throw StoreError.conflict("loan not stored") }
            var insert = ctx.sql.insert(into: "loan_schedule_lines").columns("loan_id", "n", "due_on", "principal", "interest", "balance")
            for l in schedule.value { insert = insert.values(SQLBind(loanID), SQLBind(l.n), SQLBind(l.date.iso), SQLBind(l.principal.tiyn), SQLBind(l.interest.tiyn), SQLBind(l.balance.tiyn)) }
            try await insert.run()
            try ctx.audit("create", entity: "loan", id: String(loanID), after: LoanSnapshot(number: number, kind: kind.rawValue, credit_id: credit.id, amount: input.amount.decimalString,
                                                                                         term_months: input.termMonths, rate: input.ratePercent.description, grace_months: input.graceMonths,
                                                                                         jobs_promised: input.jobsPromised, contract_on: input.contractOn.iso))
            return loanID
        }
    }

    public struct ScheduleRow: Decodable, Sendable { public let n: Int, due_on: String, principal: Int64, interest: Int64, balance: Int64 }
    public struct MoneyEvent: Decodable, Sendable { public let id: Int, amount: Int64, on_date: String, by_login: String }
    public struct JobRow: Decodable, Sendable { public let id: Int, slot: Int, contract_number: String, contract_on: String, ended_on: String?, seasonal: Bool }

    public func schedule(of loanID: Int) async throws -> [ScheduleRow] {
        try await store.sql.select().columns("n", "due_on", "principal", "interest", "balance").from("loan_schedule_lines").where("loan_id", .equal, SQLBind(loanID)).orderBy("n").all(decoding: ScheduleRow.self)
    }
    public func disbursements(of loanID: Int) async throws -> [MoneyEvent] {
        try await store.sql.select().columns("id", "amount", "on_date", "by_login").from("loan_disbursements").where("loan_id", .equal, SQLBind(loanID)).orderBy("id").all(decoding: MoneyEvent.self)
    }
    public func repayments(of loanID: Int) async throws -> [MoneyEvent] {
        try await store.sql.select().columns("id", "amount", "on_date", "by_login").from("loan_repayments").where("loan_id", .equal, SQLBind(loanID)).orderBy("on_date").orderBy("id").all(decoding: MoneyEvent.self)
    }
    public func jobs(of loanID: Int) async throws -> [JobRow] {
        try await store.sql.select().columns("id", "slot", "contract_number", "contract_on", "ended_on", "seasonal").from("loan_jobs").where("loan_id", .equal, SQLBind(loanID)).orderBy("slot").orderBy("contract_on").all(decoding: JobRow.self)
    }

    func lenderLoan(_ id: Int, _ user: UserContext) async throws -> LoanRow {
        guard let l = try await loanRow(id, on: store.sql) else { throw StoreError.notFound }
        guard user.role == .lender, user.organisationID == l.lender_id else {
            if try await loan(id, for: user) == nil { throw StoreError.notFound }
            throw FieldErrors(errors: [FieldError("amount", "read_only")])
        }
        return l
    }

    /// A tranche paid to the borrower. It draws on the credit organisation's budget credit (never beyond it, by a
    /// conditional update) and on the loan's amount. The first tranche starts the C6 terms: target use within 90
    /// days, the jobs within 24 months.
    public func disburse(loan id: Int, amount: Money, on: CivilDate, env: RulesEnvironment, by user: UserContext) async throws {
        let l = try await lenderLoan(id, user)
        var errors: [FieldError] = []
        if amount.tiyn <= 0 { errors.append(FieldError("amount", "amount_invalid")) }
        if amount.tiyn > l.amount - l.disbursed { errors.append(FieldError("amount", "loan_disbursed_above_amount", ["left": Money(tiyn: l.amount - l.disbursed).formatted()])) }
        if on > today() { errors.append(FieldError("on", "date_future")) }
        if let c = CivilDate(iso: l.contract_on), on < c { errors.append(FieldError("on", "loan_before_contract")) }
        if l.stateValue == .demanded || l.stateValue == .repaid { errors.append(FieldError("amount", "loan_closed")) }
        if let c = try await credit(l.credit_id), on.iso > c.use_by { errors.append(FieldError("on", "credit_use_deadline_passed", ["date": c.use_by])) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let deadlines = try Rules.loanDeadlines(disbursedOn: on, env.context(on: on))
        try await store.write(as: user.actor) { ctx in
            let c = try await ctx.sql.update("budget_credits").set("used", to: SQLRaw("used + \(amount.tiyn)")).where("id", .equal, SQLBind(l.credit_id))
                .where("returned_on", .is, SQLLiteral.null).where(SQLRaw("used + \(amount.tiyn) <= amount")).returning("id").all()
            guard c.count == 1 else { throw FieldErrors(errors: [FieldError("amount", "credit_exceeded", ["available": Money(tiyn: (try await self.credit(l.credit_id, on: ctx.sql))?.available ?? 0).formatted()])]) }
            var u = ctx.sql.update("loans").set("disbursed", to: SQLRaw("disbursed + \(amount.tiyn)")).set("state", to: SQLBind(LoanState.disbursed.rawValue)).set("version", to: SQLRaw("version + 1"))
            if l.disbursed_on == nil {
                u = u.set("disbursed_on", to: SQLBind(on.iso)).set("target_use_by", to: SQLBind(deadlines.value.targetUseBy.iso)).set("jobs_by", to: SQLBind(deadlines.value.jobsBy.iso))
            }
            let n = try await u.where("id", .equal, SQLBind(id)).where(SQLRaw("disbursed + \(amount.tiyn) <= amount")).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("amount", "loan_disbursed_above_amount", ["left": "0"])]) }
            try await ctx.sql.insert(into: "loan_disbursements").columns("loan_id", "amount", "on_date", "by_login", "at")
                .values(SQLBind(id), SQLBind(amount.tiyn), SQLBind(on.iso), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now))).run()
            try ctx.audit("disburse", entity: "loan", id: String(id), after: ["amount": amount.decimalString, "on": on.iso])
        }
    }

    /// A repayment received from the borrower. A loan repaid in full is closed.
    public func repay(loan id: Int, amount: Money, on: CivilDate, by user: UserContext) async throws {
        let l = try await lenderLoan(id, user)
        var errors: [FieldError] = []
        if amount.tiyn <= 0 || amount.tiyn > 100_000_000_000_000 { errors.append(FieldError("amount", "amount_invalid")) }
        if on > today() { errors.append(FieldError("on", "date_future")) }
        if l.disbursed_on == nil { errors.append(FieldError("amount", "loan_not_disbursed")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let lines = try await schedule(of: id)
        let owed = lines.reduce(Int64(0)) { $0 + $1.principal + $1.interest }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.insert(into: "loan_repayments").columns("loan_id", "amount", "on_date", "by_login", "at")
                .values(SQLBind(id), SQLBind(amount.tiyn), SQLBind(on.iso), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now))).run()
            struct S: Decodable { let s: Int64 }
            let paid = try await ctx.sql.select().column(SQLRaw("COALESCE(CAST(SUM(amount) AS BIGINT), 0)"), as: "s").from("loan_repayments").where("loan_id", .equal, SQLBind(id)).first(decoding: S.self)?.s ?? 0
            if paid >= owed + (l.penalty ?? 0) {
                try await ctx.sql.update("loans").set("state", to: SQLBind(LoanState.repaid.rawValue)).set("version", to: SQLRaw("version + 1")).where("id", .equal, SQLBind(id)).run()
            }
            try ctx.audit("repay", entity: "loan", id: String(id), after: ["amount": amount.decimalString, "on": on.iso])
        }
    }

    /// C6: the borrower's confirmation of the target use.
    public func confirmTargetUse(loan id: Int, on: CivilDate, by user: UserContext) async throws {
        let l = try await lenderLoan(id, user)
        var errors: [FieldError] = []
        if l.disbursed_on == nil { errors.append(FieldError("on", "loan_not_disbursed")) }
        if l.target_use_confirmed_on != nil { errors.append(FieldError("on", "already_recorded")) }
        if on > today() { errors.append(FieldError("on", "date_future")) }
        if let d = l.disbursed_on.flatMap(CivilDate.init(iso:)), on < d { errors.append(FieldError("on", "loan_before_contract")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            // Once, even when confirmed twice at the same moment.
            struct R: Decodable { let id: Int }
            guard try await ctx.sql.update("loans").set("target_use_confirmed_on", to: SQLBind(on.iso)).set("version", to: SQLRaw("version + 1")).where("id", .equal, SQLBind(id))
                .where("target_use_confirmed_on", .is, SQLLiteral.null).returning("id").first(decoding: R.self) != nil else {
                throw FieldErrors(errors: [FieldError("on", "already_recorded")])
            }
            try ctx.audit("target_use", entity: "loan", id: String(id), after: ["on": on.iso, "late": (l.target_use_by.map { on.iso > $0 } ?? false) ? "yes" : "no"])
        }
    }

    /// C6: a labour contract that fills a promised job. Without a slot it fills the first job that has no worker;
    /// a contract after an earlier one ended replaces the departed worker. Seasonal or temporary contracts are recorded
    /// but confirm nothing.
    public func recordJob(loan id: Int, slot: Int?, contractNumber: String, contractOn: CivilDate, seasonal: Bool, by user: UserContext) async throws {
        let l = try await lenderLoan(id, user)
        let jobs = try await jobs(of: id)
        var errors: [FieldError] = []
        let number = contractNumber.trimmingCharacters(in: .whitespaces)
        if number.isEmpty || number.count > 100 { errors.append(FieldError("contract_number", "name_required")) }
        if contractOn > today() { errors.append(FieldError("contract_on", "date_future")) }
        if let c = CivilDate(iso: l.contract_on), contractOn < c { errors.append(FieldError("contract_on", "loan_before_contract")) }
        let open = Set(jobs.filter { $0.ended_on == nil && !$0.seasonal }.map(\.slot))
        let chosen = slot ?? (1...max(1, l.jobs_promised)).first { !open.contains($0) }
        if l.jobs_promised < 1 { errors.append(FieldError("slot", "loan_jobs_required")) }
        if let s = chosen, !(1...max(1, l.jobs_promised)).contains(s) || (open.contains(s) && !seasonal) { errors.append(FieldError("slot", "loan_job_slot_taken")) }
        if chosen == nil { errors.append(FieldError("slot", "loan_job_slot_taken")) }
        guard errors.isEmpty, chosen != nil else { throw FieldErrors(errors: errors) }
        let promised = l.jobs_promised
        try await store.write(as: user.actor) { ctx in
            // The loan's jobs are filled one by one: the slot chosen above is chosen again on what is stored now.
            try await ctx.serialize("loan:\(id)")
            let now = try await ctx.sql.select().columns("id", "slot", "contract_number", "contract_on", "ended_on", "seasonal").from("loan_jobs").where("loan_id", .equal, SQLBind(id))
                .all(decoding: JobRow.self)
            let taken = Set(now.filter { $0.ended_on == nil && !$0.seasonal }.map(\.slot))
            guard let s = slot ?? (1...max(1, promised)).first(where: { !taken.contains($0) }), seasonal || !taken.contains(s) else {
                throw FieldErrors(errors: [FieldError("slot", "loan_job_slot_taken")])
            }
            try await ctx.sql.insert(into: "loan_jobs").columns("loan_id", "slot", "contract_number", "contract_on", "seasonal", "by_login", "at")
                .values(SQLBind(id), SQLBind(s), SQLBind(number), SQLBind(contractOn.iso), SQLBind(seasonal), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now))).run()
            try ctx.audit("job", entity: "loan", id: String(id), after: ["slot": String(s), "contract_on": contractOn.iso, "seasonal": seasonal ? "yes" : "no"])
        }
    }

    /// C6: a worker on a promised job left; the job must be filled again.
    public func endJob(loan id: Int, job jobID: Int, endedOn: CivilDate, by user: UserContext) async throws {
        _ = try await lenderLoan(id, user)
        guard let j = try await jobs(of: id).first(where: { $0.id == jobID }), j.ended_on == nil else { throw FieldErrors(errors: [FieldError("ended_on", "already_recorded")]) }
        if endedOn > today() || endedOn.iso < j.contract_on { throw FieldErrors(errors: [FieldError("ended_on", "date_future")]) }
        try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            guard try await ctx.sql.update("loan_jobs").set("ended_on", to: SQLBind(endedOn.iso)).where("id", .equal, SQLBind(jobID)).where("ended_on", .is, SQLLiteral.null)
                .returning("id").first(decoding: R.self) != nil else { throw FieldErrors(errors: [FieldError("ended_on", "already_recorded")]) }
            try ctx.audit("job_ended", entity: "loan", id: String(id), after: ["slot": String(j.slot), "ended_on": endedOn.iso])
        }
    }

    /// A loan's standing on a day: what is due and repaid, the arrears and since when, and the C6 confirmations.
    public struct Standing: Sendable, Equatable {
        public let due: Money, repaid: Money, arrears: Money, overdueSince: CivilDate?, outstandingPrincipal: Money
        public let targetUseOverdue: Bool, jobsConfirmed: Int, jobsVacant: Int, jobsOverdue: Bool
        public var flags: [String] {
            var f: [String] = []
            if arrears.tiyn > 0 { f.append("arrears") }
            if targetUseOverdue { f.append("target_use_overdue") }
            if jobsOverdue { f.append("jobs_overdue") }
            if jobsVacant > 0 { f.append("job_vacant") }
            return f
        }
        /// C6: the conditions failed, so the lender demands full repayment with the contract's penalty.
        public var demandable: Bool { targetUseOverdue || jobsOverdue }
    }

    public static func standing(_ l: LoanRow, schedule: [ScheduleRow], repayments: [MoneyEvent], jobs: [JobRow], today: CivilDate) -> Standing {
        let dueLines = schedule.filter { $0.due_on <= today.iso }
        let due = dueLines.reduce(Int64(0)) { $0 + $1.principal + $1.interest }
        let repaid = repayments.filter { $0.on_date <= today.iso }.reduce(Int64(0)) { $0 + $1.amount }
        var left = repaid
        var since: CivilDate? = nil
        for line in dueLines {
            let owed = line.principal + line.interest
            if left >= owed { left -= owed } else { since = CivilDate(iso: line.due_on); break }
        }
        // Principal still owed: the loan less the principal parts covered by repayments (interest first within a line).
        var cover = repaid, principalPaid: Int64 = 0
        for line in schedule {
            let interest = min(cover, line.interest); cover -= interest
            let p = min(cover, line.principal); cover -= p; principalPaid += p
            if cover == 0 { break }
        }
        let targetOverdue = l.disbursed_on != nil && l.target_use_confirmed_on == nil && (l.target_use_by.map { today.iso > $0 } ?? false)
        // A job counts when a non-seasonal contract filled it by the deadline; a job whose worker left and was not
        // replaced is vacant.
        let jobsBy = l.jobs_by ?? "9999-12-31"
        let real = jobs.filter { !$0.seasonal }
        let slots = Dictionary(grouping: real, by: \.slot)
        let confirmed = slots.filter { $0.value.contains { $0.contract_on <= jobsBy } }.count
        let vacant = slots.filter { _, contracts in !contracts.contains { $0.ended_on == nil } }.count
        let overdue = l.disbursed_on != nil && today.iso > jobsBy && confirmed < l.jobs_promised
        return Standing(due: Money(tiyn: due), repaid: Money(tiyn: repaid), arrears: Money(tiyn: max(0, due - repaid)), overdueSince: due > repaid ? since : nil,
                        outstandingPrincipal: Money(tiyn: l.disbursed == 0 ? l.amount : l.amount - principalPaid),
                        targetUseOverdue: targetOverdue, jobsConfirmed: confirmed, jobsVacant: vacant, jobsOverdue: overdue)
    }

    public func standing(of l: LoanRow, today: CivilDate? = nil) async throws -> Standing {
        try await standings(of: [l], today: today)[l.id]!
    }

    /// The standing of many loans (a list page) in three queries per 500 loans, not three per loan.
    public func standings(of loans: [LoanRow], today: CivilDate? = nil) async throws -> [Int: Standing] {
        struct S: Decodable { let loan_id: Int; let n: Int; let due_on: String; let principal: Int64; let interest: Int64; let balance: Int64 }
        struct P: Decodable { let loan_id: Int; let id: Int; let amount: Int64; let on_date: String; let by_login: String }
        struct J: Decodable { let loan_id: Int; let id: Int; let slot: Int; let contract_number: String; let contract_on: String; let ended_on: String?; let seasonal: Bool }
        let day = today ?? self.today()
        var out: [Int: Standing] = [:]
        for chunk in stride(from: 0, to: loans.count, by: 500).map({ Array(loans[$0..<min($0 + 500, loans.count)]) }) {
            let ids = SQLBind.group(chunk.map(\.id))
            let lines = Dictionary(grouping: try await store.sql.select().columns("loan_id", "n", "due_on", "principal", "interest", "balance").from("loan_schedule_lines")
                .where("loan_id", .in, ids).orderBy("loan_id").orderBy("n").all(decoding: S.self), by: \.loan_id)
            let paid = Dictionary(grouping: try await store.sql.select().columns("loan_id", "id", "amount", "on_date", "by_login").from("loan_repayments")
                .where("loan_id", .in, ids).orderBy("on_date").orderBy("id").all(decoding: P.self), by: \.loan_id)
            let jobs = Dictionary(grouping: try await store.sql.select().columns("loan_id", "id", "slot", "contract_number", "contract_on", "ended_on", "seasonal").from("loan_jobs")
                .where("loan_id", .in, ids).orderBy("slot").orderBy("contract_on").all(decoding: J.self), by: \.loan_id)
            for l in chunk {
                out[l.id] = Self.standing(l, schedule: (lines[l.id] ?? []).map { ScheduleRow(n: $0.n, due_on: $0.due_on, principal: $0.principal, interest: $0.interest, balance: $0.balance) },
                                          repayments: (paid[l.id] ?? []).map { MoneyEvent(id: $0.id, amount: $0.amount, on_date: $0.on_date, by_login: $0.by_login) },
                                          jobs: (jobs[l.id] ?? []).map { JobRow(id: $0.id, slot: $0.slot, contract_number: $0.contract_number, contract_on: $0.contract_on, ended_on: $0.ended_on, seasonal: $0.seasonal) },
                                          today: day)
            }
        }
        return out
    }

    /// C6: the conditions were not confirmed in time: the penalty of the loan contract and the demand for full
    /// repayment are recorded. Refused while the conditions can still be met.
    public func demand(loan id: Int, penalty: Money, reason: String, on: CivilDate, by user: UserContext) async throws {
        let l = try await lenderLoan(id, user)
        let s = try await standing(of: l, today: on)
        var errors: [FieldError] = []
        let why = reason.trimmingCharacters(in: .whitespaces)
        if why.isEmpty || why.count > 1000 { errors.append(FieldError("reason", "note_required")) }
        if penalty.tiyn < 0 || penalty.tiyn > l.amount { errors.append(FieldError("penalty", "amount_invalid")) }
        if on > today() { errors.append(FieldError("on", "date_future")) }
        if !s.demandable { errors.append(FieldError("reason", "loan_conditions_not_failed")) }
        if l.stateValue == .demanded || l.stateValue == .repaid { errors.append(FieldError("reason", "loan_closed")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let version = l.version
        try await store.write(as: user.actor) { ctx in
            let n = try await ctx.sql.update("loans").set("state", to: SQLBind(LoanState.demanded.rawValue)).set("demanded_on", to: SQLBind(on.iso)).set("penalty", to: SQLBind(penalty.tiyn))
                .set("demand_reason", to: SQLBind(why)).set("version", to: SQLBind(version + 1)).where("id", .equal, SQLBind(id)).where("version", .equal, SQLBind(version)).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("reason", "project_changed")]) }
            try ctx.audit("demand", entity: "loan", id: String(id), after: ["penalty": penalty.decimalString, "reason": why, "on": on.iso, "flags": s.flags.joined(separator: ","),
                                                                             "jobs_confirmed": "\(s.jobsConfirmed)/\(l.jobs_promised)", "outstanding": s.outstandingPrincipal.decimalString])
        }
    }

    // MARK: reports (C7)

    /// One line of a loan report: a credit organisation's loans in a region for a month.
    public struct ReportLine: Decodable, Sendable {
        public let region_iso: String, lender_id: Int
        public let issued: Int, issued_amount: Int64, jobs_promised: Int
        public let disbursed_amount: Int64
        public let use_confirmed: Int, use_overdue: Int, jobs_confirmed: Int, demanded: Int
    }

    /// The month's figures per region and credit organisation: loans issued (contracts and disbursements) and their
    /// target use (confirmations of use and jobs, overdue, demands).
    public func report(month: Payroll.Month, for user: UserContext) async throws -> [ReportLine] {
        let first = month.first.iso, last = month.last.iso
        func between(_ c: String) -> String { "\(c) >= '\(first)' AND \(c) <= '\(last)'" }
        // Dates are ISO strings built from a validated month: safe to inline.
        let q = store.sql.select().column("region_iso").column("lender_id")
            .column(SQLRaw("CAST(SUM(CASE WHEN \(between("contract_on")) THEN 1 ELSE 0 END) AS BIGINT)"), as: "issued")
            .column(SQLRaw("CAST(SUM(CASE WHEN \(between("contract_on")) THEN amount ELSE 0 END) AS BIGINT)"), as: "issued_amount")
            .column(SQLRaw("CAST(SUM(CASE WHEN \(between("contract_on")) THEN jobs_promised ELSE 0 END) AS BIGINT)"), as: "jobs_promised")
            .column(SQLRaw("CAST(COALESCE(SUM(dd.disbursed), 0) AS BIGINT)"), as: "disbursed_amount")
            .column(SQLRaw("CAST(SUM(CASE WHEN \(between("target_use_confirmed_on")) THEN 1 ELSE 0 END) AS BIGINT)"), as: "use_confirmed")
            .column(SQLRaw("CAST(SUM(CASE WHEN target_use_confirmed_on IS NULL AND target_use_by < '\(last)' THEN 1 ELSE 0 END) AS BIGINT)"), as: "use_overdue")
            .column(SQLRaw("CAST(COALESCE(SUM(jj.n), 0) AS BIGINT)"), as: "jobs_confirmed")
            .column(SQLRaw("CAST(SUM(CASE WHEN \(between("demanded_on")) THEN 1 ELSE 0 END) AS BIGINT)"), as: "demanded")
            .from("loans")
            // The month's disbursements and confirmed jobs per loan, joined to the loans the user may see (so that a
            // district's or a lender's figures are its own loans', not its region's).
            .join(SQLRaw("(SELECT loan_id, SUM(amount) AS disbursed FROM loan_disbursements WHERE \(between("on_date")) GROUP BY loan_id) dd"), method: SQLJoinMethod.left, on: SQLRaw("dd.loan_id = loans.id"))
            .join(SQLRaw("(SELECT loan_id, COUNT(*) AS n FROM loan_jobs WHERE seasonal = \(store.isPostgres ? "false" : "0") AND \(between("contract_on")) GROUP BY loan_id) jj"), method: SQLJoinMethod.left,
                  on: SQLRaw("jj.loan_id = loans.id"))
            .where("contract_on", .lessThanOrEqual, SQLBind(last))
        return try await visible(q, user).groupBy("region_iso").groupBy("lender_id").orderBy("region_iso").orderBy("lender_id").all(decoding: ReportLine.self)
    }

    // MARK: bond loans (C8)

    public struct BondRow: Decodable, Sendable {
        public let id: Int, region_iso: String, borrower_id: Int, amount: Int64, years: Int, issued_on: String, purpose: String, explanation: String?, by_login: String
    }
    public struct BondEvent: Decodable, Sendable { public let id: Int, bond_id: Int, kind: String, month: String?, amount: Int64, on_date: String, note: String, by_login: String }

    public func bonds(for user: UserContext) async throws -> [BondRow] {
        var q = store.sql.select().column("*").from("bond_loans")
        switch user.scope {
        case .national: break
        case .region(let r): q = q.where("region_iso", .equal, SQLBind(r.iso))
        default: q = q.where(SQLLiteral.boolean(false))
        }
        return try await q.orderBy("id", .descending).all(decoding: BondRow.self)
    }
    public func bondEvents(_ id: Int) async throws -> [BondEvent] {
        try await store.sql.select().column("*").from("bond_events").where("bond_id", .equal, SQLBind(id)).orderBy("on_date").orderBy("id").all(decoding: BondEvent.self)
    }

    /// C8: the authorised body records a bond loan to a region's local body: 6.1 % a year, interest once a year,
    /// principal at the end of at most 12 years.
    @discardableResult
    public func issueBond(region: String, borrower: Int, amount: Money, years: Int, issuedOn: CivilDate, purpose: String, env: RulesEnvironment, by user: UserContext) async throws -> Int {
        guard try await body(user) == .ministry else { throw FieldErrors(errors: [FieldError("amount", "limit_not_your_body")]) }
        var errors: [FieldError] = []
        let org = try await OrganisationRecord.find(borrower, on: store.db)
        if org?.kind != OrganisationKind.akimat.rawValue || org?.regionISO != region || org?.districtID != nil { errors.append(FieldError("borrower_id", "credit_borrower_invalid")) }
        let text = purpose.trimmingCharacters(in: .whitespaces)
        if text.isEmpty || text.count > 500 { errors.append(FieldError("purpose", "note_required")) }
        if issuedOn > today() { errors.append(FieldError("issued_on", "date_future")) }
        if amount.tiyn <= 0 || amount.tiyn > 100_000_000_000_000 { errors.append(FieldError("amount", "amount_invalid")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let schedule: Explained<[ScheduleLine]>
        do { schedule = try Rules.bondLoanSchedule(principal: amount, years: years, startDate: issuedOn, env.context(on: issuedOn)) } catch let e as RuleInputError {
            throw FieldErrors(errors: [FieldError(e.input == "years" ? "years" : "amount", "bond_years_invalid")])
        }
        let explanation = try CaseStore.explanationJSON(schedule.steps)
        return try await store.write(as: user.actor) { ctx in
            struct R: Decodable { let id: Int }
            guard let id = try await ctx.sql.insert(into: "bond_loans").columns("region_iso", "borrower_id", "amount", "years", "issued_on", "purpose", "explanation", "by_login", "at")
                .values(SQLBind(region), SQLBind(borrower), SQLBind(amount.tiyn), SQLBind(years), SQLBind(issuedOn.iso), SQLBind(text), SQLBind(explanation), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now)))
                .returning("id").first(decoding: R.self)?.id else { throw StoreError.conflict("bond not stored") }
            try ctx.audit("issue", entity: "bond_loan", id: String(id), after: ["region": region, "amount": amount.decimalString, "years": String(years), "issued_on": issuedOn.iso])
            return id
        }
    }

    /// The schedule of a bond loan as it stands: each year's interest on the principal still owed at the start of
    /// that year (early repayments lower it), and the rest of the principal at the end.
    public func bondSchedule(_ b: BondRow, events: [BondEvent], env: RulesEnvironment) throws -> [ScheduleLine] {
        guard let issued = CivilDate(iso: b.issued_on) else { return [] }
        let base = try Rules.bondLoanSchedule(principal: Money(tiyn: b.amount), years: b.years, startDate: issued, env.context(on: issued)).value
        let rate = try env.context(on: issued).p("bond_rate").value
        var lines: [ScheduleLine] = []
        var owed = Money(tiyn: b.amount)
        var prevDate = issued
        for line in base {
            let early = events.filter { $0.kind == BondEventKind.earlyRepayment.rawValue && $0.on_date > prevDate.iso && $0.on_date <= line.date.iso }.reduce(Int64(0)) { $0 + $1.amount }
            // Interest accrues on what was owed at the start of the year; an early repayment lowers the years after it.
            let interest = rate.percentOf(owed, rounding: .halfUp)
            owed -= Money(tiyn: min(early, owed.tiyn))
            let last = line.n == b.years
            lines.append(ScheduleLine(n: line.n, date: line.date, principal: last ? owed : .zero, interest: interest, balance: last ? .zero : owed))
            prevDate = line.date
        }
        return lines
    }

    /// C8: an early repayment (the authorised body records it) or the local body's monthly report of the use of funds.
    public func recordBondEvent(_ id: Int, kind: BondEventKind, month: String?, amount: Money, on: CivilDate, note: String, by user: UserContext) async throws {
        guard let b = try await store.sql.select().column("*").from("bond_loans").where("id", .equal, SQLBind(id)).first(decoding: BondRow.self) else { throw StoreError.notFound }
        let who = try await body(user)
        var errors: [FieldError] = []
        switch kind {
        case .earlyRepayment:
            guard who == .ministry else { throw FieldErrors(errors: [FieldError("amount", "limit_not_your_body")]) }
            let repaid = try await bondEvents(id).filter { $0.kind == BondEventKind.earlyRepayment.rawValue }.reduce(Int64(0)) { $0 + $1.amount }
            if amount.tiyn <= 0 || amount.tiyn > b.amount - repaid { errors.append(FieldError("amount", "amount_invalid")) }
        case .useReport:
            guard who == .akimat, user.districtID == nil, user.regionISO == b.region_iso else { throw FieldErrors(errors: [FieldError("amount", "limit_not_your_body")]) }
            if month.flatMap(Payroll.Month.init) == nil { errors.append(FieldError("month", "month_invalid")) }
            if amount.tiyn < 0 || amount.tiyn > b.amount { errors.append(FieldError("amount", "amount_invalid")) }
            if let m = month, try await bondEvents(id).contains(where: { $0.kind == BondEventKind.useReport.rawValue && $0.month == m }) { errors.append(FieldError("month", "already_recorded")) }
        }
        if on > today() || on.iso < b.issued_on { errors.append(FieldError("on", "date_future")) }
        let text = note.trimmingCharacters(in: .whitespaces)
        if text.count > 1000 { errors.append(FieldError("note", "note_required")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            // The bond's events one at a time: what was repaid and which months were reported, checked again as stored now.
            try await ctx.serialize("bond:\(id)")
            struct E: Decodable { let kind: String; let month: String?; let amount: Int64 }
            let events = try await ctx.sql.select().columns("kind", "month", "amount").from("bond_events").where("bond_id", .equal, SQLBind(id)).all(decoding: E.self)
            switch kind {
            case .earlyRepayment:
                let repaid = events.filter { $0.kind == BondEventKind.earlyRepayment.rawValue }.reduce(Int64(0)) { $0 + $1.amount }
                if amount.tiyn > b.amount - repaid { throw FieldErrors(errors: [FieldError("amount", "amount_invalid")]) }
            case .useReport:
                if events.contains(where: { $0.kind == BondEventKind.useReport.rawValue && $0.month == month }) { throw FieldErrors(errors: [FieldError("month", "already_recorded")]) }
            }
            try await ctx.sql.insert(into: "bond_events").columns("bond_id", "kind", "month", "amount", "on_date", "note", "by_login", "at")
                .values(SQLBind(id), SQLBind(kind.rawValue), SQLBind(kind == .useReport ? month : nil), SQLBind(amount.tiyn), SQLBind(on.iso), SQLBind(text), SQLBind(user.login), SQLBind(AuditLog.timestamp(ctx.now))).run()
            try ctx.audit(kind.rawValue, entity: "bond_loan", id: String(id), after: ["amount": amount.decimalString, "month": month ?? "", "on": on.iso])
        }
    }
}
