import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// What a person asks for to start or expand a business (C1, C3).
public struct BusinessInput: Sendable {
    public var settlement: String, place: BusinessPlace, supportSettlement: Bool
    public var expand: Bool, idea: String, sector: String, amountAsked: Money
    public var needsInfrastructure: Bool, lenderID: Int
    public var submittedOn: CivilDate?
    public init(settlement: String, place: BusinessPlace, supportSettlement: Bool, expand: Bool, idea: String, sector: String, amountAsked: Money,
                needsInfrastructure: Bool, lenderID: Int, submittedOn: CivilDate? = nil) {
        self.settlement = settlement; self.place = place; self.supportSettlement = supportSettlement; self.expand = expand; self.idea = idea
        self.sector = sector; self.amountAsked = amountAsked; self.needsInfrastructure = needsInfrastructure; self.lenderID = lenderID; self.submittedOn = submittedOn
    }
}

/// Direction 2 (C1–C3): the business application, the outside bodies' conclusions, the notification of the decision,
/// business-basics training, the business plan, the lender's decision, support visits, and engineering infrastructure.
public struct BusinessStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }
    var cases: CaseStore { CaseStore(store: store) }

    /// Sectors of a business idea (a short list the centres report by).
    public static let sectors = ["agriculture", "processing", "manufacturing", "trade", "services", "construction", "transport", "tourism", "other"]

    public struct BusinessRow: Decodable, Sendable {
        public let application_id: Int; public let person_id: Int; public let region_iso: String; public let district_id: Int
        public let settlement: String; public let place: String; public let support_settlement: Bool; public let start_or_expand: String
        public let idea: String; public let sector: String; public let amount_asked: Int64; public let needs_infrastructure: Bool; public let lender_id: Int
        public let notification_due: String?; public let notified_on: String?
        public let training_starts: String?; public let training_ends: String?; public let training_completed_on: String?
        public let plan_submitted_on: String?; public let plan_summary: String?
        public let loan_decision: String?; public let loan_decided_on: String?; public let loan_amount: Int64?; public let loan_term_months: Int?
        public let loan_grace_months: Int?; public let loan_reason: String?; public let loan_decided_by: String?
        public let support_from: String?; public let support_to: String?; public let next_visit_due: String?
        public let infra_description: String?; public let infra_cost: Int64?; public let infra_design_cost: Int64?
        public let infra_contract_number: String?; public let infra_contract_on: String?
    }

    public struct ConclusionRow: Decodable, Sendable {
        public let id: Int; public let application_id: Int; public let body: String; public let organisation_id: Int
        public let requested_on: String; public let due_on: String; public let answered_on: String?; public let positive: Bool?
        public let reason: String?; public let answered_by: String?
        /// Days past due: still unanswered after the due date (counted to `today`), or answered late.
        public func daysLate(today: CivilDate) -> Int {
            guard let due = CivilDate(iso: due_on) else { return 0 }
            let end = answered_on.flatMap(CivilDate.init(iso:)) ?? today
            return max(0, due.days(until: end))
        }
        public var bodyValue: ConclusionBody { ConclusionBody(rawValue: body) ?? .businessAuthority }
    }

    // MARK: reading

    public func business(_ applicationID: Int, scope: Scope) async throws -> BusinessRow? {
        let q = store.sql.select().column("*").from(SQLAlias(SQLIdentifier("business_applications"), as: SQLIdentifier("b")))
            .where(SQLColumn("application_id", table: "b"), .equal, SQLBind(applicationID))
        return try await Registry.restrict(q, scope: scope, table: "b").first(decoding: BusinessRow.self)
    }

    public func conclusions(of applicationID: Int) async throws -> [ConclusionRow] {
        try await store.sql.select().column("*").from("conclusion_requests").where("application_id", .equal, SQLBind(applicationID)).orderBy("id").all(decoding: ConclusionRow.self)
    }

    public struct InboxItem: Sendable {
        public let request: ConclusionRow
        public let applicantName: String
        public let business: BusinessRow
    }

    /// The requests addressed to the user's organisation, open ones first, then the last answered ones.
    public func inbox(for user: UserContext, limit: Int = 200) async throws -> [InboxItem] {
        guard let org = user.organisationID else { return [] }
        let requests = try await store.sql.select().column("*").from("conclusion_requests").where("organisation_id", .equal, SQLBind(org))
            .orderBy("answered_on", .ascending).orderBy("due_on").orderBy("id").limit(limit).all(decoding: ConclusionRow.self)
        guard !requests.isEmpty else { return [] }
        let ids = Array(Set(requests.map(\.application_id)))
        let business = try await store.sql.select().column("*").from("business_applications").where("application_id", .in, SQLBind.group(ids)).all(decoding: BusinessRow.self)
        let byApp = Dictionary(uniqueKeysWithValues: business.map { ($0.application_id, $0) })
        let people = try await cases.persons(business.map(\.person_id), scope: .national)
        let names = Dictionary(uniqueKeysWithValues: people.map { ($0.id, $0.fullName) })
        let open = requests.filter { $0.answered_on == nil }, done = requests.filter { $0.answered_on != nil }
        return (open + done).compactMap { r in byApp[r.application_id].map { InboxItem(request: r, applicantName: names[$0.person_id] ?? "", business: $0) } }
    }

    /// One request as its addressee sees it (nil for anyone else).
    public func request(_ id: Int, for user: UserContext) async throws -> InboxItem? {
        guard let org = user.organisationID,
              let r = try await store.sql.select().column("*").from("conclusion_requests").where("id", .equal, SQLBind(id)).where("organisation_id", .equal, SQLBind(org)).first(decoding: ConclusionRow.self),
              let b = try await business(r.application_id, scope: .national),
              let p = try await cases.person(b.person_id, scope: .national) else { return nil }
        return InboxItem(request: r, applicantName: p.fullName, business: b)
    }

    // MARK: writing

    struct BusinessSnapshot: Encodable, Sendable { let application_id: Int; let settlement: String; let place: String; let sector: String; let amount_asked: String; let lender_id: Int; let needs_infrastructure: Bool }

    /// Takes a business application: the application (measure entrepreneurship) and its details in one transaction,
    /// eligible or not by C1 with the explanation.
    public func apply(person personID: Int, _ input: BusinessInput, env: RulesEnvironment, by user: UserContext) async throws -> Int {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("idea", "read_only")]) }
        guard let p = try await cases.person(personID, scope: user.scope) else { throw StoreError.notFound }
        let today = store.today()
        let on = input.submittedOn ?? today
        var errors: [FieldError] = []
        if on > today { errors.append(FieldError("submitted_on", "date_future")) }
        if p.consent_on == nil { errors.append(FieldError("idea", "no_consent")) }
        let settlement = input.settlement.trimmingCharacters(in: .whitespacesAndNewlines), idea = input.idea.trimmingCharacters(in: .whitespacesAndNewlines)
        if settlement.isEmpty || settlement.count > 200 { errors.append(FieldError("settlement", "required")) }
        if idea.isEmpty || idea.count > 4000 { errors.append(FieldError("idea", "required")) }
        if !Self.sectors.contains(input.sector) { errors.append(FieldError("sector", "choose_from_list")) }
        if input.amountAsked.tiyn <= 0 || input.amountAsked.tiyn > 100_000_000_000 { errors.append(FieldError("amount_asked", "amount_invalid")) }
        if try await OrganisationRecord.find(input.lenderID, on: store.db)?.kind != OrganisationKind.creditOrganisation.rawValue { errors.append(FieldError("lender_id", "choose_from_list")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let rules = env.context(on: on)
        let facts = try await cases.facts(p, on: on)
        let elig = try Rules.entrepreneurshipEligibility(facts: facts, place: input.place, supportSettlement: input.supportSettlement, rules)
        let due = try Rules.applicationDecisionDue(submittedOn: on, rules)
        return try await store.write(as: user.actor) { ctx in
            let id = try await cases.insertApplication(ctx, person: p, measure: .entrepreneurship, on: on, eligible: elig.value.eligible, reasons: elig.value.reasons,
                                                       priorities: elig.value.priorities, due: due.value, steps: elig.steps + due.steps)
            try await ctx.sql.insert(into: "business_applications")
                .columns("application_id", "person_id", "region_iso", "district_id", "settlement", "place", "support_settlement", "start_or_expand", "idea", "sector", "amount_asked", "needs_infrastructure", "lender_id")
                .values(SQLBind(id), SQLBind(personID), SQLBind(p.region_iso), SQLBind(p.district_id), SQLBind(settlement), SQLBind(input.place.rawValue), SQLBind(input.supportSettlement),
                        SQLBind(input.expand ? "expand" : "start"), SQLBind(idea), SQLBind(input.sector), SQLBind(input.amountAsked.tiyn), SQLBind(input.needsInfrastructure), SQLBind(input.lenderID))
                .run()
            try ctx.audit("create", entity: "business_application", id: String(id), after: BusinessSnapshot(application_id: id, settlement: settlement, place: input.place.rawValue, sector: input.sector,
                                                                                                              amount_asked: input.amountAsked.decimalString, lender_id: input.lenderID, needs_infrastructure: input.needsInfrastructure))
            return id
        }
    }

    /// The bodies the centre must ask (C3): the business authority, the rural akim and the lender, and the
    /// infrastructure authority when the project needs infrastructure.
    public static func requiredBodies(_ b: BusinessRow) -> [ConclusionBody] {
        [.businessAuthority, .ruralAkim, .lender] + (b.needs_infrastructure ? [.infrastructureAuthority] : [])
    }

    /// The organisation kind that answers for a body.
    public static func kind(of body: ConclusionBody) -> OrganisationKind {
        switch body {
        case .businessAuthority: return .businessAuthority
        case .ruralAkim: return .akimat
        case .lender: return .creditOrganisation
        case .infrastructureAuthority: return .infrastructureAuthority
        }
    }

    struct RequestSnapshot: Encodable, Sendable { let application_id: Int; let body: String; let organisation_id: Int; let requested_on: String; let due_on: String; let answered_on: String?; let positive: Bool?; let reason: String? }

    /// Sends requests for conclusions to the chosen organisations; each is due by `conclusion_deadline`. The lender is
    /// the one the applicant chose. A body already asked is not asked twice.
    public func requestConclusions(application applicationID: Int, organisations: [ConclusionBody: Int], on date: CivilDate? = nil, env: RulesEnvironment, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("body", "read_only")]) }
        guard let app = try await cases.application(applicationID, scope: user.scope), let b = try await business(applicationID, scope: user.scope) else { throw StoreError.notFound }
        let today = store.today()
        let on = date ?? today
        var errors: [FieldError] = []
        if on > today { errors.append(FieldError("requested_on", "date_future")) }
        if on < (CivilDate(iso: app.submitted_on) ?? on) { errors.append(FieldError("requested_on", "before_application")) }
        if ![.submitted, .underReview].contains(app.stateValue) { errors.append(FieldError("body", "already_decided")) }
        var wanted = organisations
        wanted[.lender] = b.lender_id
        if !b.needs_infrastructure { wanted[.infrastructureAuthority] = nil }
        for (body, org) in wanted.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard let o = try await OrganisationRecord.find(org, on: store.db), o.kind == Self.kind(of: body).rawValue,
                  body == .lender || o.regionISO == nil || o.regionISO == b.region_iso else { errors.append(FieldError(body.rawValue, "choose_from_list")); continue }
        }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let due = try Rules.conclusionDeadline(requestDate: on, env.context(on: on))
        let asked = Set(try await conclusions(of: applicationID).map(\.body))
        let sending = wanted
        try await store.write(as: user.actor) { ctx in
            for (body, org) in sending.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where !asked.contains(body.rawValue) {
                try await ctx.sql.insert(into: "conclusion_requests").columns("application_id", "body", "organisation_id", "region_iso", "district_id", "requested_on", "due_on")
                    .values(SQLBind(applicationID), SQLBind(body.rawValue), SQLBind(org), SQLBind(b.region_iso), SQLBind(b.district_id), SQLBind(on.iso), SQLBind(due.value.iso)).run()
                try ctx.audit("create", entity: "conclusion_request", id: "\(applicationID)/\(body.rawValue)",
                              after: RequestSnapshot(application_id: applicationID, body: body.rawValue, organisation_id: org, requested_on: on.iso, due_on: due.value.iso, answered_on: nil, positive: nil, reason: nil))
                try await cases.event(ctx, person: b.person_id, on: on, kind: "conclusion_requested", args: ["application": String(applicationID), "body": body.rawValue, "due": due.value.iso], explanation: due.steps)
            }
            if app.stateValue == .submitted {
                try await ctx.sql.update("applications").set("state", to: SQLBind(ApplicationState.underReview.rawValue)).set("updated_at", to: SQLBind(AuditLog.timestamp(ctx.now)))
                    .where("id", .equal, SQLBind(applicationID)).where("state", .equal, SQLBind(ApplicationState.submitted.rawValue)).run()
            }
        }
    }

    /// The addressee answers: positive or negative, with a reason (required when negative). Answered once.
    public func answer(request id: Int, positive: Bool, reason: String, on date: CivilDate? = nil, by user: UserContext) async throws {
        guard user.canWrite, let item = try await request(id, for: user) else { throw StoreError.notFound }
        let r = item.request
        let today = store.today()
        let on = date ?? today
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [FieldError] = []
        if r.answered_on != nil { errors.append(FieldError("positive", "already_answered")) }
        if on > today { errors.append(FieldError("answered_on", "date_future")) }
        if let req = CivilDate(iso: r.requested_on), on < req { errors.append(FieldError("answered_on", "before_request")) }
        if !positive && text.isEmpty { errors.append(FieldError("reason", "reason_required")) }
        if text.count > 2000 { errors.append(FieldError("reason", "too_long")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            // Only an unanswered request is answered: a second answer racing this one changes nothing.
            let changed = try await ctx.sql.update("conclusion_requests").set("answered_on", to: SQLBind(on.iso)).set("positive", to: SQLBind(positive))
                .set("reason", to: SQLBind(text)).set("answered_by", to: SQLBind(user.login))
                .where("id", .equal, SQLBind(id)).where("answered_on", .is, SQLLiteral.null).returning("id").all()
            guard !changed.isEmpty else { throw FieldErrors(errors: [FieldError("positive", "already_answered")]) }
            try ctx.audit("answer", entity: "conclusion_request", id: "\(r.application_id)/\(r.body)",
                          before: RequestSnapshot(application_id: r.application_id, body: r.body, organisation_id: r.organisation_id, requested_on: r.requested_on, due_on: r.due_on, answered_on: nil, positive: nil, reason: nil),
                          after: RequestSnapshot(application_id: r.application_id, body: r.body, organisation_id: r.organisation_id, requested_on: r.requested_on, due_on: r.due_on, answered_on: on.iso, positive: positive, reason: text))
            let late = r.daysLate(today: on)
            try await cases.event(ctx, person: item.business.person_id, on: on, kind: "conclusion_answered",
                                  args: ["application": String(r.application_id), "body": r.body, "positive": positive ? "yes" : "no", "late_days": String(late)])
        }
    }

    /// What must hold before the centre includes a business application (C1 with the details, C3's conclusions in
    /// and none negative); throws the field errors otherwise.
    func inclusionCheck(_ app: CaseStore.ApplicationRow, facts: PersonFacts, rules: RuleContext) async throws -> [ExplanationStep] {
        guard let b = try await business(app.id, scope: .national) else { throw FieldErrors(errors: [FieldError("action", "details_missing")]) }
        let got = try await conclusions(of: app.id)
        var errors: [FieldError] = []
        let missing = Self.requiredBodies(b).filter { body in !got.contains { $0.body == body.rawValue && $0.answered_on != nil } }
        if !missing.isEmpty { errors.append(FieldError("action", "conclusions_missing", ["bodies": missing.map(\.rawValue).joined(separator: ", ")])) }
        if got.contains(where: { $0.positive == false }) { errors.append(FieldError("action", "conclusion_negative")) }
        let e = try Rules.entrepreneurshipEligibility(facts: facts, place: BusinessPlace(rawValue: b.place) ?? .city, supportSettlement: b.support_settlement, rules)
        if !e.value.eligible { errors.append(FieldError("action", "not_eligible", ["reasons": e.value.reasons.joined(separator: ", ")])) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let summary = got.map { "\($0.body): \($0.positive == true ? "positive" : "negative") on \($0.answered_on ?? "")" }.joined(separator: "; ")
        return e.steps + [ExplanationStep(rule: "C3", text: "conclusions: \(summary)")]
    }

    /// After the centre's decision (either way): the written notification falls due (C3).
    static func afterDecision(_ ctx: WriteContext, applicationID: Int, on: CivilDate, rules: RuleContext) async throws -> [ExplanationStep] {
        let due = try Rules.notificationDeadline(decisionDate: on, rules)
        try await ctx.sql.update("business_applications").set("notification_due", to: SQLBind(due.value.iso)).where("application_id", .equal, SQLBind(applicationID)).run()
        return due.steps
    }

    struct StepSnapshot: Encodable, Sendable { let application_id: Int; let step: String; let values: [String: String] }

    /// Runs one follow-up write on a business application in scope: checks, then the update, audit and timeline.
    private func step(_ applicationID: Int, by user: UserContext, name: String, on: CivilDate, args: [String: String],
                      check: (BusinessRow, CaseStore.ApplicationRow) throws -> [FieldError],
                      update: @escaping @Sendable (SQLUpdateBuilder) -> SQLUpdateBuilder, explanation: [ExplanationStep]? = nil) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("action", "read_only")]) }
        guard let app = try await cases.application(applicationID, scope: user.scope), let b = try await business(applicationID, scope: user.scope) else { throw StoreError.notFound }
        var errors = try check(b, app)
        if on > store.today() { errors.append(FieldError("date", "date_future")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            try await update(ctx.sql.update("business_applications")).where("application_id", .equal, SQLBind(applicationID)).run()
            try ctx.audit(name, entity: "business_application", id: String(applicationID), after: StepSnapshot(application_id: applicationID, step: name, values: args))
            try await cases.event(ctx, person: b.person_id, on: on, kind: "business_" + name, args: args.merging(["application": String(applicationID)]) { a, _ in a }, explanation: explanation)
        }
    }

    static let decided: Set<ApplicationState> = [.included, .refused, .contractSigned, .active, .completed, .terminated]

    /// The date the written notification of the decision was sent (C3).
    public func recordNotification(application id: Int, sentOn: CivilDate, by user: UserContext) async throws {
        try await step(id, by: user, name: "notified", on: sentOn, args: ["sent_on": sentOn.iso], check: { b, a in
            var e: [FieldError] = []
            if !Self.decided.contains(a.stateValue) { e.append(FieldError("sent_on", "not_decided")) }
            if b.notified_on != nil { e.append(FieldError("sent_on", "already_recorded")) }
            if let d = a.decided_on.flatMap(CivilDate.init(iso:)), sentOn < d { e.append(FieldError("sent_on", "before_decision")) }
            return e
        }, update: { $0.set("notified_on", to: SQLBind(sentOn.iso)) })
    }

    /// Business-basics training (C3): up to `business_training_max_months`, under a signed social contract.
    public func scheduleTraining(application id: Int, starts: CivilDate, ends: CivilDate, env: RulesEnvironment, by user: UserContext) async throws {
        let maxMonths = try env.context(on: starts).p("business_training_max_months")
        let limit = starts.adding(months: Int(maxMonths.value.wholeValue ?? 1))
        try await step(id, by: user, name: "training_scheduled", on: min(starts, store.today()), args: ["starts": starts.iso, "ends": ends.iso], check: { b, a in
            var e: [FieldError] = []
            if !a.stateValue.isRunning { e.append(FieldError("starts_on", "contract_not_running")) }
            if ends < starts { e.append(FieldError("ends_on", "end_before_start")) }
            if ends > limit { e.append(FieldError("ends_on", "training_too_long", ["max": limit.iso])) }
            if b.training_completed_on != nil { e.append(FieldError("starts_on", "already_recorded")) }
            return e
        }, update: { $0.set("training_starts", to: SQLBind(starts.iso)).set("training_ends", to: SQLBind(ends.iso)) },
           explanation: [.uses("C3", "business_training_max_months", maxMonths), ExplanationStep(rule: "C3", text: "training from \(starts.iso) may last to \(limit.iso)")])
    }

    public struct AttendanceRow: Decodable, Sendable { public let on_date: String; public let present: Bool }
    public func attendance(of applicationID: Int) async throws -> [AttendanceRow] {
        try await store.sql.select().columns("on_date", "present").from("business_attendance").where("application_id", .equal, SQLBind(applicationID)).orderBy("on_date").all(decoding: AttendanceRow.self)
    }

    /// A day of training: present or absent; a day within the training's dates, recorded once (the last word wins).
    public func markAttendance(application id: Int, on day: CivilDate, present: Bool, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("on_date", "read_only")]) }
        guard let b = try await business(id, scope: user.scope) else { throw StoreError.notFound }
        guard let s = b.training_starts.flatMap(CivilDate.init(iso:)), let e = b.training_ends.flatMap(CivilDate.init(iso:)) else { throw FieldErrors(errors: [FieldError("on_date", "training_not_scheduled")]) }
        guard (s...e).contains(day) else { throw FieldErrors(errors: [FieldError("on_date", "outside_training")]) }
        guard day <= store.today() else { throw FieldErrors(errors: [FieldError("on_date", "date_future")]) }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.delete(from: "business_attendance").where("application_id", .equal, SQLBind(id)).where("on_date", .equal, SQLBind(day.iso)).run()
            try await ctx.sql.insert(into: "business_attendance").columns("application_id", "on_date", "present").values(SQLBind(id), SQLBind(day.iso), SQLBind(present)).run()
            try ctx.audit("attendance", entity: "business_application", id: String(id), after: StepSnapshot(application_id: id, step: "attendance", values: ["on": day.iso, "present": present ? "yes" : "no"]))
        }
    }

    public func completeTraining(application id: Int, on: CivilDate, by user: UserContext) async throws {
        try await step(id, by: user, name: "training_completed", on: on, args: ["on": on.iso], check: { b, _ in
            var e: [FieldError] = []
            guard let s = b.training_starts.flatMap(CivilDate.init(iso:)) else { return [FieldError("completed_on", "training_not_scheduled")] }
            if on < s { e.append(FieldError("completed_on", "before_training")) }
            if b.training_completed_on != nil { e.append(FieldError("completed_on", "already_recorded")) }
            return e
        }, update: { $0.set("training_completed_on", to: SQLBind(on.iso)) })
    }

    public func submitPlan(application id: Int, on: CivilDate, summary: String, by user: UserContext) async throws {
        let text = summary.trimmingCharacters(in: .whitespacesAndNewlines)
        try await step(id, by: user, name: "plan_submitted", on: on, args: ["on": on.iso], check: { b, a in
            var e: [FieldError] = []
            if !a.stateValue.isRunning { e.append(FieldError("plan_summary", "contract_not_running")) }
            if text.isEmpty || text.count > 4000 { e.append(FieldError("plan_summary", "required")) }
            if b.plan_submitted_on != nil { e.append(FieldError("plan_summary", "already_recorded")) }
            return e
        }, update: { $0.set("plan_submitted_on", to: SQLBind(on.iso)).set("plan_summary", to: SQLBind(text)) })
    }

    /// The lender's decision on the loan (C2/C3), entered by the lender's own user for an application that chose it:
    /// an approval is checked against the microcredit terms in force on the date.
    public func recordLoanDecision(application id: Int, approved: Bool, amount: Money?, termMonths: Int?, graceMonths: Int?, reason: String, on: CivilDate,
                                   env: RulesEnvironment, by user: UserContext) async throws {
        guard user.role == .lender || user.role == .administrator else { throw FieldErrors(errors: [FieldError("loan_decision", "read_only")]) }
        guard let b = try await business(id, scope: .national), user.role == .administrator || b.lender_id == user.organisationID,
              let app = try await cases.application(id, scope: .national) else { throw StoreError.notFound }
        var errors: [FieldError] = []
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if b.loan_decision != nil { errors.append(FieldError("loan_decision", "already_recorded")) }
        if b.plan_submitted_on == nil { errors.append(FieldError("loan_decision", "no_business_plan")) }
        if !app.stateValue.isRunning { errors.append(FieldError("loan_decision", "contract_not_running")) }
        if on > store.today() { errors.append(FieldError("loan_decided_on", "date_future")) }
        var steps: [ExplanationStep] = []
        if approved {
            if let amount, let termMonths, let graceMonths, amount.tiyn > 0, termMonths > 0, graceMonths >= 0 {
                let check = try Rules.microcreditCheck(amount: amount, termMonths: termMonths, graceMonths: graceMonths, env.context(on: on))
                steps = check.steps
                if !check.value.ok { errors.append(FieldError("loan_amount", "loan_terms_violated", ["violations": check.value.violations.joined(separator: ", ")])) }
            } else { errors.append(FieldError("loan_amount", "amount_invalid")) }
        } else if text.isEmpty { errors.append(FieldError("loan_reason", "reason_required")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let explained = steps
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.update("business_applications").set("loan_decision", to: SQLBind(approved ? "approved" : "refused")).set("loan_decided_on", to: SQLBind(on.iso))
                .set("loan_amount", to: SQLBind(approved ? amount?.tiyn : nil)).set("loan_term_months", to: SQLBind(approved ? termMonths : nil))
                .set("loan_grace_months", to: SQLBind(approved ? graceMonths : nil)).set("loan_reason", to: SQLBind(text)).set("loan_decided_by", to: SQLBind(user.login))
                .where("application_id", .equal, SQLBind(id)).where("loan_decision", .is, SQLLiteral.null).run()
            try ctx.audit("loan_decision", entity: "business_application", id: String(id),
                          after: StepSnapshot(application_id: id, step: "loan_decision", values: ["decision": approved ? "approved" : "refused", "amount": amount?.decimalString ?? "", "term_months": termMonths.map(String.init) ?? ""]))
            try await cases.event(ctx, person: b.person_id, on: on, kind: "business_loan_decision",
                                  args: ["application": String(id), "decision": approved ? "approved" : "refused", "amount": approved ? (amount?.decimalString ?? "") : ""], explanation: explained.isEmpty ? nil : explained)
        }
    }

    /// Support services for up to `business_support_max_months`, with visits at least every
    /// `business_support_visit_interval_months` (C3).
    public func startSupport(application id: Int, from: CivilDate, to: CivilDate, env: RulesEnvironment, by user: UserContext) async throws {
        let rules = env.context(on: from)
        let maxMonths = try rules.p("business_support_max_months"), interval = try rules.p("business_support_visit_interval_months")
        let limit = from.adding(months: Int(maxMonths.value.wholeValue ?? 12))
        let next = rules.calendar.monthTerm(months: Int(interval.value.wholeValue ?? 2), from: from).due
        try await step(id, by: user, name: "support_started", on: min(from, store.today()), args: ["from": from.iso, "to": to.iso, "next_visit": next.iso], check: { b, a in
            var e: [FieldError] = []
            if !a.stateValue.isRunning { e.append(FieldError("support_from", "contract_not_running")) }
            if to <= from { e.append(FieldError("support_to", "end_before_start")) }
            if to > limit { e.append(FieldError("support_to", "support_too_long", ["max": limit.iso])) }
            if b.support_from != nil { e.append(FieldError("support_from", "already_recorded")) }
            return e
        }, update: { $0.set("support_from", to: SQLBind(from.iso)).set("support_to", to: SQLBind(to.iso)).set("next_visit_due", to: SQLBind(next.iso)) },
           explanation: [.uses("C3", "business_support_max_months", maxMonths), .uses("C3", "business_support_visit_interval_months", interval),
                         ExplanationStep(rule: "C3", text: "support from \(from.iso) may last to \(limit.iso); first visit due \(next.iso)")])
    }

    public struct VisitRow: Decodable, Sendable { public let id: Int; public let visited_on: String; public let note: String; public let by_login: String }
    public func visits(of applicationID: Int) async throws -> [VisitRow] {
        try await store.sql.select().columns("id", "visited_on", "note", "by_login").from("business_visits").where("application_id", .equal, SQLBind(applicationID)).orderBy("visited_on").all(decoding: VisitRow.self)
    }

    /// A visit to the project on site; the next one falls due the interval after the latest visit.
    public func addVisit(application id: Int, on: CivilDate, note: String, env: RulesEnvironment, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("note", "read_only")]) }
        guard let b = try await business(id, scope: user.scope) else { throw StoreError.notFound }
        let rules = env.context(on: on)
        let interval = try rules.p("business_support_visit_interval_months")
        let text = note.trimmingCharacters(in: .whitespacesAndNewlines)
        let latest = try await visits(of: id).compactMap { CivilDate(iso: $0.visited_on) }.max()
        let from = max(on, latest ?? on)
        let next = rules.calendar.monthTerm(months: Int(interval.value.wholeValue ?? 2), from: from).due
        var errors: [FieldError] = []
        guard let s = b.support_from.flatMap(CivilDate.init(iso:)), let e = b.support_to.flatMap(CivilDate.init(iso:)) else { throw FieldErrors(errors: [FieldError("visited_on", "support_not_started")]) }
        if !(s...e).contains(on) { errors.append(FieldError("visited_on", "outside_support")) }
        if on > store.today() { errors.append(FieldError("visited_on", "date_future")) }
        if text.isEmpty || text.count > 1000 { errors.append(FieldError("note", "note_required")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.insert(into: "business_visits").columns("application_id", "visited_on", "note", "by_login").values(SQLBind(id), SQLBind(on.iso), SQLBind(text), SQLBind(user.login)).run()
            try await ctx.sql.update("business_applications").set("next_visit_due", to: SQLBind(next.iso)).where("application_id", .equal, SQLBind(id)).run()
            try ctx.audit("visit", entity: "business_application", id: String(id), after: StepSnapshot(application_id: id, step: "visit", values: ["on": on.iso, "next": next.iso]))
            try await cases.event(ctx, person: b.person_id, on: on, kind: "business_visit", args: ["application": String(id), "next": next.iso],
                                  explanation: [.uses("C3", "business_support_visit_interval_months", interval), ExplanationStep(rule: "C3", text: "next visit due \(next.iso)")])
        }
    }

    /// Whether a support visit is overdue on a date: support running and the next visit's date passed.
    public static func visitOverdue(_ b: BusinessRow, today: CivilDate) -> Bool {
        guard let due = b.next_visit_due.flatMap(CivilDate.init(iso:)), let to = b.support_to.flatMap(CivilDate.init(iso:)) else { return false }
        return today > due && due <= to
    }

    /// Engineering infrastructure for the participant's project (C2): the contract's cost, without design documents
    /// and expertise, must be within the cap per participant; needs the infrastructure authority's positive conclusion.
    public func recordInfrastructure(application id: Int, description: String, cost: Money, designCost: Money, contractNumber: String, contractOn: CivilDate,
                                     env: RulesEnvironment, by user: UserContext) async throws {
        let cap = try env.context(on: contractOn).p("microcredit_infrastructure_max")
        let capMoney = Money(fixedTenge: cap.value)
        let text = description.trimmingCharacters(in: .whitespacesAndNewlines), number = contractNumber.trimmingCharacters(in: .whitespaces)
        let positive = try await conclusions(of: id).contains { $0.body == ConclusionBody.infrastructureAuthority.rawValue && $0.positive == true }
        try await step(id, by: user, name: "infrastructure", on: contractOn, args: ["cost": cost.decimalString, "design_cost": designCost.decimalString, "contract": number], check: { b, _ in
            var e: [FieldError] = []
            if !b.needs_infrastructure { e.append(FieldError("infra_description", "no_infrastructure_needed")) }
            if !positive { e.append(FieldError("infra_description", "no_infrastructure_conclusion")) }
            if b.infra_contract_number != nil { e.append(FieldError("infra_contract_number", "already_recorded")) }
            if text.isEmpty || text.count > 2000 { e.append(FieldError("infra_description", "required")) }
            if number.isEmpty || number.count > 100 { e.append(FieldError("infra_contract_number", "required")) }
            if cost.tiyn <= 0 { e.append(FieldError("infra_cost", "amount_invalid")) }
            else if cost > capMoney { e.append(FieldError("infra_cost", "infrastructure_over_cap", ["max": capMoney.decimalString])) }
            if designCost.tiyn < 0 || designCost.tiyn > AmountLimit.infrastructureDesign { e.append(FieldError("infra_design_cost", "amount_invalid")) }
            return e
        }, update: { $0.set("infra_description", to: SQLBind(text)).set("infra_cost", to: SQLBind(cost.tiyn)).set("infra_design_cost", to: SQLBind(designCost.tiyn))
            .set("infra_contract_number", to: SQLBind(number)).set("infra_contract_on", to: SQLBind(contractOn.iso)) },
           explanation: [.uses("C2", "microcredit_infrastructure_max", cap), ExplanationStep(rule: "C2", text: "cost \(cost.decimalString) without design documents and expertise (\(designCost.decimalString)) ≤ \(capMoney.decimalString)")])
    }

    // MARK: worklists

    public struct OverdueItem: Sendable { public let applicationID: Int; public let personID: Int; public let kind: String; public let due: CivilDate; public let detail: String }

    /// The centre's overdue items of direction 2 in scope: unanswered conclusions past due, notifications not sent in
    /// time, support visits missed.
    public func overdue(scope: Scope, today: CivilDate, limit: Int = 500) async throws -> [OverdueItem] {
        var out: [OverdueItem] = []
        let q = Registry.restrict(store.sql.select().column("*").from(SQLAlias(SQLIdentifier("conclusion_requests"), as: SQLIdentifier("c")))
            .where(SQLColumn("answered_on", table: "c"), .is, SQLLiteral.null).where(SQLColumn("due_on", table: "c"), .lessThan, SQLBind(today.iso)), scope: scope, table: "c")
        let late = try await q.orderBy(SQLColumn("due_on", table: "c")).limit(limit).all(decoding: ConclusionRow.self)
        let apps = try await store.sql.select().column("*").from("business_applications").where("application_id", .in, SQLBind.group(late.map(\.application_id) + [-1])).all(decoding: BusinessRow.self)
        let person = Dictionary(uniqueKeysWithValues: apps.map { ($0.application_id, $0.person_id) })
        for r in late { out.append(OverdueItem(applicationID: r.application_id, personID: person[r.application_id] ?? 0, kind: "conclusion", due: CivilDate(iso: r.due_on)!, detail: r.body)) }
        let b = Registry.restrict(store.sql.select().column("*").from(SQLAlias(SQLIdentifier("business_applications"), as: SQLIdentifier("b")))
            .where(group: { $0.where(group: { $0.where(SQLColumn("notified_on", table: "b"), .is, SQLLiteral.null).where(SQLColumn("notification_due", table: "b"), .lessThan, SQLBind(today.iso)) })
                .orWhere(SQLColumn("next_visit_due", table: "b"), .lessThan, SQLBind(today.iso)) }), scope: scope, table: "b")
        for row in try await b.limit(limit).all(decoding: BusinessRow.self) {
            if row.notified_on == nil, let d = row.notification_due.flatMap(CivilDate.init(iso:)), d < today {
                out.append(OverdueItem(applicationID: row.application_id, personID: row.person_id, kind: "notification", due: d, detail: ""))
            }
            if Self.visitOverdue(row, today: today), let d = row.next_visit_due.flatMap(CivilDate.init(iso:)) {
                out.append(OverdueItem(applicationID: row.application_id, personID: row.person_id, kind: "support_visit", due: d, detail: ""))
            }
        }
        return out.sorted { $0.due < $1.due }
    }
}
