import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// The works of a project: hires counted toward its quota with the E6 wage floor and the E7 bonus, the contractor's
/// monthly progress (G1), savings (E11), and the compliance board.
extension ProjectStore {
    public struct HireRow: Decodable, Sendable {
        public let id: Int, project_id: Int, organisation_id: Int, referral_id: Int, labour_contract_id: Int, person_id: Int, phase: String, starts_on: String
        public let wage: Int64, wage_floor: Int64, wage_ok: Bool, from_other_settlement: Bool, bonus_amount: Int64?, bonus_due: String?, bonus_paid_on: String?
        public let bonus_paid_by: String?, explanation: String, region_iso: String, district_id: Int
        /// E7: the bonus is overdue when it is not recorded as paid by its due date (or was paid after it).
        public func bonusOverdue(today: CivilDate) -> Bool {
            guard let due = bonus_due else { return false }
            if let paid = bonus_paid_on { return paid > due }
            return today.iso > due
        }
    }

    struct HireSnapshot: Encodable, Sendable { let project_id: Int; let organisation_id: Int; let referral_id: Int; let phase: String; let wage: String; let wage_floor: String; let bonus: String?; let bonus_due: String? }

    /// Counts a hire on a project's vacancy toward the quota of the project and of the contractor it was made on:
    /// checks the wage against the E6 floor on the start date, and when the worker comes from another settlement
    /// records the E7 bonus with its due date (3 working days from the labour contract).
    static func recordHire(_ ctx: WriteContext, referral r: LabourStore.ReferralRow, contractID: Int, startsOn: CivilDate, wage: Money, env: RulesEnvironment?) async throws {
        struct V: Decodable { let project_id: Int?; let project_phase: String? }
        guard let v = try await ctx.sql.select().columns("project_id", "project_phase").from("vacancies").where("id", .equal, SQLBind(r.vacancy_id)).first(decoding: V.self),
              let pid = v.project_id else { return }
        guard let env else { throw StoreError.conflict("project hire without rules") }
        struct P: Decodable { let settlement: String; let district_id: Int; let region_iso: String }
        guard let p = try await ctx.sql.select().columns("settlement", "district_id", "region_iso").from("projects").where("id", .equal, SQLBind(pid)).first(decoding: P.self) else { return }
        struct W: Decodable { let settlement: String?; let district_id: Int }
        guard let w = try await ctx.sql.select().columns("settlement", "district_id").from("persons").where("id", .equal, SQLBind(r.person_id)).first(decoding: W.self) else { return }
        let rules = env.context(on: startsOn)
        let floor = try Rules.referredWorkerMinWage(rules)
        func norm(_ s: String) -> String { s.trimmingCharacters(in: .whitespaces).lowercased() }
        // Another settlement: the person's recorded settlement differs from the project's, or, with none recorded, the district does.
        let other = w.settlement.map { !norm($0).isEmpty && norm($0) != norm(p.settlement) } ?? (w.district_id != p.district_id)
        var steps = floor.steps
        steps.append(ExplanationStep(rule: "E6", text: "wage \(wage.decimalString) \(wage >= floor.value ? "≥" : "<") \(floor.value.decimalString)"))
        var bonus: (amount: Money, dueDate: CivilDate)? = nil
        if other {
            let b = try Rules.relocationBonus(contractDate: startsOn, rules)
            bonus = b.value
            steps += [ExplanationStep(rule: "E7", text: "the worker lives in \(w.settlement ?? "another district"), the project is in \(p.settlement)")] + b.steps
        }
        let phase = v.project_phase ?? ProjectPhase.works.rawValue
        try await ctx.sql.insert(into: "project_hires")
            .columns("project_id", "organisation_id", "referral_id", "labour_contract_id", "person_id", "phase", "starts_on", "wage", "wage_floor", "wage_ok",
                     "from_other_settlement", "bonus_amount", "bonus_due", "explanation", "region_iso", "district_id")
            .values(SQLBind(pid), SQLBind(r.employer_id), SQLBind(r.id), SQLBind(contractID), SQLBind(r.person_id), SQLBind(phase), SQLBind(startsOn.iso), SQLBind(wage.tiyn),
                    SQLBind(floor.value.tiyn), SQLBind(wage >= floor.value), SQLBind(other), SQLBind(bonus?.amount.tiyn), SQLBind(bonus?.dueDate.iso),
                    SQLBind(try CaseStore.explanationJSON(steps)), SQLBind(p.region_iso), SQLBind(p.district_id)).run()
        try ctx.audit("hire", entity: "project", id: String(pid), after: HireSnapshot(project_id: pid, organisation_id: r.employer_id, referral_id: r.id, phase: phase, wage: wage.decimalString,
                                                                                          wage_floor: floor.value.decimalString, bonus: bonus?.amount.decimalString, bonus_due: bonus?.dueDate.iso))
    }

