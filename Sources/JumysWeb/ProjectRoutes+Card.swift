import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The project card and its forms: each form is shown only to the body whose step it is.
extension ProjectRoutes {
    @Sendable func show(req: Request) async throws -> Response {
        try await card(req, values: [:], errors: [], status: .ok)
    }

    func card(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let id = try CaseworkRoutes.id(req)
        let store = Self.store(req)
        guard let p = try await store.project(id, for: user) else { throw Abort(.notFound) }
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let env = try await req.jumys.rules.current()
        let today = store.today()
        // The user's body when its territory holds the project; the forms of its steps are shown only then.
        let body = try await store.body(of: user, on: p)
        let steps = try await store.steps(of: id), hires = try await store.hires(of: id), reports = try await store.reports(of: id)
        let partyRows = try await store.parties(of: id)
        let c = ProjectStore.compliance(of: p, hires: hires, parties: partyRows, reports: reports, env: env, today: today)
        let saving = try await store.saving(of: id)
        let vacancies = try await LabourStore(store: req.jumys.store).vacancies(forProject: id)
        let shown = Set(partyRows.map(\.organisation_id) + hires.map(\.organisation_id) + vacancies.map(\.employer_id) + [p.contractor_id].compactMap { $0 })
        let names = try await Names.load(req, ctx.lang, organisations: shown)
        let available = ProjectStep.allCases.filter { $0.body == body && $0.from.contains(p.stateValue) }
        let explanation = (try? JSONDecoder().decode([ExplanationStep].self, from: Data((p.quota_explanation ?? "[]").utf8))) ?? []
        let consolidated = available.contains(.replace) ? try await store.list(ProjectStore.Filter(state: .consolidated, programme: p.programmeValue, year: p.year), for: user).filter { $0.id != id } : []
        let contractors = body != .akimat ? [] : try await OrganisationRecord.query(on: req.jumys.store.db).filter(\.$kind == OrganisationKind.contractor.rawValue).sort(\.$code).all()
            .filter { $0.regionISO == nil || $0.regionISO == p.region_iso }.map { (String($0.id!), LabourMarketRoutes.orgName($0, ctx.lang)) }
        let dueMonths = ProjectStore.reportMonths(p, today: today).map { String(format: "%04d-%02d", $0.year, $0.month) }
        let reportByMonth = Dictionary(uniqueKeysWithValues: reports.map { ($0.month, $0) })
        let openMonths = dueMonths.filter { m in reportByMonth[m].map { $0.state == "returned" } ?? true }

        func stepForm(_ s: ProjectStep) -> Node<HTML.BodyContext> {
            let commission = [ProjectBody.regionalCommission, .workingGroup, .interagencyCommission].contains(s.body)
            var fields: [Node<HTML.FormContext>] = [.h3(.text(ctx.t("step.\(s.rawValue)"))), .p(.class("hint"), .text(ctx.t("step.\(s.rawValue).hint")))]
            switch s {
            case .approveRegional:
                let least = (try? ProjectStore.quotas(jobs: p.jobs_created ?? 0, permanentJobs: p.permanent_jobs ?? 0, programme: p.programmeValue, asked: nil, rules: env.context(on: today)).quota) ?? 0
                fields.append(k.text("referral_quota", ctx.t("project.referral_quota"), hint: ctx.t(p.programmeValue == .roadmap ? "project.quota.hint_min" : "project.quota.hint_max", ["n": String(least)])))
            case .replace:
                fields.append(k.select("replacement_id", ctx.t("step.replace.with"), options: consolidated.map { (String($0.id), "\($0.number) · \($0.name) · \(names.region($0.region_iso))") }))
            case .amend:
                let amend: [Node<HTML.FormContext>] = [k.text("jobs_created", ctx.t("project.jobs_created"), hint: ctx.t("step.amend.keep")), k.text("permanent_jobs", ctx.t("project.permanent_jobs"), hint: ctx.t("step.amend.keep")),
                           k.text("cost_republican", ctx.t("project.cost_republican"), hint: ctx.t("step.amend.keep")), k.text("cost_national_fund", ctx.t("project.cost_national_fund"), hint: ctx.t("step.amend.keep")),
                           k.text("referral_quota", ctx.t("project.referral_quota"), hint: ctx.t("step.amend.keep")), k.text("ends_on", ctx.t("project.ends_on"), hint: ctx.t("step.amend.keep") + " · YYYY-MM-DD")]
                fields += amend
            case .complete:
                fields.append(k.text("final_cost", ctx.t("project.final_cost"), hint: ctx.t("project.final_cost.hint", ["cost": Self.tenge(p.cost_total)])))
            default: break
            }
            if commission { fields.append(k.text("decision", ctx.t("step.decision"), hint: ctx.t("step.decision.hint"))) }
            let needsNote = [ProjectStep.returnToAkimat, .rejectRegional, .remove].contains(s)
            fields.append(k.textarea("note", ctx.t(needsNote ? "step.reason" : "step.note"), hint: needsNote ? nil : ctx.t("register.optional"), rows: 2))
            fields.append(k.text("on", ctx.t("step.on"), hint: ctx.t("register.optional") + " · YYYY-MM-DD"))
            let danger = [ProjectStep.returnToAkimat, .rejectRegional, .remove].contains(s)
            fields.append(.button(.type(.submit), .class(danger ? "button warning" : "button"), .text(ctx.t("step.\(s.rawValue).do"))))
            return .form(.method(.post), .action("/projects/\(id)/steps/\(s.rawValue)"), .id("step-\(s.rawValue)"), .class("panel"), ctx.csrfField(), .group(fields))
        }
        func stepRow(_ s: ProjectStore.StepRow) -> Node<HTML.TableContext> {
            let details = (try? JSONDecoder().decode([String: String].self, from: Data((s.details ?? "{}").utf8))) ?? [:]
            return .tr(.td(.text(s.decided_on)), .td(.text(ctx.t("step.\(s.step)"))), .td(.text(ctx.t("body.\(ProjectStep(rawValue: s.step)?.body.rawValue ?? "akimat")"))),
                       .td(.text(s.decision)), .td(.text(([s.note] + details.sorted { $0.key < $1.key }.map { ctx.t("project.\($0.key)") + ": " + $0.value }).filter { !$0.isEmpty }.joined(separator: "; "))),
                       .td(.text(s.by_login)))
        }
        func payForm(_ h: ProjectStore.HireRow) -> Node<HTML.BodyContext> {
            .form(.method(.post), .action("/projects/\(id)/hires/\(h.id)/bonus"), .class("inline-form"), ctx.csrfField(),
                  .label(.for("paid_on_\(h.id)"), .class("visually-hidden"), .text(ctx.t("bonus.paid_on"))),
                  .input(.type(.text), .id("paid_on_\(h.id)"), .name("paid_on"), .placeholder("YYYY-MM-DD")),
                  .button(.type(.submit), .class("button secondary"), .text(ctx.t("bonus.record"))))
        }
        func bonusCell(_ h: ProjectStore.HireRow) -> Node<HTML.BodyContext> {
            guard let due = h.bonus_due else { return .text("—") }
            let overdue = h.bonusOverdue(today: today)
            let text: String = h.bonus_paid_on.map { ctx.t("bonus.paid", ["date": $0, "due": due]) } ?? ctx.t(overdue ? "bonus.overdue" : "bonus.due", ["date": due])
            let canPay = h.bonus_paid_on == nil && user.canWrite && ((user.role == .contractor && user.organisationID == h.organisation_id) || body == .akimat)
            let tag = overdue ? "tag late" : (h.bonus_paid_on != nil ? "tag ok" : "tag")
            return .group(.text(Self.tenge(h.bonus_amount) + " "), .span(.class(tag), .text(text)), canPay ? payForm(h) : .empty)
        }
        func hireRow(_ h: ProjectStore.HireRow) -> Node<HTML.TableContext> {
            let wage: Node<HTML.BodyContext> = .span(.class(h.wage_ok ? "tag ok" : "tag late"), .text(ctx.t(h.wage_ok ? "wage.ok" : "wage.below", ["floor": Self.tenge(h.wage_floor)])))
            return .tr(.td(.a(.href("/referrals/\(h.referral_id)"), .text("#\(h.referral_id)"))), .td(.text(names.org(h.organisation_id))), .td(.text(ctx.t("phase.\(h.phase)"))),
                       .td(.text(h.starts_on)), .td(.class("num"), .text(Self.tenge(h.wage))), .td(wage), .td(bonusCell(h)))
        }
        func checkForms(_ m: String) -> Node<HTML.BodyContext> {
            let accept: Node<HTML.BodyContext> = .form(.method(.post), .action("/projects/\(id)/reports/\(m)/accept"), .class("inline-form"), ctx.csrfField(),
                                                       .button(.type(.submit), .class("button secondary"), .text(ctx.t("report.accept"))))
            let giveBack: Node<HTML.BodyContext> = .form(.method(.post), .action("/projects/\(id)/reports/\(m)/return"), .class("inline-form"), ctx.csrfField(),
                                                         .label(.for("reason_\(m)"), .class("visually-hidden"), .text(ctx.t("report.reason"))),
                                                         .input(.type(.text), .id("reason_\(m)"), .name("reason"), .placeholder(ctx.t("report.reason"))),
                                                         .button(.type(.submit), .class("button warning"), .text(ctx.t("report.return"))))
            return .group(accept, giveBack)
        }
        func reportRow(_ m: String) -> Node<HTML.TableContext> {
            let r = reportByMonth[m]
            let late = r.map { $0.late(today: today) } ?? false
            let checkable = r?.state == "submitted" && body == .akimat
            let state: String = r.map { ctx.t("report_state.\($0.state)") } ?? ctx.t("report_state.missing")
            let pct: String = r.map { FixedDecimal(units: $0.work_done_percent).description + " %" } ?? ""
            let amount: String = r.map { Self.tenge($0.work_done_amount) } ?? ""
            let jobs: String = r.map { "\($0.jobs_filled) / \($0.jobs_by_referral)" } ?? ""
            let wage: String = r.map { Self.tenge($0.referred_avg_wage) } ?? ""
            let submitted: Node<HTML.BodyContext> = late ? .span(.class("tag late"), .text(ctx.t("report.late"))) : .text(r?.akimat_submitted_on ?? "")
            let action: Node<HTML.BodyContext> = checkable ? checkForms(m) : .text(r?.returned_reason ?? "")
            return .tr(.td(.text(m)), .td(.text(r?.due_on ?? "")), .td(.text(state)), .td(.class("num"), .text(pct)), .td(.class("num"), .text(amount)),
                       .td(.class("num"), .text(jobs)), .td(.class("num"), .text(wage)), .td(submitted), .td(action))
        }
        func partyRow(_ x: ProjectStore.PartyCompliance) -> Node<HTML.TableContext> {
            .tr(.td(.text(names.org(x.organisationID))), .td(.text(ctx.t("party_role.\(x.role)"))), .td(.class("num"), .text(String(x.jobs))), .td(.class("num"), .text(String(x.quota))),
                .td(.class("num"), .text(String(x.referred))), .td(Self.statusTag(ctx, x.status)))
        }
        let dates: String = "\(p.starts_on) — \(p.ends_on)" + (p.started_on.map { " · " + ctx.t("project.started", ["date": $0]) } ?? "") + (p.completed_on.map { " · " + ctx.t("project.completed", ["date": $0]) } ?? "")
        let sources: [String] = zip(Self.moneyFields, [p.cost_national_fund, p.cost_republican, p.cost_local, p.cost_cofinancing]).filter { $0.1 > 0 }.map { ctx.t("project.\($0.0)") + " " + Self.tenge($0.1) }
        let cost: String = Self.tenge(p.cost_total) + " (" + sources.joined(separator: "; ") + ")" + (p.final_cost.map { " · " + ctx.t("project.final_cost") + " " + Self.tenge($0) } ?? "")
        let documents: String = ctx.t(p.design_docs ? "project.design_docs.yes" : "project.design_docs.no") + " · " + ctx.t(p.expertise_passed ? "project.expertise.yes" : "project.expertise.no")
        let place: String = names.region(p.region_iso) + " · " + names.district(p.district_id) + " · " + p.settlement
        let kind: String = ctx.t("object_type.\(p.object_type)") + " · " + ctx.t("work_type.\(p.work_type)")
        func link(_ label: String, _ other: Int?) -> Node<HTML.DescriptionListContext> {
            guard let other else { return .empty }
            return .group(.dt(.text(ctx.t(label))), .dd(.a(.href("/projects/\(other)"), .text("#\(other)"))))
        }
        func item(_ label: String, _ value: String) -> Node<HTML.DescriptionListContext> { .group(.dt(.text(ctx.t(label))), .dd(.text(value))) }
        let summary: Node<HTML.BodyContext> = .dl(.class("summary"),
            .dt(.text(ctx.t("projects.state"))), .dd(Self.stateTag(ctx, p.state)),
            item("project.programme", ctx.t("programme.\(p.programme)")),
            item("project.place", place),
            item("project.object_type", kind),
            item("project.dates", dates),
            item("project.cost", cost),
            item("project.domestic_cost", Self.tenge(p.domestic_cost)),
            item("project.documents", documents),
            item("project.jobs_created", p.jobs_created.map(String.init) ?? "—"),
            item("project.permanent_jobs", p.permanent_jobs.map(String.init) ?? "—"),
            item("project.average_wage", Self.tenge(p.average_wage)),
            item("project.contractor", p.contractor_id.map { names.org($0) } ?? "—"),
            link("project.replaces", p.replaces_id), link("project.replaced_by", p.replaced_by_id))
        let quotaText: String = c.quota.map { ctx.t("project.quota.of", ["n": String($0), "jobs": String(p.jobs_created ?? 0)]) } ?? ctx.t("project.quota.not_set")
        let permanentText: String = c.permanentQuota.map { ctx.t("project.quota.of", ["n": String($0), "jobs": String(p.permanent_jobs ?? 0)]) } ?? "—"
        let referredLabel = " · " + ctx.t("project.referred") + ": "
        let participantMax: Node<HTML.DescriptionListContext> = p.participant_max.map { m in .group(.dt(.text(ctx.t("project.participant_max"))), .dd(.text(String(m)))) } ?? .empty
        let quotaList: Node<HTML.BodyContext> = .dl(.class("summary"),
            .dt(.text(ctx.t("project.referral_quota"))), .dd(.text(quotaText), .text(referredLabel + "\(c.referred) "), Self.statusTag(ctx, c.status)),
            .dt(.text(ctx.t("project.permanent_quota"))), .dd(.text(permanentText), .text(referredLabel + "\(c.permanentReferred) "), Self.statusTag(ctx, c.permanentStatus)),
            participantMax,
            .dt(.text(ctx.t("board.wage"))), .dd(.text(String(c.wageBreaches))),
            .dt(.text(ctx.t("board.bonus"))), .dd(.text(String(c.bonusesOverdue))),
            .dt(.text(ctx.t("board.late"))), .dd(.text(String(c.lateReports))))
        let quotaSection: Node<HTML.BodyContext> = .group(
            .h2(.id("quota"), .text(ctx.t("project.quotas"))),
            quotaList,
            CaseworkViews.explanation(ctx, explanation),
            c.parties.isEmpty ? .empty : .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("project.party"))), .th(.text(ctx.t("project.party_role"))), .th(.text(ctx.t("project.party_jobs"))), .th(.text(ctx.t("project.referral_quota"))),
                           .th(.text(ctx.t("project.referred"))), .th(.text(ctx.t("project.status"))))),
                .tbody(.forEach(c.parties) { partyRow($0) })))
        let partiesForm: Node<HTML.BodyContext> = !(body == .akimat && ![ProjectState.removed, .replaced, .regionalRejected, .completed].contains(p.stateValue)) ? .empty :
            .form(.method(.post), .action("/projects/\(id)/parties"), .class("panel"), ctx.csrfField(),
                .h3(.text(ctx.t("project.parties"))), .p(.class("hint"), .text(ctx.t("project.parties.hint"))),
                k.select("contractor_id", ctx.t("project.contractor"), options: contractors), k.text("contractor_jobs", ctx.t("project.party_jobs")),
                .forEach([1, 2, 3]) { n in .group(k.select("sub_\(n)", ctx.t("project.subcontractor", ["n": String(n)]), options: contractors), k.text("sub_\(n)_jobs", ctx.t("project.party_jobs"))) },
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("project.parties.save"))))
        let isParty = user.role == .contractor && partyRows.contains { $0.organisation_id == user.organisationID }
        let vacancyForm: Node<HTML.BodyContext> = !(isParty && user.canWrite && ProjectPhase.allCases.contains { $0.open(p.stateValue) }) ? .empty :
            .form(.method(.post), .action("/projects/\(id)/vacancies"), .class("panel"), ctx.csrfField(),
                .h3(.text(ctx.t("project.vacancy.new"))), .p(.class("hint"), .text(ctx.t("project.vacancy.hint", ["floor": Self.tenge((try? Rules.referredWorkerMinWage(env.context(on: today)).value.tiyn) ?? 0)]))),
                k.select("phase", ctx.t("project.phase"), options: ProjectPhase.allCases.filter { $0.open(p.stateValue) }.map { ($0.rawValue, ctx.t("phase.\($0.rawValue)")) }, blank: false),
                k.text("title", ctx.t("vacancies.position")), k.text("isco", ctx.t("vacancies.isco")), k.text("wage", ctx.t("vacancies.wage")),
                k.text("places", ctx.t("vacancies.places")), k.text("valid_from", ctx.t("vacancies.from"), hint: "YYYY-MM-DD"), k.text("valid_until", ctx.t("vacancies.until"), hint: "YYYY-MM-DD"),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("project.vacancy.open"))))
        let reportForm: Node<HTML.BodyContext> = !(body == .contractor && !openMonths.isEmpty) ? .empty :
            .form(.method(.post), .action("/projects/\(id)/reports"), .id("report-form"), .class("panel"), ctx.csrfField(),
                .h3(.text(ctx.t("report.submit"))), .p(.class("hint"), .text(ctx.t("report.submit.hint"))),
                k.select("month", ctx.t("report.month"), options: openMonths.map { ($0, $0) }, blank: false),
                k.text("work_done_percent", ctx.t("report.work_done_percent")), k.text("work_done_amount", ctx.t("report.work_done_amount")),
                k.text("jobs_filled", ctx.t("report.jobs_filled")), k.text("jobs_by_referral", ctx.t("report.jobs_by_referral")),
                k.text("referred_avg_wage", ctx.t("report.referred_avg_wage")),
                .button(.type(.submit), .class("button"), .text(ctx.t("report.send"))))
        let savingSection: Node<HTML.BodyContext> = saving.map { s in
            .group(.h2(.id("saving"), .text(ctx.t("saving.title"))),
                   .p(.text(ctx.t("saving.amount", ["amount": Self.tenge(s.amount), "date": s.recorded_on]) + " · "), .span(.class("tag"), .text(ctx.t("saving_state.\(s.state)"))),
                      .text(s.review_note.map { " · " + ctx.t("saving.reviewed", ["date": s.reviewed_on ?? "", "note": $0]) } ?? ""),
                      .text(s.decided_on.map { " · " + ctx.t("saving.decided", ["date": $0, "decision": s.decision ?? ""]) } ?? ""),
                      s.target_project_id.map { t in .a(.href("/projects/\(t)"), .text(" → #\(t)")) } ?? .empty),
                   !(body == .workingGroup && s.state == "recorded") ? .empty : .form(.method(.post), .action("/projects/\(id)/saving/review"), .class("panel"), ctx.csrfField(),
                       k.textarea("note", ctx.t("saving.review_note"), rows: 2), .button(.type(.submit), .class("button secondary"), .text(ctx.t("saving.review")))),
                   !(body == .interagencyCommission && s.state == "reviewed") ? .empty : .form(.method(.post), .action("/projects/\(id)/saving/decide"), .class("panel"), ctx.csrfField(),
                       k.text("target_project_id", ctx.t("saving.target"), hint: ctx.t("saving.target.hint")), k.text("decision", ctx.t("step.decision"), hint: ctx.t("step.decision.hint")),
                       .button(.type(.submit), .class("button secondary"), .text(ctx.t("saving.decide")))))
        } ?? .empty
        // What happens next, at the top: the user's own steps (links to their forms below), the monthly report a
        // contractor owes, or who else acts now.
        let others = Array(Set(ProjectStep.allCases.filter { $0.from.contains(p.stateValue) }.map(\.body.rawValue))).sorted()
        let owesReport = body == .contractor && !openMonths.isEmpty
        let nextStep: Node<HTML.BodyContext> = .div(.class("notice next-step"), .attribute(named: "role", value: "status"),
            .p(.strong(.text(ctx.t("project.next.title") + " ")), .span(.class("tag state-\(p.state)"), .text(ctx.t("project_state.\(p.state)"))), .text(" "),
               .text(!available.isEmpty || owesReport ? ctx.t("project.next.yours")
                     : others.isEmpty ? ctx.t("project.next.none") : ctx.t("project.next.others", ["bodies": others.map { ctx.t("body.\($0)") }.joined(separator: ", ")]))),
            available.isEmpty && !owesReport ? .empty : .ul(
                .forEach(available) { s in .li(.a(.href("#step-\(s.rawValue)"), .text(ctx.t("step.\(s.rawValue)")))) },
                owesReport ? .li(.a(.href("#report-form"), .text(ctx.t("report.submit") + " · " + openMonths.joined(separator: ", ")))) : .empty))
        return HTMLResponse.make(Layout.page(ctx, title: p.number,
            .p(.a(.href("/projects"), .text("← " + ctx.t("projects.title")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(p.name), .span(.class("muted"), .text(" · " + p.number))),
            nextStep,
            summary,
            p.stateValue == .draft && body == .akimat ? .p(.a(.href("/projects/\(id)/edit"), .class("button secondary"), .text(ctx.t("project.edit")))) : .empty,
            .group(available.map(stepForm)),
            quotaSection,
            partiesForm,
            .h2(.id("vacancies"), .text(ctx.t("project.vacancies"))),
            vacancies.isEmpty ? .p(.class("empty"), .text(ctx.t("project.vacancies.none"))) :
                .ul(.forEach(vacancies) { v in .li(.a(.href("/vacancies/\(v.id)"), .text("\(v.title) · ISCO \(v.occupation_isco) · \(Self.tenge(v.wage)) · \(ctx.t("phase.\(v.project_phase ?? "works")")) · \(names.org(v.employer_id)) · \(v.places)"))) }),
            vacancyForm,
            .h2(.id("hires"), .text(ctx.t("project.hires"))),
            hires.isEmpty ? .p(.class("empty"), .text(ctx.t("project.hires.none"))) : .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("project.referral"))), .th(.text(ctx.t("project.party"))), .th(.text(ctx.t("project.phase"))), .th(.text(ctx.t("contract.starts_on"))),
                           .th(.text(ctx.t("vacancies.wage"))), .th(.text(ctx.t("project.wage_floor"))), .th(.text(ctx.t("project.bonus"))))),
                .tbody(.forEach(hires) { hireRow($0) })),
            .h2(.id("reports"), .text(ctx.t("project.reports"))),
            dueMonths.isEmpty ? .p(.class("empty"), .text(ctx.t("project.reports.none"))) : .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("report.month"))), .th(.text(ctx.t("report.due"))), .th(.text(ctx.t("report.state"))), .th(.text(ctx.t("report.work_done_percent"))),
                           .th(.text(ctx.t("report.work_done_amount"))), .th(.text(ctx.t("report.jobs"))), .th(.text(ctx.t("report.referred_avg_wage"))), .th(.text(ctx.t("report.submitted"))), .th(.span(.class("visually-hidden"), .text(ctx.t("table.action")))))),
                .tbody(.forEach(dueMonths) { reportRow($0) })),
            reportForm,
            savingSection,
            .h2(.id("history"), .text(ctx.t("project.history"))),
            .p(.class("hint"), .text(ctx.t("project.created", ["date": String(p.created_at.prefix(10)), "login": p.created_by]))),
            steps.isEmpty ? .empty : .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("step.on"))), .th(.text(ctx.t("step.step"))), .th(.text(ctx.t("step.body"))), .th(.text(ctx.t("step.decision"))), .th(.text(ctx.t("step.note"))), .th(.text(ctx.t("step.by"))))),
                .tbody(.forEach(steps) { stepRow($0) }))
        ), status: status)
    }

    // MARK: the card's forms

    static func date(_ f: [String: String], _ k: String) throws -> CivilDate? {
        let s = (f[k] ?? "").trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return nil }
        guard let d = CivilDate(iso: s) else { throw FieldErrors(errors: [FieldError(k, "date_invalid")]) }
        return d
    }
    static func optionalInt(_ f: [String: String], _ k: String) throws -> Int? {
        let s = (f[k] ?? "").trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return nil }
        guard let n = LabourMarketRoutes.int(s) else { throw FieldErrors(errors: [FieldError(k, "project_jobs_invalid")]) }
        return n
    }
    static func optionalMoney(_ f: [String: String], _ k: String) throws -> Money? {
        let s = (f[k] ?? "").trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return nil }
        guard let m = money(s) else { throw FieldErrors(errors: [FieldError(k, "amount_invalid")]) }
        return m
    }

    /// A step's input from its form.
    static func stepInput(_ f: [String: String]) throws -> StepInput {
        StepInput(on: try date(f, "on"), decision: f["decision"] ?? "", note: f["note"] ?? "", referralQuota: try optionalInt(f, "referral_quota"),
                  replacementID: try optionalInt(f, "replacement_id"), finalCost: try optionalMoney(f, "final_cost"), jobsCreated: try optionalInt(f, "jobs_created"),
                  permanentJobs: try optionalInt(f, "permanent_jobs"), endsOn: try date(f, "ends_on"), republican: try optionalMoney(f, "cost_republican"),
                  nationalFund: try optionalMoney(f, "cost_national_fund"))
    }

    /// Runs one of the card's forms and comes back to the card (with the errors on it when there are any).
    func onCard(_ req: Request, anchor: String = "", _ body: @escaping (UserContext, Int, [String: String]) async throws -> Void) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        return try await Self.handle(req, {
            try await body(user, id, f)
            return req.redirect(to: "/projects/\(id)\(anchor)", redirectType: .normal)
        }, onErrors: { try await card(req, values: f, errors: $0, status: .unprocessableEntity) })
    }

    @Sendable func step(req: Request) async throws -> Response {
        guard let s = req.parameters.get("step").flatMap(ProjectStep.init(rawValue:)) else { throw Abort(.notFound) }
        let env = try await req.jumys.rules.current()
        return try await onCard(req) { user, id, f in try await Self.store(req).act(id, s, try Self.stepInput(f), env: env, by: user) }
    }

    @Sendable func parties(req: Request) async throws -> Response {
        try await onCard(req, anchor: "#quota") { user, id, f in
            guard let contractor = LabourMarketRoutes.int(f["contractor_id"]) else { throw FieldErrors(errors: [FieldError("contractor_id", "choose_from_list")]) }
            var subs: [(organisation: Int, jobs: Int)] = []
            for n in 1...3 {
                guard let o = LabourMarketRoutes.int(f["sub_\(n)"]) else { continue }
                subs.append((o, try Self.optionalInt(f, "sub_\(n)_jobs") ?? 0))
            }
            try await Self.store(req).setParties(id, contractorID: contractor, contractorJobs: try Self.optionalInt(f, "contractor_jobs") ?? 0, subcontractors: subs, by: user)
        }
    }

    @Sendable func vacancy(req: Request) async throws -> Response {
        try await onCard(req, anchor: "#vacancies") { user, id, f in
            guard let phase = f["phase"].flatMap(ProjectPhase.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("phase", "choose_from_list")]) }
            let input = VacancyInput(employerID: nil, title: f["title"] ?? "", isco: (f["isco"] ?? "").trimmingCharacters(in: .whitespaces), districtID: nil, wage: Self.money(f["wage"]),
                                     places: LabourMarketRoutes.int(f["places"]), requirements: nil, validFrom: LabourMarketRoutes.date(f["valid_from"]), validUntil: LabourMarketRoutes.date(f["valid_until"]),
                                     projectID: id, projectPhase: phase)
            _ = try await LabourStore(store: req.jumys.store).createVacancy(input, by: user)
        }
    }

    @Sendable func report(req: Request) async throws -> Response {
        let env = try await req.jumys.rules.current()
        return try await onCard(req, anchor: "#reports") { user, id, f in
            var errors: [FieldError] = []
            let pct = FixedDecimal((f["work_done_percent"] ?? "").replacingOccurrences(of: ",", with: ".").trimmingCharacters(in: .whitespaces))
            if pct == nil { errors.append(FieldError("work_done_percent", "project_percent_invalid")) }
            let amount = Self.money(f["work_done_amount"]), wage = Self.money((f["referred_avg_wage"] ?? "").isEmpty ? "0" : f["referred_avg_wage"])
            if amount == nil { errors.append(FieldError("work_done_amount", "amount_invalid")) }
            if wage == nil { errors.append(FieldError("referred_avg_wage", "amount_invalid")) }
            let filled = LabourMarketRoutes.int(f["jobs_filled"]), referred = LabourMarketRoutes.int(f["jobs_by_referral"])
            if filled == nil { errors.append(FieldError("jobs_filled", "project_jobs_invalid")) }
            if referred == nil { errors.append(FieldError("jobs_by_referral", "project_jobs_invalid")) }
            guard errors.isEmpty, let pct, let amount, let wage, let filled, let referred else { throw FieldErrors(errors: errors) }
            try await Self.store(req).submitReport(project: id, month: f["month"] ?? "", ProjectStore.Progress(workDonePercent: pct, workDoneAmount: amount, jobsFilled: filled,
                                                                                                                jobsByReferral: referred, referredAverageWage: wage), env: env, by: user)
        }
    }

    @Sendable func checkReport(req: Request) async throws -> Response {
        let decision = req.parameters.get("decision") ?? ""
        guard decision == "accept" || decision == "return" else { throw Abort(.notFound) }
        return try await onCard(req, anchor: "#reports") { user, id, f in
            try await Self.store(req).checkReport(project: id, month: req.parameters.get("month") ?? "", accept: decision == "accept", reason: f["reason"] ?? "", by: user)
        }
    }

    @Sendable func bonus(req: Request) async throws -> Response {
        try await onCard(req, anchor: "#hires") { user, _, f in
            guard let hire = req.parameters.get("hire", as: Int.self) else { throw Abort(.notFound) }
            try await Self.store(req).recordBonusPaid(hire: hire, paidOn: try Self.date(f, "paid_on") ?? Self.store(req).today(), by: user)
        }
    }

    @Sendable func saving(req: Request) async throws -> Response {
        let decision = req.parameters.get("decision") ?? ""
        return try await onCard(req, anchor: "#saving") { user, id, f in
            switch decision {
            case "review": try await Self.store(req).reviewSaving(project: id, note: f["note"] ?? "", by: user)
            case "decide": try await Self.store(req).decideSaving(project: id, target: try Self.optionalInt(f, "target_project_id"), decision: f["decision"] ?? "", by: user)
            default: throw Abort(.notFound)
            }
        }
    }
}
