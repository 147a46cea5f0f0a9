import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Testing
@testable import JumysWeb

@Suite struct LocalizationTests {
    let translator = try! Translator.bundled()

    @Test func everyKeyExistsInEveryLanguage() {
        let kk = Set(translator.tables[.kk]!.keys), ru = Set(translator.tables[.ru]!.keys), en = Set(translator.tables[.en]!.keys)
        #expect(kk.subtracting(ru).sorted() == [], "missing in ru")
        #expect(kk.subtracting(en).sorted() == [], "missing in en")
        #expect(ru.subtracting(kk).sorted() == [], "missing in kk")
        #expect(en.subtracting(kk).sorted() == [], "missing in kk")
        for lang in Lang.allCases {
            for (k, v) in translator.tables[lang]! { #expect(!v.trimmingCharacters(in: .whitespaces).isEmpty, "\(lang) \(k) is empty") }
        }
    }

    /// Every key the code asks for by name, and every family built from an enum, is translated.
    @Test func everyKeyTheCodeUsesIsTranslated() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
        var used = Set<String>()
        let files = try #require(FileManager.default.subpaths(atPath: sources.path))
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for m in text.matches(of: /\.t\("([a-z0-9_.]+)"/) where !m.1.hasSuffix(".") { used.insert(String(m.1)) }
        }
        #expect(used.count > 40)
        for role in Role.allCases { used.insert("role.\(role.rawValue)"); used.insert("home.role.\(role.rawValue)") }
        for s in Sex.allCases { used.insert("sex.\(s.rawValue)") }
        for k in ["400", "401", "403", "404", "413", "422", "429", "500", "csrf", "readonly"] { used.insert("error.\(k)"); used.insert("error.\(k).next") }
        used.formUnion(["settlement.rural", "settlement.urban", "home.access.write", "home.access.read", "people.none", "people.not_found", "yes", "no"])
        func family<E: RawRepresentable & CaseIterable>(_ prefix: String, _: E.Type) where E.RawValue == String { for e in E.allCases { used.insert("\(prefix).\(e.rawValue)") } }
        family("measure", Measure.self); family("state", ApplicationState.self); family("action", ApplicationAction.self)
        family("category", PersonCategory.self); family("education", EducationLevel.self); family("refusal", RefusalReason.self)
        family("party", ContractParty.self); family("relation", HouseholdRelation.self); family("sanction", CaseStore.Sanction.self)
        family("tsa_event", ParticipationEvent.self); family("unit", ParameterUnit.self)
        family("project_state", ProjectState.self); family("quota", QuotaStatus.self); family("programme", ProjectProgramme.self)
        family("object_type", ObjectType.self); family("work_type", WorkType.self); family("body", ProjectBody.self); family("phase", ProjectPhase.self)
        family("step", ProjectStep.self)
        family("direction", FundingDirection.self); family("limit_change", LimitChangeKind.self); family("limit_state", LimitChangeState.self)
        family("credit_level", CreditLevel.self); family("loan_state", LoanState.self); family("loan_kind", LoanKind.self)
        family("loan_purpose", Rules.LoanPurpose.self); family("schedule_method", Rules.ScheduleMethod.self)
        used.insert("limit_state.superseded")
        family("report_status", MonitoringStore.Status.self)
        family("dashboard.measure", DashboardStore.Measure.self)
        family("plan_status", PlanStore.Status.self)
        family("plan.title", PlanStore.Plan.self)
        for k in ["projects", "reports_to_file", "reports_to_decide", "limit_proposals", "loans_flagged", "plan_overdue"] { used.insert("dashboard.task.\(k)") }
        for k in ["coverage_total", "coverage_rural", "coverage_unemployed_share", "coverage_self_employed_share", "coverage_low_income_share", "placed_permanent", "social_jobs",
                  "youth_practice", "unemployment_rate", "poverty_rate", "productive_self_employed_share"] { used.insert("indicator.\(k)") }
        for k in ["applications", "regions", "labour_contracts", "placements", "statistics"] { used.insert("indicators.from.\(k)") }
        for r in Rules.Report.allCases { used.insert("report_kind.\(r.rawValue)") }
        for b in [ProjectBody.akimat, .interagencyCommission, .ministry] { used.insert("reports.decider.\(b.rawValue)") }
        for f in ["arrears", "target_use_overdue", "jobs_overdue", "job_vacant"] { used.insert("loan_flag.\(f)") }
        family("bond_event", BondEventKind.self)
        for s in ProjectStep.allCases { used.insert("step.\(s.rawValue).hint"); used.insert("step.\(s.rawValue).do") }
        for s in ["submitted", "accepted", "returned", "missing"] { used.insert("report_state.\(s)") }
        for f in ["all", "wage", "bonus", "late"] { used.insert("board.\(f)") }
        for s in ["recorded", "reviewed", "directed", "declined"] { used.insert("saving_state.\(s)") }
        for s in ["contractor", "subcontractor"] { used.insert("party_role.\(s)") }
        for c in Rules.priorityCriteria { used.insert("criterion.\(c)") }
        // The details a project step records, shown by name.
        for k in ["referral_quota", "permanent_quota", "replacement", "replaces", "jobs_created", "permanent_jobs", "cost_total", "ends_on", "final_cost", "saving"] { used.insert("project.\(k)") }
        for k in ["rural_youth", "rural_woman", "unemployed_youth", "neet_youth", "student", "support_settlement", "rural_resident", "woman", "disabled"] { used.insert("priority.\(k)") }
        for k in ["no_consent", "not_in_category", "not_working_age", "not_youth"] { used.insert("reason.\(k)") }
        for k in ["decision", "contract", "activation", "monitoring", "obligation", "online"] { used.insert("worklist.kind.\(k)") }
        // Every event kind and obligation text the store writes, and every field error code it reports.
        let store = sources.deletingLastPathComponent().appendingPathComponent("Sources/JumysStore")
        for file in try FileManager.default.subpaths(atPath: store.path) ?? [] where file.hasSuffix(".swift") {
            let text = try String(contentsOf: store.appendingPathComponent(file), encoding: .utf8)
            for m in text.matches(of: /kind: "([a-z_]+[a-z])"/) { used.insert("event.\(m.1)") }
            for m in text.matches(of: /"(obligation\.[a-z_.]+)"/) { used.insert(String(m.1)) }
            for m in text.matches(of: /FieldError\("[a-z_]+", "([a-z_]+)"/) { used.insert("error.field.\(m.1)") }
        }
        for a in ApplicationAction.allCases { used.insert("event.application_\(a.rawValue)") }
        for s in ["issued", "hired", "refused_by_employer", "no_show"] { used.insert("referral.state.\(s)"); if s != "issued" { used.insert("event.referral_\(s)") } }
        for l in 1...4 { used.insert("match.level.\(l)") }
        for p in 0...2 { used.insert("match.place.\(p)") }
        for s in ["employer", "caseworker", "agency"] { used.insert("vacancies.source.\(s)") }
        // Any key-shaped literal in the web sources whose namespace is one of the translation files' namespaces.
        let namespaces = Set(translator.tables[.en]!.keys.map { String($0.split(separator: ".").first!) })
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for m in text.matches(of: /"([a-z_]+(?:\.[a-z0-9_]+)+)"/) {
                let key = String(m.1)
                if namespaces.contains(String(key.split(separator: ".").first!)) && !key.hasSuffix(".") { used.insert(key) }
            }
            for m in text.matches(of: /FieldError\("[a-z_]+", "([a-z_]+)"/) { used.insert("error.field.\(m.1)") }
        }
        for lang in Lang.allCases {
            let missing = used.subtracting(translator.tables[lang]!.keys).sorted()
            #expect(missing == [], "missing in \(lang)")
        }
    }
}
