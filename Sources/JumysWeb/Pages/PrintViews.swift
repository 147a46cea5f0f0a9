import FluentKit
import Foundation
import JumysDomain
import JumysStore
import Plot
import Vapor

/// Printable documents: the social contract and the employer's and provider's notices of joining (A3),
/// in Kazakh or Russian whatever the page language, laid out as a document.
enum PrintViews {
    static func document(_ lang: Lang, title: String, _ body: Node<HTML.BodyContext>...) -> Response {
        let html = HTML(
            .attribute(named: "lang", value: lang.rawValue),
            .head(.meta(.charset(.utf8)), .title(title), .link(.rel(.stylesheet), .href("/static/app.css"))),
            .body(.class("print-document"), .main(.group(body)))
        )
        return HTMLResponse.make(html.render())
    }

    struct Loaded {
        let contract: CaseStore.ContractRow
        let application: CaseStore.ApplicationRow
        let person: CaseStore.PersonRow
        let centre: OrganisationRecord?
        let employer: OrganisationRecord?
        let provider: OrganisationRecord?
        let obligations: [CaseStore.ObligationRow]
    }

    static func load(_ req: Request, id: Int) async throws -> Loaded {
        let user = try req.requireUser()
        let cases = CaseStore(store: req.jumys.store)
        guard let c = try await cases.contract(id, scope: user.scope), let a = try await cases.application(c.application_id, scope: user.scope),
              let p = try await cases.person(c.person_id, scope: user.scope) else { throw Abort(.notFound) }
        let db = req.jumys.store.db
        let centre = try await OrganisationRecord.query(on: db).filter(\.$kind == OrganisationKind.employmentCentre.rawValue).filter(\.$districtID == c.district_id).first()
        return Loaded(contract: c, application: a, person: p, centre: centre,
                      employer: try await c.employer_id.asyncMap { try await OrganisationRecord.find($0, on: db) } ?? nil,
                      provider: try await c.provider_id.asyncMap { try await OrganisationRecord.find($0, on: db) } ?? nil,
                      obligations: try await cases.obligations(of: id))
    }

    static func name(_ o: OrganisationRecord?, _ lang: Lang) -> String {
        guard let o else { return "—" }
        return lang == .kk ? o.nameKk : o.nameRu
    }

    static func contract(_ req: Request, id: Int, lang: Lang) async throws -> Response {
        let d = try await load(req, id: id)
        let tr = req.jumys.translator
        func t(_ k: String, _ a: [String: String] = [:]) -> String { tr.t(k, lang, a) }
        let parties: [ContractParty] = [.participant, .centre] + (d.employer != nil ? [.employer] : []) + (d.provider != nil ? [.provider] : [])
        return document(lang, title: t("print.contract.title") + " " + d.contract.number,
            .p(.class("doc-ref"), .text(t("print.contract.form"))),
            .h1(.text(t("print.contract.title") + " № " + d.contract.number)),
            .p(.class("doc-meta"), .text(t("print.place_date", ["date": d.contract.signed_on]))),
            .p(.text(t("print.contract.preamble", ["centre": name(d.centre, lang), "person": d.person.fullName, "iin": d.person.iin]))),
            .h2(.text(t("print.contract.subject"))),
            .p(.text(t("print.contract.subject.text", ["measure": t("measure.\(d.application.measure)"), "from": d.contract.starts_on, "to": d.contract.ends_on]))),
            .h2(.text(t("print.contract.obligations"))),
            .forEach(parties) { party in
                .group(.h3(.text(t("party.\(party.rawValue)"))),
                       .ol(.forEach(d.obligations.filter { $0.party == party.rawValue }) { o in .li(.text(t(o.text) + " — " + t("print.until", ["date": o.due_on]))) }))
            },
            .h2(.text(t("print.contract.liability"))),
            .p(.text(t("print.contract.liability.text"))),
            .h2(.text(t("print.contract.signatures"))),
            .table(.class("signatures"),
                .tr(.td(.text(t("party.centre"))), .td(.text(name(d.centre, lang))), .td(.class("signature-line"), .text(""))),
                .tr(.td(.text(t("party.participant"))), .td(.text(d.person.fullName)), .td(.class("signature-line"), .text("")))
            )
        )
    }

    static func notice(_ req: Request, id: Int, party: ContractParty, lang: Lang) async throws -> Response {
        let d = try await load(req, id: id)
        let tr = req.jumys.translator
        func t(_ k: String, _ a: [String: String] = [:]) -> String { tr.t(k, lang, a) }
        let raw = party == .employer ? d.contract.employer_notice : d.contract.provider_notice
        guard let raw, let org = party == .employer ? d.employer : d.provider else { throw Abort(.notFound) }
        let data = (try? JSONDecoder().decode([String: String].self, from: Data(raw.utf8))) ?? [:]
        let rows: [(String, String)] = party == .employer
            ? [("print.notice.participant", d.person.fullName + ", " + t("person.iin") + " " + d.person.iin), ("contract.specialty", data["specialty"] ?? "—"),
               ("contract.provider", name(d.provider, lang)), ("contract.practice_place", data["practice_place"] ?? "—"), ("contract.work_off_months", data["work_off_months"] ?? "—")]
            : [("contract.specialty", data["specialty"] ?? "—"), ("contract.course_months", data["course_months"] ?? "—"),
               ("contract.course_cost", data["course_cost"].map { $0.isEmpty ? "—" : $0 + " ₸" } ?? "—"), ("contract.practice_place", data["practice_place"] ?? "—")]
        return document(lang, title: t("contract.notice.\(party.rawValue)"),
            .p(.class("doc-ref"), .text(t("print.notice.form"))),
            .h1(.text(t("contract.notice.\(party.rawValue)"))),
            .p(.class("doc-meta"), .text(t("print.place_date", ["date": d.contract.signed_on]))),
            .p(.text(t("print.notice.text", ["org": name(org, lang), "number": d.contract.number, "centre": name(d.centre, lang)]))),
            .table(.class("doc-fields"), .forEach(rows) { r in .tr(.th(.text(t(r.0))), .td(.text(r.1))) }),
            .table(.class("signatures"), .tr(.td(.text(t("party.\(party.rawValue)"))), .td(.text(name(org, lang))), .td(.class("signature-line"), .text(""))))
        )
    }
}

extension Optional {
    func asyncMap<U>(_ f: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let v = self else { return nil }
        return try await f(v)
    }
}
