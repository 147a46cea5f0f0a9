import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

extension CaseStore {
    /// Moves an application by one action of the state machine (ApplicationState.after). An action out of order is
    /// refused with `transition_not_allowed` and nothing is written. Returns the new state.
    @discardableResult
    public func transition(application id: Int, _ action: ApplicationAction, input: TransitionInput = .none, on date: CivilDate? = nil,
                           env: RulesEnvironment, by user: UserContext) async throws -> ApplicationState {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("action", "read_only")]) }
        let today = self.today()
        let on = date ?? today
        if on > today { throw FieldErrors(errors: [FieldError("date", "date_future")]) }
        guard let before = try await application(id, scope: user.scope) else { throw StoreError.notFound }
        guard let person = try await person(before.person_id, scope: user.scope) else { throw StoreError.notFound }
        let facts = try await self.facts(person, on: on)
        let rules = env.context(on: on)
        // Checks that need no write come first, so that a refusal leaves nothing behind.
        var refusal: (RefusalReason, String)? = nil
        var contractInput: ContractInput? = nil
        var termination: (Bool, String)? = nil
        var explanation: [ExplanationStep] = []
        switch (action, input) {
        case (.refuse, .refusal(let reason, let text)):
            if reason == .other && text.trimmingCharacters(in: .whitespaces).isEmpty { throw FieldErrors(errors: [FieldError("refusal_text", "refusal_text_required")]) }
            // Written into the decision the person receives: refused when too long, never cut short.
            if text.count > 1000 { throw FieldErrors(errors: [FieldError("refusal_text", "too_long", ["max": "1000"])]) }
            refusal = (reason, text)
        case (.refuse, _): throw FieldErrors(errors: [FieldError("refusal_reason", "choose_from_list")])
        case (.include, _) where before.measureValue == .entrepreneurship:
            explanation = try await BusinessStore(store: store).inclusionCheck(before, facts: facts, rules: rules)
        case (.include, _) where before.measureValue == .relocation:
            explanation = try await RelocationStore(store: store).inclusionCheck(before, facts: facts, rules: rules)
        case (.include, _):
            let e = try Rules.measureEligibility(measure: before.measureValue, facts: facts, rules)
            explanation = e.steps
            guard e.value.eligible else { throw FieldErrors(errors: [FieldError("action", "not_eligible", ["reasons": e.value.reasons.joined(separator: ", ")])]) }
        case (.signContract, .contract(let c)):
            var errors: [FieldError] = []
            if c.endsOn <= c.startsOn { errors.append(FieldError("ends_on", "end_before_start")) }
            if c.startsOn < on.adding(days: -31) { errors.append(FieldError("starts_on", "start_too_early")) }
            if let e = c.employerID, try await OrganisationRecord.find(e, on: store.db)?.kind != OrganisationKind.contractor.rawValue { errors.append(FieldError("employer_id", "choose_from_list")) }
            if let p = c.providerID, try await OrganisationRecord.find(p, on: store.db)?.kind != OrganisationKind.educationProvider.rawValue { errors.append(FieldError("provider_id", "choose_from_list")) }
            // Months to work off a course (at most ten years) and a course's length (at most two years).
            if let m = c.workOffMonths, !(0...120).contains(m) { errors.append(FieldError("work_off_months", "number_invalid")) }
            if let m = c.courseMonths, !(0...24).contains(m) { errors.append(FieldError("course_months", "number_invalid")) }
            if let cost = c.courseCost, cost.tiyn < 0 || cost.tiyn > AmountLimit.course { errors.append(FieldError("course_cost", "amount_invalid")) }
            if (c.specialty?.count ?? 0) > 200 { errors.append(FieldError("specialty", "name_too_long")) }
            if (c.practicePlace?.count ?? 0) > 200 { errors.append(FieldError("practice_place", "name_too_long")) }
            guard errors.isEmpty else { throw FieldErrors(errors: errors) }
            contractInput = c
        case (.signContract, _): throw FieldErrors(errors: [FieldError("starts_on", "contract_data_required")])
        case (.terminate, .termination(let refused, let text)):
            if text.count > 1000 { throw FieldErrors(errors: [FieldError("note", "too_long", ["max": "1000"])]) }
            termination = (refused, text)
        case (.terminate, _): termination = (false, "")
        default: break
        }
        let (refusalDecided, contractData, terminationData, explained) = (refusal, contractInput, termination, explanation)
        let result: ApplicationState = try await store.write(as: user.actor) { ctx in
            // Read again inside the transaction (locked on PostgreSQL; SQLite has one writer): a concurrent change wins once.
            guard let app = try await self.application(id, scope: user.scope, on: ctx.sql, forUpdate: true) else { throw StoreError.notFound }
            guard let next = app.stateValue.after(action, measure: app.measureValue) else {
                throw FieldErrors(errors: [FieldError("action", "transition_not_allowed", ["from": app.state, "action": action.rawValue])])
            }
            var update = ctx.sql.update("applications").set("state", to: SQLBind(next.rawValue)).set("updated_at", to: SQLBind(AuditLog.timestamp(ctx.now)))
            var args: [String: String] = ["application": String(id), "measure": app.measure, "from": app.state, "to": next.rawValue]
            var steps = explained
            switch action {
            case .include:
                let due = try Rules.contractSigningDue(decidedOn: on, rules)
                steps += due.steps
                update = update.set("decided_on", to: SQLBind(on.iso)).set("signing_due", to: SQLBind(due.value.iso))
                args["due"] = due.value.iso
            case .refuse:
                update = update.set("decided_on", to: SQLBind(on.iso)).set("refusal_reason", to: SQLBind(refusalDecided!.0.rawValue)).set("refusal_text", to: SQLBind(refusalDecided!.1))
                args["reason"] = refusalDecided!.0.rawValue
                if refusalDecided!.0 == .applicantDeclined {
                    steps += try await self.applyTSA(ctx, person: person, facts: facts, event: .refusal, contractID: nil, on: on, rules: rules)
                }
            case .signContract:
                let c = contractData!
                let contractID = try await self.createContract(ctx, app: app, input: c, on: on, rules: rules)
                args["contract"] = String(contractID)
                steps += try await self.restoreTSAIfSuspended(ctx, person: person, on: on)
            case .activate:
                steps += try await self.restoreTSAIfSuspended(ctx, person: person, on: on)
            case .terminate:
                if let t = terminationData {
                    args["note"] = t.1
                    if t.0 {
                        let c = try await self.contract(forApplication: id)
                        steps += try await self.applyTSA(ctx, person: person, facts: facts, event: .refusal, contractID: c?.id, on: on, rules: rules)
                    }
                }
            default: break
            }
            if action == .include || action == .refuse {
                switch app.measureValue {
                case .entrepreneurship: steps += try await BusinessStore.afterDecision(ctx, applicationID: id, on: on, rules: rules)
                case .relocation where action == .include: steps += try await RelocationStore.afterInclusion(ctx, applicationID: id, on: on, rules: rules)
                default: break
                }
            }
            try await update.where("id", .equal, SQLBind(id)).run()
            try await Self.refreshWorklistDates(ctx.sql, application: id)
            try ctx.audit(action.rawValue, entity: "application", id: String(id),
                          before: ApplicationSnapshot(person_id: app.person_id, measure: app.measure, state: app.state, submitted_on: app.submitted_on, decided_on: app.decided_on, refusal_reason: app.refusal_reason),
                          after: ApplicationSnapshot(person_id: app.person_id, measure: app.measure, state: next.rawValue, submitted_on: app.submitted_on,
                                                     decided_on: action == .include || action == .refuse ? on.iso : app.decided_on, refusal_reason: refusalDecided?.0.rawValue ?? app.refusal_reason))
            try await self.event(ctx, person: app.person_id, on: on, kind: "application_" + action.rawValue, args: args, explanation: steps.isEmpty ? nil : steps)
            return next
        }
        return result
    }

    struct ContractSnapshot: Encodable, Sendable { let application_id: Int; let number: String; let starts_on: String; let ends_on: String; let employer_id: Int?; let provider_id: Int? }

    /// The obligations every contract of a measure starts with (A3), due relative to its start and end.
    static func defaultObligations(_ m: Measure, starts: CivilDate, ends: CivilDate) -> [(ContractParty, String, CivilDate)] {
        var out: [(ContractParty, String, CivilDate)] = [
            (.participant, "obligation.participant.attend", starts),
            (.centre, "obligation.centre.monitor", starts.adding(months: 1)),
        ]
        switch m {
        case .training:
            out += [(.provider, "obligation.provider.course", starts), (.provider, "obligation.provider.certificate", ends),
                    (.participant, "obligation.participant.complete_course", ends), (.centre, "obligation.centre.placement", ends.adding(months: 1))]
        case .youthPractice, .socialJob:
            out += [(.employer, "obligation.employer.labour_contract", starts), (.employer, "obligation.employer.wage", starts.adding(months: 1)),
                    (.centre, "obligation.centre.subsidy", starts.adding(months: 1))]
        case .infrastructureReferral:
            out += [(.employer, "obligation.employer.labour_contract", starts)]
        case .entrepreneurship:
            out += [(.participant, "obligation.participant.business_training", starts), (.participant, "obligation.participant.business_plan", starts.adding(months: 2)),
                    (.centre, "obligation.centre.business_training", starts), (.centre, "obligation.centre.business_support", ends)]
        case .relocation:
            out += [(.participant, "obligation.participant.move", starts), (.participant, "obligation.participant.work_at_destination", starts.adding(months: 1)),
                    (.centre, "obligation.centre.relocation_subsidy", starts), (.centre, "obligation.centre.destination_employment", starts.adding(months: 1))]
        case .vacancyPlacement: break
        }
        return out
    }

    func createContract(_ ctx: WriteContext, app: ApplicationRow, input c: ContractInput, on: CivilDate, rules: RuleContext) async throws -> Int {
        struct R: Decodable { let id: Int }
        let monitor = try Rules.monitoringDue(since: c.startsOn, rules)
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let employerNotice: String? = c.employerID == nil ? nil : String(decoding: try enc.encode(["specialty": c.specialty ?? "", "practice_place": c.practicePlace ?? "", "work_off_months": c.workOffMonths.map(String.init) ?? ""]), as: UTF8.self)
        let providerNotice: String? = c.providerID == nil ? nil : String(decoding: try enc.encode(["specialty": c.specialty ?? "", "practice_place": c.practicePlace ?? "", "course_months": c.courseMonths.map(String.init) ?? "", "course_cost": c.courseCost?.decimalString ?? ""]), as: UTF8.self)
        let number = "SC-\(app.region_iso)-\(on.year)-\(String(format: "%06d", app.id))"
        guard let row = try await ctx.sql.insert(into: "contracts")
            .columns("application_id", "person_id", "region_iso", "district_id", "number", "signed_on", "starts_on", "ends_on", "employer_id", "provider_id", "employer_notice", "provider_notice", "next_monitoring")
            .values(SQLBind(app.id), SQLBind(app.person_id), SQLBind(app.region_iso), SQLBind(app.district_id), SQLBind(number), SQLBind(on.iso), SQLBind(c.startsOn.iso), SQLBind(c.endsOn.iso),
                    SQLBind(c.employerID), SQLBind(c.providerID), SQLBind(employerNotice), SQLBind(providerNotice), SQLBind(monitor.value.iso))
            .returning("id").first(decoding: R.self) else { throw StoreError.conflict("contract not created") }
        for (party, text, due) in Self.defaultObligations(app.measureValue, starts: c.startsOn, ends: c.endsOn)
        where (party != .employer || c.employerID != nil) && (party != .provider || c.providerID != nil) {
            try await ctx.sql.insert(into: "contract_obligations").columns("contract_id", "party", "text", "due_on")
                .values(SQLBind(row.id), SQLBind(party.rawValue), SQLBind(text), SQLBind(rules.calendar.onOrNextWorkingDay(due).iso)).run()
        }
        try ctx.audit("create", entity: "contract", id: String(row.id), after: ContractSnapshot(application_id: app.id, number: number, starts_on: c.startsOn.iso, ends_on: c.endsOn.iso, employer_id: c.employerID, provider_id: c.providerID))
        return row.id
    }

    struct SuspensionSnapshot: Encodable, Sendable { let person_id: Int; let suspended_on: String; let event: String; let resumed_on: String? }

    /// A5: suspends the person's TSA when the rule says so; returns the explanation either way.
    func applyTSA(_ ctx: WriteContext, person: PersonRow, facts: PersonFacts, event ev: ParticipationEvent, contractID: Int?, on: CivilDate, rules: RuleContext) async throws -> [ExplanationStep] {
        let r = try Rules.tsaSuspension(facts: facts, event: ev, rules)
        guard r.value.suspend, try await Self.suspendedSince(ctx, person.id) == nil else { return r.steps }
        try await ctx.sql.insert(into: "tsa_suspensions").columns("person_id", "region_iso", "district_id", "suspended_on", "event", "contract_id", "explanation")
            .values(SQLBind(person.id), SQLBind(person.region_iso), SQLBind(person.district_id), SQLBind(on.iso), SQLBind(ev.rawValue), SQLBind(contractID), SQLBind(try Self.explanationJSON(r.steps))).run()
        try await ctx.sql.update("persons").set("tsa_suspended_on", to: SQLBind(on.iso)).where("id", .equal, SQLBind(person.id)).run()
        try ctx.audit("suspend", entity: "tsa", id: String(person.id), after: SuspensionSnapshot(person_id: person.id, suspended_on: on.iso, event: ev.rawValue, resumed_on: nil))
        try await event(ctx, person: person.id, on: on, kind: "tsa_suspended", args: ["event": ev.rawValue, "contract": contractID.map(String.init) ?? ""], explanation: r.steps)
        return r.steps
    }

    /// A5: taking part again restores the person's TSA.
    /// The person's TSA suspension as it stands inside the transaction (not as read before it).
    static func suspendedSince(_ ctx: WriteContext, _ personID: Int) async throws -> String? {
        struct S: Decodable { let tsa_suspended_on: String? }
        var q = ctx.sql.select().column("tsa_suspended_on").from("persons").where("id", .equal, SQLBind(personID))
        if ctx.sql.dialect.name == "postgresql" { q = q.for(.update) }
        return try await q.first(decoding: S.self)?.tsa_suspended_on
    }

    func restoreTSAIfSuspended(_ ctx: WriteContext, person: PersonRow, on: CivilDate) async throws -> [ExplanationStep] {
        guard let since = try await Self.suspendedSince(ctx, person.id) else { return [] }
        try await ctx.sql.update("tsa_suspensions").set("resumed_on", to: SQLBind(on.iso)).where("person_id", .equal, SQLBind(person.id)).where("resumed_on", .is, SQLLiteral.null).run()
        try await ctx.sql.update("persons").set("tsa_suspended_on", to: SQLBind(Optional<String>.none)).where("id", .equal, SQLBind(person.id)).run()
        let step = ExplanationStep(rule: "A5", text: "participation resumed on \(on.iso): TSA suspended since \(since) is restored")
        try ctx.audit("resume", entity: "tsa", id: String(person.id), before: SuspensionSnapshot(person_id: person.id, suspended_on: since, event: "", resumed_on: nil),
                      after: SuspensionSnapshot(person_id: person.id, suspended_on: since, event: "", resumed_on: on.iso))
        try await event(ctx, person: person.id, on: on, kind: "tsa_restored", args: ["since": since], explanation: [step])
        return [step]
    }

    // MARK: contract follow-up

    struct ObligationSnapshot: Encodable, Sendable { let contract_id: Int; let text: String; let due_on: String; let fulfilled_on: String? }

    public func fulfilObligation(_ obligationID: Int, on date: CivilDate? = nil, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("obligation", "read_only")]) }
        let on = date ?? today()
        guard let o = try await store.sql.select().column("*").from("contract_obligations").where("id", .equal, SQLBind(obligationID)).first(decoding: ObligationRow.self),
              let c = try await contract(o.contract_id, scope: user.scope) else { throw StoreError.notFound }
        guard o.fulfilled_on == nil else { return }
        try await store.write(as: user.actor) { ctx in
            struct F: Decodable { let fulfilled_on: String? }
            var q = ctx.sql.select().column("fulfilled_on").from("contract_obligations").where("id", .equal, SQLBind(obligationID))
            if ctx.sql.dialect.name == "postgresql" { q = q.for(.update) }
            guard try await q.first(decoding: F.self)?.fulfilled_on == nil else { return }
            try await ctx.sql.update("contract_obligations").set("fulfilled_on", to: SQLBind(on.iso)).where("id", .equal, SQLBind(obligationID)).run()
            try await Self.refreshWorklistDates(ctx.sql, contract: c.id)
            try ctx.audit("fulfil", entity: "contract_obligation", id: String(obligationID), before: ObligationSnapshot(contract_id: c.id, text: o.text, due_on: o.due_on, fulfilled_on: nil),
                          after: ObligationSnapshot(contract_id: c.id, text: o.text, due_on: o.due_on, fulfilled_on: on.iso))
            try await event(ctx, person: c.person_id, on: on, kind: "obligation_fulfilled", args: ["contract": String(c.id), "party": o.party, "text": o.text])
        }
    }

    struct VisitSnapshot: Encodable, Sendable { let contract_id: Int; let visited_on: String; let note: String; let next: String }

    /// Records a monitoring visit or check (A3); the next one falls due by the interval.
    public func addMonitoring(contract contractID: Int, visitedOn: CivilDate, note: String, env: RulesEnvironment, by user: UserContext) async throws {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("note", "read_only")]) }
        guard let c = try await contract(contractID, scope: user.scope) else { throw StoreError.notFound }
        let n = note.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if n.isEmpty || n.count > 2000 { errors.append(FieldError("note", "note_required")) }
        if visitedOn > today() { errors.append(FieldError("visited_on", "date_future")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let next = try Rules.monitoringDue(since: visitedOn, env.context(on: visitedOn))
        try await store.write(as: user.actor) { ctx in
            try await ctx.sql.insert(into: "contract_monitoring").columns("contract_id", "visited_on", "note", "by_login").values(SQLBind(contractID), SQLBind(visitedOn.iso), SQLBind(n), SQLBind(user.login)).run()
            try await ctx.sql.update("contracts").set("next_monitoring", to: SQLBind(next.value.iso)).where("id", .equal, SQLBind(contractID)).run()
            try await Self.refreshWorklistDates(ctx.sql, contract: contractID)
            try ctx.audit("create", entity: "contract_monitoring", id: String(contractID), after: VisitSnapshot(contract_id: contractID, visited_on: visitedOn.iso, note: n, next: next.value.iso))
            try await event(ctx, person: c.person_id, on: visitedOn, kind: "monitoring", args: ["contract": String(contractID), "next": next.value.iso], explanation: next.steps)
        }
    }

    public enum Sanction: String, Sendable, CaseIterable { case warning, tsaSuspension = "tsa_suspension", termination }

    struct BreachSnapshot: Encodable, Sendable { let contract_id: Int; let party: String; let occurred_on: String; let description: String; let sanction: String }

    /// Records a breach of the contract. A participant's breach runs the TSA rule (A5); a termination sanction ends
    /// the application. Returns whether TSA was suspended.
    @discardableResult
    public func recordBreach(contract contractID: Int, party: ContractParty, occurredOn: CivilDate, description: String, sanction: Sanction,
                             env: RulesEnvironment, by user: UserContext) async throws -> Bool {
        guard user.doesCasework else { throw FieldErrors(errors: [FieldError("description", "read_only")]) }
        guard let c = try await contract(contractID, scope: user.scope), let app = try await application(c.application_id, scope: user.scope),
              let person = try await person(c.person_id, scope: user.scope) else { throw StoreError.notFound }
        let d = description.trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if d.isEmpty || d.count > 2000 { errors.append(FieldError("description", "note_required")) }
        if occurredOn > today() { errors.append(FieldError("occurred_on", "date_future")) }
        if !app.stateValue.isRunning { errors.append(FieldError("description", "contract_not_running")) }
        guard errors.isEmpty else { throw FieldErrors(errors: errors) }
        let facts = try await self.facts(person, on: occurredOn)
        let rules = env.context(on: occurredOn)
        let suspended: Bool = try await store.write(as: user.actor) { ctx in
            guard let app = try await self.application(c.application_id, scope: user.scope, on: ctx.sql, forUpdate: true),
                  app.stateValue.isRunning else { throw FieldErrors(errors: [FieldError("description", "contract_not_running")]) }
            let wasSuspended = try await Self.suspendedSince(ctx, person.id) != nil
            try await ctx.sql.insert(into: "contract_breaches").columns("contract_id", "party", "occurred_on", "description", "sanction")
                .values(SQLBind(contractID), SQLBind(party.rawValue), SQLBind(occurredOn.iso), SQLBind(d), SQLBind(sanction.rawValue)).run()
            try ctx.audit("create", entity: "contract_breach", id: String(contractID), after: BreachSnapshot(contract_id: contractID, party: party.rawValue, occurred_on: occurredOn.iso, description: d, sanction: sanction.rawValue))
            var steps: [ExplanationStep] = []
            if party == .participant {
                steps = try await self.applyTSA(ctx, person: person, facts: facts, event: .breach, contractID: contractID, on: occurredOn, rules: rules)
            }
            try await event(ctx, person: c.person_id, on: occurredOn, kind: "breach", args: ["contract": String(contractID), "party": party.rawValue, "sanction": sanction.rawValue], explanation: steps.isEmpty ? nil : steps)
            if sanction == .termination, let next = app.stateValue.after(.terminate, measure: app.measureValue) {
                try await ctx.sql.update("applications").set("state", to: SQLBind(next.rawValue)).set("updated_at", to: SQLBind(AuditLog.timestamp(ctx.now))).where("id", .equal, SQLBind(app.id)).run()
                try await Self.refreshWorklistDates(ctx.sql, application: app.id)
                try ctx.audit("terminate", entity: "application", id: String(app.id),
                              before: ApplicationSnapshot(person_id: app.person_id, measure: app.measure, state: app.state, submitted_on: app.submitted_on, decided_on: app.decided_on, refusal_reason: app.refusal_reason),
                              after: ApplicationSnapshot(person_id: app.person_id, measure: app.measure, state: next.rawValue, submitted_on: app.submitted_on, decided_on: app.decided_on, refusal_reason: app.refusal_reason))
                try await event(ctx, person: c.person_id, on: occurredOn, kind: "application_terminate", args: ["application": String(app.id), "measure": app.measure, "from": app.state, "to": next.rawValue, "note": "breach"])
            }
            let wouldSuspend = try Rules.tsaSuspension(facts: facts, event: .breach, rules).value.suspend
            return party == .participant && !wasSuspended && wouldSuspend
        }
        return suspended
    }

    // MARK: worklist

    /// Recomputes the worklist's due dates from their sources (`WorklistDueDates`): a contract's `monitoring_due` is
    /// its next monitoring while its application is signed or active, else NULL; an obligation's `open_due` is its due
    /// date while it is unfulfilled and its contract's monitoring runs, else NULL, with the contract's region and
    /// district. For one application's contract, one contract, or (neither given) every row.
    static func refreshWorklistDates(_ sql: any SQLDatabase, application: Int? = nil, contract: Int? = nil) async throws {
        var contracts: SQLQueryString = "UPDATE contracts SET monitoring_due = CASE WHEN (SELECT a.state FROM applications a WHERE a.id = contracts.application_id) IN (\(literals: ApplicationState.allCases.filter(\.isRunning).map(\.rawValue), joinedBy: ", ")) THEN next_monitoring ELSE NULL END"
        var obligations: SQLQueryString = """
            UPDATE contract_obligations SET region_iso = (SELECT c.region_iso FROM contracts c WHERE c.id = contract_obligations.contract_id), \
            district_id = (SELECT c.district_id FROM contracts c WHERE c.id = contract_obligations.contract_id), \
            open_due = CASE WHEN fulfilled_on IS NULL AND (SELECT c.monitoring_due FROM contracts c WHERE c.id = contract_obligations.contract_id) IS NOT NULL THEN due_on ELSE NULL END
            """
        if let contract {
            contracts = contracts + " WHERE id = \(bind: contract)"
            obligations = obligations + " WHERE contract_id = \(bind: contract)"
        } else if let application {
            contracts = contracts + " WHERE application_id = \(bind: application)"
            obligations = obligations + " WHERE contract_id IN (SELECT id FROM contracts WHERE application_id = \(bind: application))"
        }
        try await sql.raw(contracts).run()
        try await sql.raw(obligations).run()
    }

    /// What is due or overdue by `horizon` (today by default) in the scope, earliest first. Each kind is read in the
    /// database already filtered by its due date and ordered by it, so the `limit` of a kind keeps its earliest items
    /// (a district with thousands of open cases reads only what is due, and never shows an arbitrary few). Gives the
    /// `limit` earliest, and one more when there are more.
    public func worklist(scope: Scope, through horizon: CivilDate? = nil, limit: Int = 300) async throws -> [WorklistItem] {
        var until = horizon ?? today()
        struct A: Decodable { let id: Int; let person_id: Int; let measure: String; let due: String; let last_name: String; let first_name: String }
        // Decisions due (submitted or under review), and contracts to sign (included), each by its own date column.
        // The earliest ids first, from the index on (district, state, due date, id) alone; then only those rows and
        // their persons (joining the persons first read every due application's person before the limit).
        func applications(states: [ApplicationState], due column: String) async throws -> [A] {
            let earliest = Registry.restrict(store.sql.select().column(SQLColumn("id", table: "i"))
                .from(SQLAlias(SQLIdentifier("applications"), as: SQLIdentifier("i")))
                .where(SQLColumn("state", table: "i"), .in, SQLBind.group(states.map(\.rawValue)))
                .where(SQLColumn(column, table: "i"), .lessThanOrEqual, SQLBind(until.iso)), scope: scope, table: "i")
                .orderBy(SQLColumn(column, table: "i")).orderBy(SQLColumn("id", table: "i")).limit(limit + 1)
            return try await store.sql.select()
                .columns(SQLColumn("id", table: "a"), SQLColumn("person_id", table: "a"), SQLColumn("measure", table: "a"))
                .column(SQLColumn(column, table: "a"), as: "due").columns(SQLColumn("last_name", table: "p"), SQLColumn("first_name", table: "p"))
                .from(SQLAlias(SQLIdentifier("applications"), as: SQLIdentifier("a")))
                .join(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")), on: SQLColumn("person_id", table: "a"), .equal, SQLColumn("id", table: "p"))
                .where(SQLColumn("id", table: "a"), .in, SQLGroupExpression(earliest.select))
                .orderBy(SQLColumn(column, table: "a")).orderBy(SQLColumn("id", table: "a")).all(decoding: A.self)
        }
        var items: [WorklistItem] = []
        // Once more than `limit` items are in hand, an item due after the `limit`-th earliest can no longer be shown:
        // the kinds read after that read only up to that date (ties are kept: they may sort before by kind or name).
        // Each kind reads one more than the limit, so a longer list always says there is more. The kinds that are
        // overdue the longest (monitoring, obligations) are read first.
        func tighten() {
            guard items.count > limit else { return }
            let bound = items.map(\.due).sorted()[limit - 1]
            if bound < until { until = bound }
        }
        // Monitoring and open obligations by the due dates kept on their rows while the application runs (NULL
        // after, see `refreshWorklistDates`): the index on (district, due date) yields the earliest ones directly.
        struct C: Decodable { let id: Int; let person_id: Int; let application_id: Int; let monitoring_due: String; let number: String; let last_name: String; let first_name: String }
        let contracts = try await Registry.restrict(store.sql.select()
            .columns(SQLColumn("id", table: "c"), SQLColumn("person_id", table: "c"), SQLColumn("application_id", table: "c"), SQLColumn("monitoring_due", table: "c"),
                     SQLColumn("number", table: "c"), SQLColumn("last_name", table: "p"), SQLColumn("first_name", table: "p"))
            .from(SQLAlias(SQLIdentifier("contracts"), as: SQLIdentifier("c")))
            .join(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")), on: SQLColumn("person_id", table: "c"), .equal, SQLColumn("id", table: "p"))
            .where(SQLColumn("monitoring_due", table: "c"), .lessThanOrEqual, SQLBind(until.iso)), scope: scope, table: "c")
            .orderBy(SQLColumn("monitoring_due", table: "c")).orderBy(SQLColumn("id", table: "c")).limit(limit + 1).all(decoding: C.self)
        for c in contracts {
            guard let due = CivilDate(iso: c.monitoring_due) else { continue }
            items.append(WorklistItem(kind: .monitoring, due: due, personID: c.person_id, personName: c.last_name + " " + c.first_name, applicationID: c.application_id, contractID: c.id, detail: c.number))
        }
        tighten()
        struct O: Decodable { let id: Int; let contract_id: Int; let party: String; let text: String; let open_due: String; let person_id: Int; let application_id: Int; let last_name: String; let first_name: String }
        let obligations = try await Registry.restrict(store.sql.select()
            .columns(SQLColumn("id", table: "o"), SQLColumn("contract_id", table: "o"), SQLColumn("party", table: "o"), SQLColumn("text", table: "o"), SQLColumn("open_due", table: "o"),
                     SQLColumn("person_id", table: "c"), SQLColumn("application_id", table: "c"), SQLColumn("last_name", table: "p"), SQLColumn("first_name", table: "p"))
            .from(SQLAlias(SQLIdentifier("contract_obligations"), as: SQLIdentifier("o")))
            .join(SQLAlias(SQLIdentifier("contracts"), as: SQLIdentifier("c")), on: SQLColumn("contract_id", table: "o"), .equal, SQLColumn("id", table: "c"))
            .join(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")), on: SQLColumn("person_id", table: "c"), .equal, SQLColumn("id", table: "p"))
            .where(SQLColumn("open_due", table: "o"), .lessThanOrEqual, SQLBind(until.iso)), scope: scope, table: "o")
            .orderBy(SQLColumn("open_due", table: "o")).orderBy(SQLColumn("id", table: "o")).limit(limit + 1).all(decoding: O.self)
        for o in obligations {
            guard let due = CivilDate(iso: o.open_due) else { continue }
            items.append(WorklistItem(kind: .obligation, due: due, personID: o.person_id, personName: o.last_name + " " + o.first_name, applicationID: o.application_id, contractID: o.contract_id, detail: o.party + "|" + o.text))
        }
        tighten()
        for a in try await applications(states: [.submitted, .underReview], due: "decision_due") {
            guard let due = CivilDate(iso: a.due) else { continue }
            items.append(WorklistItem(kind: .decision, due: due, personID: a.person_id, personName: a.last_name + " " + a.first_name, applicationID: a.id, contractID: nil, detail: a.measure))
        }
        tighten()
        for a in try await applications(states: [.included], due: "signing_due") {
            guard let due = CivilDate(iso: a.due) else { continue }
            let needsContract = Measure(rawValue: a.measure)?.needsSocialContract ?? true
            items.append(WorklistItem(kind: needsContract ? .contract : .activation, due: due, personID: a.person_id, personName: a.last_name + " " + a.first_name, applicationID: a.id, contractID: nil, detail: a.measure))
        }
        tighten()
        // Applications people sent from the public portal, waiting to be taken into a file.
        for o in try await PortalStore(store: store).pending(scope: scope, limit: limit + 1) {
            guard let due = CivilDate(iso: o.due_on), due <= until else { continue }
            items.append(WorklistItem(kind: .online, due: due, personID: 0, personName: o.last_name + " " + o.first_name, applicationID: o.id, contractID: nil, detail: o.measure))
        }
        return Array(items.sorted { ($0.due, $0.kind.rawValue, $0.personName) < ($1.due, $1.kind.rawValue, $1.personName) }.prefix(limit + 1))
    }
}