    public func hires(of projectID: Int) async throws -> [HireRow] {
        try await store.sql.select().column("*").from("project_hires").where("project_id", .equal, SQLBind(projectID)).orderBy("id").all(decoding: HireRow.self)
    }

    /// The contractor (the hire's employer) or the akimat records the E7 bonus as paid.
    public func recordBonusPaid(hire id: Int, paidOn: CivilDate, by user: UserContext) async throws {
        guard let h = try await store.sql.select().column("*").from("project_hires").where("id", .equal, SQLBind(id)).first(decoding: HireRow.self),
              let p = try await row(h.project_id, on: store.sql) else { throw StoreError.notFound }
        let employer = user.role == .contractor && user.canWrite && user.organisationID == h.organisation_id
        let akimat = try await may(user, as: .akimat, on: p)
        guard employer || akimat else { try await refuse(user, "bonus_paid", p) }
        guard h.bonus_due != nil else { throw FieldErrors(errors: [FieldError("paid_on", "project_no_bonus")]) }
        guard h.bonus_paid_on == nil else { throw FieldErrors(errors: [FieldError("paid_on", "project_bonus_paid")]) }
        if paidOn.iso < h.starts_on || paidOn > today() { throw FieldErrors(errors: [FieldError("paid_on", "project_bonus_date", ["from": h.starts_on])]) }
        try await store.write(as: user.actor) { ctx in
            let n = try await ctx.sql.update("project_hires").set("bonus_paid_on", to: SQLBind(paidOn.iso)).set("bonus_paid_by", to: SQLBind(user.login))
                .where("id", .equal, SQLBind(id)).where("bonus_paid_on", .is, SQLLiteral.null).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("paid_on", "project_bonus_paid")]) }
            try ctx.audit("bonus_paid", entity: "project", id: String(h.project_id), after: ["hire": String(id), "paid_on": paidOn.iso, "due": h.bonus_due ?? ""])
        }
    }

    // MARK: monthly progress (G1)

    public struct ReportRow: Decodable, Sendable {
        public let id: Int, project_id: Int, month: String, organisation_id: Int, work_done_percent: Int64, work_done_amount: Int64, jobs_filled: Int, jobs_by_referral: Int
        public let referred_avg_wage: Int64, due_on: String, state: String, contractor_submitted_on: String, akimat_submitted_on: String?, returned_reason: String?
        /// Late when the akimat's submission came after the due date, or none came and the date has passed.
        public func late(today: CivilDate) -> Bool { (akimat_submitted_on ?? today.iso) > due_on }
    }

    /// What a contractor reports for a project and a month.
    public struct Progress: Sendable {
        public var workDonePercent: FixedDecimal, workDoneAmount: Money, jobsFilled: Int, jobsByReferral: Int, referredAverageWage: Money
        public init(workDonePercent: FixedDecimal, workDoneAmount: Money, jobsFilled: Int, jobsByReferral: Int, referredAverageWage: Money) {
            self.workDonePercent = workDonePercent; self.workDoneAmount = workDoneAmount; self.jobsFilled = jobsFilled; self.jobsByReferral = jobsByReferral; self.referredAverageWage = referredAverageWage
        }
    }

    public func reports(of projectID: Int) async throws -> [ReportRow] {
        try await store.sql.select().column("*").from("project_reports").where("project_id", .equal, SQLBind(projectID)).orderBy("month").all(decoding: ReportRow.self)
    }

    /// The report that covers a month of a project: G1 for the Roadmap, G4 for Programme 2020 direction 4.
    static func reportKind(_ p: ProjectRow) -> Rules.Report { p.programmeValue == .roadmap ? .roadmapMonthly : .programmeMonthly }

    /// The months a project owes a progress report for by `today`: from the month works started to the month they
    /// were completed, each once it has ended.
    public static func reportMonths(_ p: ProjectRow, today: CivilDate) -> [(year: Int, month: Int)] {
        guard let s = p.started_on.flatMap({ CivilDate(iso: $0) }) else { return [] }
        let end = p.completed_on.flatMap { CivilDate(iso: $0) } ?? today
        var out: [(Int, Int)] = []
        var y = s.year, m = s.month
        while (y, m) <= (end.year, end.month) && (y, m) < (today.year, today.month) {
            out.append((y, m))
            m += 1; if m == 13 { m = 1; y += 1 }
        }
        return out
    }

    struct ReportSnapshot: Encodable, Sendable { let month: String; let work_done_percent: String; let work_done_amount: String; let jobs_filled: Int; let jobs_by_referral: Int; let referred_avg_wage: String; let state: String }

    /// The contractor reports a month of works; a returned report may be sent again. The month must have ended and
    /// lie within the works; the share done never goes back; referred workers are among the jobs filled.
    public func submitReport(project id: Int, month: String, _ r: Progress, on: CivilDate? = nil, env: RulesEnvironment, by user: UserContext) async throws {
        let prepared = try await prepareReport(project: id, month: month, r, on: on, env: env, by: user)
        try await store.write(as: user.actor) { ctx in try await writeReport(ctx, prepared) }
    }

    /// A month's report checked and ready to write (nothing is written).
    struct PreparedReport: Sendable {
        let id: Int; let month: String; let r: Progress; let date: CivilDate; let due: CivilDate; let resend: Bool; let org: Int; let snapshot: ReportSnapshot
    }

    /// Whether the project already has this month's report other than a returned one (an import leaves it as it is).
    func hasReport(project id: Int, month: String) async throws -> Bool {
        try await reports(of: id).contains { $0.month == month && $0.state != "returned" }
    }

    func prepareReport(project id: Int, month: String, _ r: Progress, on: CivilDate? = nil, env: RulesEnvironment, by user: UserContext) async throws -> PreparedReport {
        guard let p = try await row(id, on: store.sql) else { throw StoreError.notFound }
        guard try await may(user, as: .contractor, on: p) else { try await refuse(user, "report", p) }
        let today = today(), date = on ?? today
        let months = Self.reportMonths(p, today: today).map { String(format: "%04d-%02d", $0.year, $0.month) }
        var errors: [FieldError] = []
        if !months.contains(month) { errors.append(FieldError("month", "project_report_month")) }
        let earlier = try await reports(of: id)
        let previous = earlier.filter { $0.month < month }.last
        if r.workDonePercent.units < 0 || r.workDonePercent > FixedDecimal(100) { errors.append(FieldError("work_done_percent", "project_percent_invalid")) }
        if let prev = previous, r.workDonePercent.units < prev.work_done_percent { errors.append(FieldError("work_done_percent", "project_percent_back", ["previous": FixedDecimal(units: prev.work_done_percent).description])) }
        if r.workDoneAmount.tiyn < 0 || r.workDoneAmount.tiyn > p.cost_total { errors.append(FieldError("work_done_amount", "amount_invalid")) }
        if r.jobsFilled < 0 || r.jobsFilled > 1_000_000 { errors.append(FieldError("jobs_filled", "project_jobs_invalid")) }
        if r.jobsByReferral < 0 || r.jobsByReferral > r.jobsFilled { errors.append(FieldError("jobs_by_referral", "project_referred_jobs")) }
        if r.referredAverageWage.tiyn < 0 || r.referredAverageWage.tiyn > AmountLimit.wage || (r.jobsByReferral > 0 && r.referredAverageWage.tiyn == 0) { errors.append(FieldError("referred_avg_wage", "amount_invalid")) }
        if date > today { errors.append(FieldError("on", "date_future")) }
        let existing = earlier.first { $0.month == month }
        if let e = existing, e.state != "returned" { errors.append(FieldError("month", "project_report_exists")) }
        guard errors.isEmpty, let y = Int(month.prefix(4)), let m = Int(month.suffix(2)) else { throw FieldErrors(errors: errors) }
        let due = try Rules.reportDeadline(report: Self.reportKind(p), periodYear: y, periodMonth: m, env.context(on: date)).value
        let snapshot = ReportSnapshot(month: month, work_done_percent: r.workDonePercent.description, work_done_amount: r.workDoneAmount.decimalString, jobs_filled: r.jobsFilled,
                                      jobs_by_referral: r.jobsByReferral, referred_avg_wage: r.referredAverageWage.decimalString, state: "submitted")
        return PreparedReport(id: id, month: month, r: r, date: date, due: due, resend: existing != nil, org: user.organisationID ?? 0, snapshot: snapshot)
    }

    func writeReport(_ ctx: WriteContext, _ x: PreparedReport) async throws {
        let r = x.r
        if x.resend {
            let n = try await ctx.sql.update("project_reports").set("work_done_percent", to: SQLBind(r.workDonePercent.units)).set("work_done_amount", to: SQLBind(r.workDoneAmount.tiyn))
                .set("jobs_filled", to: SQLBind(r.jobsFilled)).set("jobs_by_referral", to: SQLBind(r.jobsByReferral)).set("referred_avg_wage", to: SQLBind(r.referredAverageWage.tiyn))
                .set("state", to: SQLBind("submitted")).set("contractor_submitted_on", to: SQLBind(x.date.iso)).set("returned_reason", to: SQLBind(String?.none))
                .where("project_id", .equal, SQLBind(x.id)).where("month", .equal, SQLBind(x.month)).where("state", .equal, SQLBind("returned")).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("month", "project_report_exists")]) }
        } else {
            // Two reports of one month at the same moment: the database keeps the first, the second is told so.
            struct R: Decodable { let id: Int }
            guard try await ctx.sql.insert(into: "project_reports")
                .columns("project_id", "month", "organisation_id", "work_done_percent", "work_done_amount", "jobs_filled", "jobs_by_referral", "referred_avg_wage", "due_on", "state", "contractor_submitted_on")
                .values(SQLBind(x.id), SQLBind(x.month), SQLBind(x.org), SQLBind(r.workDonePercent.units), SQLBind(r.workDoneAmount.tiyn), SQLBind(r.jobsFilled), SQLBind(r.jobsByReferral),
                        SQLBind(r.referredAverageWage.tiyn), SQLBind(x.due.iso), SQLBind("submitted"), SQLBind(x.date.iso))
                .ignoringConflicts(with: ["project_id", "month"]).returning("id").first(decoding: R.self) != nil else {
                throw FieldErrors(errors: [FieldError("month", "project_report_exists")])
            }
        }
        try ctx.audit("report", entity: "project", id: String(x.id), after: x.snapshot)
    }

    /// The akimat checks a contractor's report and submits it to the authorised body, or returns it with the reason.
    public func checkReport(project id: Int, month: String, accept: Bool, reason: String, on: CivilDate? = nil, by user: UserContext) async throws {
        guard let p = try await row(id, on: store.sql) else { throw StoreError.notFound }
        guard try await may(user, as: .akimat, on: p) else { try await refuse(user, accept ? "report_submit" : "report_return", p) }
        guard let r = try await reports(of: id).first(where: { $0.month == month }), r.state == "submitted" else { throw FieldErrors(errors: [FieldError("month", "project_report_not_waiting")]) }
        let text = reason.trimmingCharacters(in: .whitespaces)
        if !accept && text.isEmpty { throw FieldErrors(errors: [FieldError("reason", "note_required")]) }
        let date = on ?? today()
        if date > today() || date.iso < r.contractor_submitted_on { throw FieldErrors(errors: [FieldError("on", "date_invalid")]) }
        try await store.write(as: user.actor) { ctx in
            var u = ctx.sql.update("project_reports").set("state", to: SQLBind(accept ? "accepted" : "returned"))
            u = accept ? u.set("akimat_submitted_on", to: SQLBind(date.iso)) : u.set("returned_reason", to: SQLBind(String(text.prefix(1000))))
            let n = try await u.where("id", .equal, SQLBind(r.id)).where("state", .equal, SQLBind("submitted")).returning("id").all()
            guard n.count == 1 else { throw FieldErrors(errors: [FieldError("month", "project_report_not_waiting")]) }
            if accept && p.cost_total > 0 {
                // The republican money spent so far: its share of the work done in the accepted months (F2, G1).
                struct S: Decodable { let s: Int64 }
                let done = try await ctx.sql.select().column(SQLRaw("COALESCE(CAST(SUM(work_done_amount) AS BIGINT), 0)"), as: "s").from("project_reports")
                    .where("project_id", .equal, SQLBind(id)).where("state", .equal, SQLBind("accepted")).first(decoding: S.self)?.s ?? 0
                let share = Self.limitShare(nationalFund: p.cost_national_fund, republican: p.cost_republican)
                try await LimitStore.spend(ctx, kind: .project, reference: "project:\(id)", total: Money(tiyn: share).multiplied(by: min(done, p.cost_total), dividedBy: p.cost_total, rounding: .halfUp).tiyn)
            }
            try ctx.audit(accept ? "report_submit" : "report_return", entity: "project", id: String(id), after: ["month": month, "on": date.iso, "reason": text])
        }
    }

    // MARK: savings (E11)

    public struct SavingRow: Decodable, Sendable {
        public let id: Int, project_id: Int, amount: Int64, recorded_on: String, state: String, review_note: String?, reviewed_on: String?
        public let target_project_id: Int?, decided_on: String?, decision: String?
    }

    public func saving(of projectID: Int) async throws -> SavingRow? {
        try await store.sql.select().column("*").from("project_savings").where("project_id", .equal, SQLBind(projectID)).first(decoding: SavingRow.self)
    }

    public func savings(for user: UserContext) async throws -> [SavingRow] {
        let q = store.sql.select().column(SQLColumn(SQLLiteral.all, table: SQLIdentifier("s"))).from(SQLAlias(SQLIdentifier("project_savings"), as: SQLIdentifier("s")))
            .join(SQLAlias(SQLIdentifier("projects"), as: SQLIdentifier("p")), method: SQLJoinMethod.inner, on: SQLColumn("project_id", table: "s"), .equal, SQLColumn("id", table: "p"))
        return try await visible(q, user).orderBy(SQLColumn("id", table: "s")).all(decoding: SavingRow.self)
    }

    /// E11: the working group reviews a saving; then the interagency commission consents to direct it to a new
    /// project (one not yet approved) or declines. Nothing moves without both.
    public func reviewSaving(project id: Int, note: String, on: CivilDate? = nil, by user: UserContext) async throws {
        guard let p = try await row(id, on: store.sql) else { throw StoreError.notFound }
        guard try await may(user, as: .workingGroup, on: p) else { try await refuse(user, "saving_review", p) }
        guard let s = try await saving(of: id), s.state == "recorded" else { throw FieldErrors(errors: [FieldError("note", "project_saving_state")]) }
        let text = note.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.count <= 1000 else { throw FieldErrors(errors: [FieldError("note", "note_required")]) }
        let date = on ?? today()
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.update("project_savings").set("state", to: SQLBind("reviewed")).set("review_note", to: SQLBind(text)).set("reviewed_on", to: SQLBind(date.iso))
                .where("id", .equal, SQLBind(s.id)).where("state", .equal, SQLBind("recorded")).run()
            try ctx.audit("saving_review", entity: "project", id: String(id), after: ["note": text, "on": date.iso])
        }
    }

    public func decideSaving(project id: Int, target: Int?, decision: String, on: CivilDate? = nil, by user: UserContext) async throws {
        guard let p = try await row(id, on: store.sql) else { throw StoreError.notFound }
        guard try await may(user, as: .interagencyCommission, on: p) else { try await refuse(user, "saving_decision", p) }
        guard let s = try await saving(of: id), s.state == "reviewed" else { throw FieldErrors(errors: [FieldError("decision", "project_saving_state")]) }
        let d = decision.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if d.isEmpty || d.count > 200 { errors.append(FieldError("decision", "project_decision_required")) }
        if let t = target {
            let tp = try await row(t, on: store.sql)
            if tp == nil || t == id || [.approved, .inWorks, .completed, .removed, .regionalRejected].contains(tp!.stateValue) { errors.append(FieldError("target_project_id", "project_saving_target")) }
        }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let date = on ?? today()
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.update("project_savings").set("state", to: SQLBind(target == nil ? "declined" : "directed")).set("target_project_id", to: SQLBind(target))
                .set("decided_on", to: SQLBind(date.iso)).set("decision", to: SQLBind(d)).where("id", .equal, SQLBind(s.id)).where("state", .equal, SQLBind("reviewed")).run()
            // E11: the saving goes back to the limit it came from (what the project committed and did not spend);
            // a project it is directed to draws it from there when approved.
            let reference = "project:\(id)"
            let rows = try await LimitStore.commitments(ctx.sql, kind: .project, reference: reference)
            let unspent = rows.reduce(Int64(0)) { $0 + $1.amount - $1.spent }
            try await LimitStore.release(ctx, kind: .project, reference: reference, amount: unspent, on: date, change: .savingsReturn,
                                         reason: target.map { "E11 → project \($0)" } ?? "E11", decision: d)
            try ctx.audit("saving_decision", entity: "project", id: String(id), after: ["target": target.map(String.init) ?? "", "decision": d, "on": date.iso])
        }
    }

    // MARK: compliance

    /// A project's standing on its quotas and conditions on a day.
    public struct Compliance: Sendable, Equatable {
        public let quota: Int?, referred: Int, status: QuotaStatus
        public let permanentQuota: Int?, permanentReferred: Int, permanentStatus: QuotaStatus
        public let wageBreaches: Int, bonusesOverdue: Int, lateReports: Int
        public let parties: [PartyCompliance]
    }
    /// A contractor's or subcontractor's share of the quota: ⌈its jobs × quota / project jobs⌉.
    public struct PartyCompliance: Sendable, Equatable { public let organisationID: Int, role: String, jobs: Int, quota: Int, referred: Int, status: QuotaStatus }

    static func status(quota: Int?, referred: Int, binding: Bool, over: Bool) -> QuotaStatus {
        guard binding, let quota else { return .pending }
        if referred >= quota { return .met }
        return over ? .breached : .atRisk
    }

    /// E4/E10 during works: binding once approved; met at the quota; breached when works are completed or their end
    /// date has passed below it; at risk before. E5 after commissioning: met at the quota, at risk below it.
    public static func compliance(_ p: ProjectRow, hires: [HireRow], parties: [PartyRow], reports: [ReportRow], dueDates: (Int, Int) -> CivilDate?, today: CivilDate) -> Compliance {
        let binding = [ProjectState.approved, .inWorks, .completed].contains(p.stateValue)
        let over = p.stateValue == .completed || (CivilDate(iso: p.ends_on).map { $0 < today } ?? false)
        let works = hires.filter { $0.phase == ProjectPhase.works.rawValue }
        let permanent = hires.filter { $0.phase == ProjectPhase.permanent.rawValue }
        let status = Self.status(quota: p.referral_quota, referred: works.count, binding: binding, over: over)
        let permanentStatus = p.stateValue == .completed ? Self.status(quota: p.permanent_quota, referred: permanent.count, binding: true, over: false) : .pending
        let byMonth = Dictionary(uniqueKeysWithValues: reports.map { ($0.month, $0) })
        var late = 0
        for (y, m) in reportMonths(p, today: today) {
            let key = String(format: "%04d-%02d", y, m)
            if let r = byMonth[key] { if r.late(today: today) { late += 1 } } else if let due = dueDates(y, m), today > due { late += 1 }
        }
        let jobs = max(1, p.jobs_created ?? 1)
        let partyRows = parties.map { party -> PartyCompliance in
            let q = Int((Int64(party.jobs) * Int64(p.referral_quota ?? 0) + Int64(jobs) - 1) / Int64(jobs))
            let n = works.filter { $0.organisation_id == party.organisation_id }.count
            return PartyCompliance(organisationID: party.organisation_id, role: party.role, jobs: party.jobs, quota: q, referred: n,
                                   status: Self.status(quota: q, referred: n, binding: binding, over: over))
        }
        return Compliance(quota: p.referral_quota, referred: works.count, status: status, permanentQuota: p.permanent_quota, permanentReferred: permanent.count,
                          permanentStatus: permanentStatus, wageBreaches: hires.filter { !$0.wage_ok }.count, bonusesOverdue: hires.filter { $0.bonusOverdue(today: today) }.count,
                          lateReports: late, parties: partyRows)
    }

    /// Due dates of the monthly progress reports, computed once per month and report.
    final class DueDates: @unchecked Sendable {
        let env: RulesEnvironment
        var cache: [String: CivilDate] = [:]
        init(env: RulesEnvironment) { self.env = env }
        func due(_ kind: Rules.Report, _ y: Int, _ m: Int) -> CivilDate? {
            let key = "\(kind.rawValue)-\(y)-\(m)"
            if let d = cache[key] { return d }
            let d = try? Rules.reportDeadline(report: kind, periodYear: y, periodMonth: m, env.context(on: CivilDate(year: y, month: m, day: 1)!)).value
            cache[key] = d
            return d
        }
    }

    /// The compliance of one project, read from the data.
    public func compliance(of p: ProjectRow, env: RulesEnvironment, today: CivilDate) async throws -> Compliance {
        Self.compliance(of: p, hires: try await hires(of: p.id), parties: try await parties(of: p.id), reports: try await reports(of: p.id), env: env, today: today)
    }

    /// The compliance of one project from rows already read (the project card has them).
    public static func compliance(of p: ProjectRow, hires: [HireRow], parties: [PartyRow], reports: [ReportRow], env: RulesEnvironment, today: CivilDate) -> Compliance {
        let dues = DueDates(env: env)
        return compliance(p, hires: hires, parties: parties, reports: reports, dueDates: { dues.due(reportKind(p), $0, $1) }, today: today)
    }

    /// One line of the board: a project with its compliance.
    public struct BoardLine: Sendable { public let project: ProjectRow; public let compliance: Compliance }

    /// The compliance of every approved project the user may see (filtered), read in a few queries whatever the count.
    /// Kept while nothing is recorded (`ReadCache`): the national board reads every approved project.
    public func board(_ f: Filter, for user: UserContext, env: RulesEnvironment, today: CivilDate) async throws -> [BoardLine] {
        try await ReadCache.value(store, Self.boardKey(f, for: user, today: today)) { try await self.boardUncached(f, for: user, env: env, today: today) }
    }

    static func boardKey(_ f: Filter, for user: UserContext, today: CivilDate) -> String {
        "board|\(user.role.rawValue)|\(user.scope)|\(f.region ?? "")|\(f.district.map(String.init) ?? "")|\(f.programme?.rawValue ?? "")|\(f.year.map(String.init) ?? "")|\(f.state?.rawValue ?? "")|\(f.ids.map { $0.map(String.init).joined(separator: ",") } ?? "")|\(today.iso)"
    }

    /// Counts of one line of the board (a region, a district or the nation).
    public struct Tally: Sendable, Equatable {
        public var projects = 0, met = 0, atRisk = 0, breached = 0, wage = 0, bonus = 0, late = 0
        public init() {}
        mutating func add(_ c: Compliance) {
            projects += 1
            switch c.status { case .met: met += 1; case .atRisk: atRisk += 1; case .breached: breached += 1; case .pending: break }
            if c.wageBreaches > 0 { wage += 1 }
            if c.bonusesOverdue > 0 { bonus += 1 }
            if c.lateReports > 0 { late += 1 }
        }
    }
    /// A region's line of the national board, or a district's of a region's.
    public struct BoardGroup: Sendable, Equatable { public let key: String, region: String, district: Int?; public var tally: Tally }
    /// The board counted: its groups in the order first met, and the total.
    public struct BoardSummary: Sendable, Equatable { public let groups: [BoardGroup], total: Tally }

    /// The board counted by region (`byRegion`) or by district, kept as its lines are (`ReadCache`, until something
    /// is recorded): a page then reads a few dozen counts instead of counting the nation's lines again.
    public func boardSummary(_ f: Filter, byRegion: Bool, for user: UserContext, env: RulesEnvironment, today: CivilDate) async throws -> BoardSummary {
        try await ReadCache.value(store, Self.boardKey(f, for: user, today: today) + "|summary|\(byRegion)") {
            Self.summarise(try await self.board(f, for: user, env: env, today: today), byRegion: byRegion)
        }
    }

    public static func summarise(_ lines: [BoardLine], byRegion: Bool) -> BoardSummary {
        var total = Tally()
        var groups: [BoardGroup] = []
        var index: [String: Int] = [:]
        // By index, reading the fields in place: binding each line (a project row of some thirty fields) copied it,
        // and on the national board those copies were a third of the page's time.
        for i in lines.indices {
            total.add(lines[i].compliance)
            let region = lines[i].project.region_iso, district = lines[i].project.district_id
            let key = byRegion ? region : String(district)
            if index[key] == nil {
                index[key] = groups.count
                groups.append(BoardGroup(key: key, region: region, district: byRegion ? nil : district, tally: Tally()))
            }
            groups[index[key]!].tally.add(lines[i].compliance)
        }
        return BoardSummary(groups: groups, total: total)
    }

    func boardUncached(_ f: Filter, for user: UserContext, env: RulesEnvironment, today: CivilDate) async throws -> [BoardLine] {
        var filter = f
        filter.states = [.approved, .inWorks, .completed]
        let projects = try await list(filter, for: user, limit: 20_000)
        guard !projects.isEmpty else { return [] }
        var hires: [Int: [HireRow]] = [:], parties: [Int: [PartyRow]] = [:], reports: [Int: [ReportRow]] = [:]
        // In chunks, so that the IN lists stay within the databases' bind limits.
        for chunk in stride(from: 0, to: projects.count, by: 500).map({ Array(projects[$0..<min($0 + 500, projects.count)]).map(\.id) }) {
            for h in try await store.sql.select().column("*").from("project_hires").where("project_id", .in, SQLBind.group(chunk)).all(decoding: HireRow.self) { hires[h.project_id, default: []].append(h) }
            for x in try await store.sql.select().column("*").from("project_parties").where("project_id", .in, SQLBind.group(chunk)).all(decoding: PartyRow.self) { parties[x.project_id, default: []].append(x) }
            for r in try await store.sql.select().column("*").from("project_reports").where("project_id", .in, SQLBind.group(chunk)).all(decoding: ReportRow.self) { reports[r.project_id, default: []].append(r) }
        }
        let dues = DueDates(env: env)
        return projects.map { p in
            BoardLine(project: p, compliance: Self.compliance(p, hires: hires[p.id] ?? [], parties: parties[p.id] ?? [], reports: reports[p.id] ?? [],
                                                              dueDates: { dues.due(Self.reportKind(p), $0, $1) }, today: today))
        }
    }
}
