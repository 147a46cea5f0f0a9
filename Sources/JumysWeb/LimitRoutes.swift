import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// Funding limits on the web (F1, F2, E11): a year's limits per region and direction — allocated, committed, spent,
/// remaining — with the national allocations and their approval, the districts' split, corrections and
/// reallocations with their approval, and the history of every change.
struct LimitRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("limits", use: page)
        routes.post("limits", "allocations", use: propose)
        routes.post("limits", "allocations", ":id", "approve", use: approve)
        routes.post("limits", "changes", use: proposeChange)
        routes.post("limits", "changes", ":id", ":decision", use: decideChange)
        routes.get("limits", "labour-force", use: labourForcePage)
        routes.post("limits", "labour-force", use: loadLabourForce)
        routes.get("limits", ":year", ":direction", ":region", use: districtsPage)
        routes.post("limits", ":year", ":direction", ":region", use: split)
    }

    typealias Errors = [(field: String, message: String)]
    static func store(_ req: Request) -> LimitStore { LimitStore(store: req.jumys.store) }
    static func tenge(_ t: Int64?) -> String { ProjectRoutes.tenge(t) }

    static func year(_ req: Request) -> Int {
        (try? req.query.get(String.self, at: "year")).flatMap { Int($0) }.flatMap { ProgrammeYears.range.contains($0) ? $0 : nil } ?? req.jumys.store.today().year
    }
    static func direction(_ s: String?) -> FundingDirection? { s.flatMap(FundingDirection.init(rawValue:)) }

    // MARK: the year's page

    @Sendable func page(req: Request) async throws -> Response {
        let year = Self.year(req)
        let d = Self.direction(try? req.query.get(String.self, at: "direction")) ?? .roadmapProjects
        return try await render(req, year: year, direction: d, values: ["year": String(year), "direction": d.rawValue, "period": LimitStore.shippedPeriod], errors: [], status: .ok)
    }

    func render(_ req: Request, year: Int, direction: FundingDirection, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let store = Self.store(req)
        let names = try await ProjectRoutes.Names.load(req, ctx.lang)
        let body = try await ProjectStore(store: req.jumys.store).body(of: user)
        let allocations = try await store.allocations(year: year).filter { $0.state != "superseded" }
        let limits = try await store.limits(year: year)
        let spent = try await store.spent(year: year)
        // Every proposal waiting for the commission, however old, then the latest changes.
        let waiting = try await store.history(year: year, state: .proposed)
        let history = waiting + (try await store.history(year: year, limit: 200)).filter { $0.state != LimitChangeState.proposed.rawValue }
        let regionRows = limits.filter { $0.district_id == 0 && $0.direction == direction.rawValue }
        let totals = regionRows.reduce((Int64(0), Int64(0), Int64(0))) { ($0.0 + $1.amount, $0.1 + $1.committed, $0.2 + (spent[$1.id] ?? 0)) }
        let periods = try await store.periods()
        let directions = CaseworkViews.options(ctx, "direction", FundingDirection.self)
        let regionOptions = names.regions.values.sorted { $0.id! < $1.id! }.map { ($0.id!, names.region($0.id!)) }
        let pending = history.filter { $0.state == "proposed" }

        func place(_ dir: String?, _ region: String?, _ district: Int?) -> String {
            guard let region else { return "—" }
            return [dir.map { ctx.t("direction.\($0)") }, names.region(region), district.map { names.district($0) }].compactMap { $0 }.joined(separator: " · ")
        }
        let allocationTable: Node<HTML.BodyContext> = allocations.isEmpty ? .p(.class("empty"), .text(ctx.t("limits.none", ["year": String(year)]))) : .table(.class("data"),
            .caption(.text(ctx.t("limits.allocations"))),
            .thead(.tr(.th(.text(ctx.t("limits.direction"))), .th(.class("num"), .text(ctx.t("limits.total"))), .th(.text(ctx.t("limits.period"))),
                       .th(.text(ctx.t("limits.state"))), .th(.text(ctx.t("step.decision"))))),
            .tbody(.forEach(allocations) { a in
                .tr(.td(.text(ctx.t("direction.\(a.direction)"))), .td(.class("num"), .text(Self.tenge(a.total))), .td(.text(a.period)),
                    .td(.span(.class("tag"), .text(ctx.t("limit_state.\(a.state)")))),
                    .td(a.state == "proposed" && body == .interagencyCommission
                        ? .form(.method(.post), .action("/limits/allocations/\(a.id)/approve"), .class("inline"), ctx.csrfField(),
                                .label(.for("decision-\(a.id)"), .class("visually-hidden"), .text(ctx.t("step.decision"))),
                                .input(.type(.text), .id("decision-\(a.id)"), .name("decision"), .attribute(named: "placeholder", value: ctx.t("step.decision.hint"))),
                                .button(.type(.submit), .class("button"), .text(ctx.t("limits.approve"))))
                        : .text([a.decision, a.decided_on].compactMap { $0 }.joined(separator: " · "))))
            }))
        let overview: Node<HTML.BodyContext> = .table(.class("data"),
            .caption(.text(ctx.t("limits.by_region", ["direction": ctx.t("direction.\(direction.rawValue)")]))),
            .thead(.tr(.th(.text(ctx.t("filter.region"))), .th(.class("num"), .text(ctx.t("limits.allocated"))), .th(.class("num"), .text(ctx.t("limits.committed"))),
                       .th(.class("num"), .text(ctx.t("limits.spent"))), .th(.class("num"), .text(ctx.t("limits.remaining"))))),
            .tbody(.forEach(regionRows) { r in
                .tr(.td(.a(.href("/limits/\(year)/\(direction.rawValue)/\(r.region_iso)"), .text(names.region(r.region_iso)))), .td(.class("num"), .text(Self.tenge(r.amount))),
                    .td(.class("num"), .text(Self.tenge(r.committed))), .td(.class("num"), .text(Self.tenge(spent[r.id] ?? 0))), .td(.class("num"), .text(Self.tenge(r.remaining))))
            }),
            .tfoot(.tr(.th(.text(ctx.t("limits.nation"))), .td(.class("num"), .text(Self.tenge(totals.0))), .td(.class("num"), .text(Self.tenge(totals.1))),
                       .td(.class("num"), .text(Self.tenge(totals.2))), .td(.class("num"), .text(Self.tenge(totals.0 - totals.1))))))
        let historyTable: Node<HTML.BodyContext> = history.isEmpty ? .empty : .table(.class("data"),
            .caption(.text(ctx.t("limits.history"))),
            .thead(.tr(.th(.text(ctx.t("limits.when"))), .th(.text(ctx.t("limits.kind"))), .th(.text(ctx.t("limits.from"))), .th(.text(ctx.t("limits.to"))),
                       .th(.class("num"), .text(ctx.t("limits.amount"))), .th(.text(ctx.t("limits.reason"))), .th(.text(ctx.t("limits.state"))), .th(.text(ctx.t("step.decision"))))),
            .tbody(.forEach(history) { c in
                .tr(.td(.text(c.decided_on ?? c.proposed_on)), .td(.text(ctx.t("limit_change.\(c.kind)"))), .td(.text(place(c.from_direction, c.from_region, c.from_district))),
                    .td(.text(place(c.to_direction, c.to_region, c.to_district))), .td(.class("num"), .text(Self.tenge(c.amount))), .td(.text(c.reason)),
                    .td(.span(.class("tag"), .text(ctx.t("limit_state.\(c.state)")))),
                    .td(c.state == "proposed" && body == .interagencyCommission
                        ? .form(.method(.post), .action("/limits/changes/\(c.id)/approve"), .class("inline"), ctx.csrfField(),
                                .label(.for("change-\(c.id)"), .class("visually-hidden"), .text(ctx.t("step.decision"))),
                                .input(.type(.text), .id("change-\(c.id)"), .name("decision"), .attribute(named: "placeholder", value: ctx.t("step.decision.hint"))),
                                .button(.type(.submit), .class("button"), .text(ctx.t("limits.approve"))),
                                .button(.type(.submit), .class("button secondary"), .attribute(named: "formaction", value: "/limits/changes/\(c.id)/refuse"), .text(ctx.t("limits.refuse"))))
                        : .text([c.decision, c.decided_by].compactMap { $0 }.joined(separator: " · "))))
            }))
        let ministryForms: Node<HTML.BodyContext> = body != .ministry ? .empty : .group(
            .form(.method(.post), .action("/limits/allocations"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("limits.propose"))), .p(.class("hint"), .text(ctx.t("limits.propose.hint"))),
                k.text("year", ctx.t("funds.year"), width: "narrow"),
                k.select("direction", ctx.t("limits.direction"), options: directions, blank: false),
                k.text("total", ctx.t("limits.total"), hint: ctx.t("limits.total.hint")),
                k.select("period", ctx.t("limits.period"), options: periods.map { ($0.period, "\($0.period) · \($0.regions) · \(ProjectRoutes.tenge($0.persons * 100).dropLast(2))") }, blank: false),
                .button(.type(.submit), .class("button"), .text(ctx.t("limits.propose.button")))),
            .form(.method(.post), .action("/limits/changes"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("limits.change"))), .p(.class("hint"), .text(ctx.t("limits.change.hint"))),
                .input(.type(.hidden), .name("year"), .value(String(year))),
                k.select("kind", ctx.t("limits.kind"), options: [LimitChangeKind.correction, .reallocation].map { ($0.rawValue, ctx.t("limit_change.\($0.rawValue)")) }, blank: false),
                k.select("from_region", ctx.t("limits.from_region"), options: regionOptions),
                k.select("from_direction", ctx.t("limits.from_direction"), options: directions),
                k.select("to_region", ctx.t("limits.to_region"), options: regionOptions, blank: false),
                k.select("to_direction", ctx.t("limits.to_direction"), options: directions, blank: false),
                k.text("amount", ctx.t("limits.amount"), hint: ctx.t("limits.amount.hint")),
                k.text("reason", ctx.t("limits.reason")),
                .button(.type(.submit), .class("button"), .text(ctx.t("limits.change.button")))))
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("limits.title"),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("limits.heading", ["year": String(year)]))),
            .p(.class("lead"), .text(ctx.t("limits.lead"))),
            .form(.method(.get), .action("/limits"), .class("filters"),
                .div(.class("field"), .label(.for("f-year"), .text(ctx.t("funds.year"))), .input(.type(.text), .id("f-year"), .name("year"), .value(String(year)), .class("narrow"))),
                .div(.class("field"), .label(.for("f-direction"), .text(ctx.t("limits.direction"))),
                     .select(.id("f-direction"), .attribute(named: "name", value: "direction"), .forEach(directions) { o in
                        .element(named: "option", nodes: [.attribute(named: "value", value: o.0), o.0 == direction.rawValue ? .attribute(named: "selected", value: "selected") : .empty, .text(o.1)])
                     })),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("filter.apply")))),
            allocationTable,
            pending.isEmpty || body != .interagencyCommission ? .empty : .p(.class("notice"), .text(ctx.t("limits.pending", ["count": String(pending.count)]))),
            regionRows.isEmpty ? .empty : overview,
            ministryForms,
            historyTable,
            user.role == .administrator ? .p(.a(.href("/limits/labour-force"), .text(ctx.t("limits.labour_force")))) : .empty
        ), status: status)
    }

    @Sendable func propose(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        let year = LabourMarketRoutes.int(f["year"]) ?? 0
        let d = Self.direction(f["direction"]) ?? .roadmapProjects
        return try await ProjectRoutes.handle(req, {
            guard let total = ProjectRoutes.money(f["total"]) else { throw FieldErrors(errors: [FieldError("total", "limit_total_invalid")]) }
            guard Self.direction(f["direction"]) != nil else { throw FieldErrors(errors: [FieldError("direction", "choose_from_list")]) }
            try await Self.store(req).propose(year: year, direction: d, total: total, period: f["period"] ?? "", by: user)
            return req.redirect(to: "/limits?year=\(year)&direction=\(d.rawValue)", redirectType: .normal)
        }, onErrors: { try await render(req, year: ProgrammeYears.range.contains(year) ? year : Self.year(req), direction: d, values: f, errors: $0, status: .unprocessableEntity) })
    }

    @Sendable func approve(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let f = try CaseworkRoutes.form(req)
        guard let a = try await Self.store(req).allocation(id) else { throw Abort(.notFound) }
        let d = Self.direction(a.direction) ?? .roadmapProjects
        return try await ProjectRoutes.handle(req, {
            try await Self.store(req).approve(allocation: id, decision: f["decision"] ?? "", by: user)
            return req.redirect(to: "/limits?year=\(a.year)&direction=\(a.direction)", redirectType: .normal)
        }, onErrors: { try await render(req, year: a.year, direction: d, values: ["year": String(a.year)], errors: $0, status: .unprocessableEntity) })
    }

    @Sendable func proposeChange(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        // The form's year (the page's); sent but not a year, it is refused rather than replaced by this year.
        let year = f["year"] == nil ? Self.year(req) : (LabourMarketRoutes.int(f["year"]) ?? 0)
        return try await ProjectRoutes.handle(req, {
            guard let kind = f["kind"].flatMap(LimitChangeKind.init(rawValue:)) else { throw FieldErrors(errors: [FieldError("kind", "choose_from_list")]) }
            guard let toRegion = f["to_region"].flatMap({ RegionCode($0)?.iso }), let toDir = Self.direction(f["to_direction"]) else { throw FieldErrors(errors: [FieldError("to_region", "choose_from_list")]) }
            guard let amount = ProjectRoutes.money(f["amount"]) else { throw FieldErrors(errors: [FieldError("amount", "limit_total_invalid")]) }
            var from: LimitStore.Place? = nil
            if kind == .reallocation {
                let region = f["from_region"].flatMap { RegionCode($0)?.iso } ?? toRegion
                let dir = Self.direction(f["from_direction"]) ?? toDir
                from = LimitStore.Place(dir, region)
            }
            try await Self.store(req).proposeChange(year: year, kind: kind, from: from, to: LimitStore.Place(toDir, toRegion), amount: amount, reason: f["reason"] ?? "", by: user)
            return req.redirect(to: "/limits?year=\(year)&direction=\(toDir.rawValue)", redirectType: .normal)
        }, onErrors: { try await render(req, year: ProgrammeYears.range.contains(year) ? year : Self.year(req), direction: Self.direction(f["to_direction"]) ?? .roadmapProjects,
                                        values: f.merging(["year": String(year)]) { a, _ in a }, errors: $0, status: .unprocessableEntity) })
    }

    @Sendable func decideChange(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let id = try CaseworkRoutes.id(req)
        let decision = req.parameters.get("decision") ?? ""
        guard ["approve", "refuse"].contains(decision) else { throw Abort(.notFound) }
        let f = try CaseworkRoutes.form(req)
        guard let c = try await Self.store(req).change(id) else { throw Abort(.notFound) }
        return try await ProjectRoutes.handle(req, {
            try await Self.store(req).decideChange(id, approve: decision == "approve", decision: f["decision"] ?? "", by: user)
            return req.redirect(to: "/limits?year=\(c.year)&direction=\(c.to_direction ?? "")", redirectType: .normal)
        }, onErrors: { try await render(req, year: c.year, direction: Self.direction(c.to_direction) ?? .roadmapProjects, values: ["year": String(c.year)], errors: $0, status: .unprocessableEntity) })
    }

    // MARK: a region's districts

    @Sendable func districtsPage(req: Request) async throws -> Response {
        guard let year = req.parameters.get("year").flatMap(Int.init), let d = Self.direction(req.parameters.get("direction")),
              let region = req.parameters.get("region").flatMap({ RegionCode($0)?.iso }) else { throw Abort(.notFound) }
        return try await districts(req, year: year, direction: d, region: region, values: [:], errors: [], status: .ok)
    }

    func districts(_ req: Request, year: Int, direction: FundingDirection, region: String, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let names = try await ProjectRoutes.Names.load(req, ctx.lang)
        let rows = try await Self.store(req).limits(year: year, region: region).filter { $0.direction == direction.rawValue }
        let spent = try await Self.store(req).spent(year: year)
        guard let regionRow = rows.first(where: { $0.district_id == 0 }) else { throw Abort(.notFound) }
        let byDistrict = Dictionary(uniqueKeysWithValues: rows.filter { $0.district_id != 0 }.map { ($0.district_id, $0) })
        let unsplit = try await Self.store(req).regionCommitmentsByDistrict(limitID: regionRow.id)
        let districts = names.districts.values.filter { $0.regionISO == region }.sorted { names.district($0.id!) < names.district($1.id!) }
        let mayEdit = try await ProjectStore(store: req.jumys.store).body(of: user) == .akimat && user.districtID == nil && user.regionISO == region
        let split = byDistrict.values.reduce(Int64(0)) { $0 + $1.amount }
        let table: Node<HTML.BodyContext> = .table(.class("data"),
            .thead(.tr(.th(.text(ctx.t("filter.district"))), .th(.class("num"), .text(ctx.t("limits.allocated"))), .th(.class("num"), .text(ctx.t("limits.committed"))),
                       .th(.class("num"), .text(ctx.t("limits.spent"))), .th(.class("num"), .text(ctx.t("limits.remaining"))), mayEdit ? .th(.text(ctx.t("limits.new_amount"))) : .empty)),
            .tbody(.forEach(districts) { d in
                let r = byDistrict[d.id!]
                let field = "d_\(d.id!)"
                return .tr(.td(.text(names.district(d.id!))), .td(.class("num"), .text(Self.tenge(r?.amount ?? 0))), .td(.class("num"), .text(Self.tenge(r?.committed ?? unsplit[d.id!] ?? 0))),
                           .td(.class("num"), .text(Self.tenge(r.map { spent[$0.id] ?? 0 } ?? 0))), .td(.class("num"), .text(Self.tenge(r?.remaining ?? 0))),
                           mayEdit ? .td(k.error(field), .label(.for(field), .class("visually-hidden"), .text(names.district(d.id!))),
                                         .input(.type(.text), .id(field), .name(field), .attribute(named: "form", value: "split"), .value(values[field] ?? (r.map { Money(tiyn: $0.amount).decimalString } ?? "")))) : .empty)
            }),
            .tfoot(.tr(.th(.text(names.region(region))), .td(.class("num"), .text(Self.tenge(regionRow.amount))), .td(.class("num"), .text(Self.tenge(regionRow.committed))),
                       .td(.class("num"), .text(Self.tenge(spent[regionRow.id] ?? 0))), .td(.class("num"), .text(Self.tenge(regionRow.remaining))), mayEdit ? .td(.text("")) : .empty)))
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("limits.districts.title"),
            .p(.a(.href("/limits?year=\(year)&direction=\(direction.rawValue)"), .text("← " + ctx.t("limits.title")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("limits.districts.heading", ["region": names.region(region), "year": String(year), "direction": ctx.t("direction.\(direction.rawValue)")]))),
            .p(.class("lead"), .text(ctx.t("limits.districts.lead", ["split": Self.tenge(split), "limit": Self.tenge(regionRow.amount)]))),
            table,
            !mayEdit ? .empty : .form(.method(.post), .action("/limits/\(year)/\(direction.rawValue)/\(region)"), .id("split"), .class("panel"), ctx.csrfField(),
                k.text("decision", ctx.t("step.decision"), hint: ctx.t("step.decision.hint")),
                .button(.type(.submit), .class("button"), .text(ctx.t("limits.split.button"))))
        ), status: status)
    }

    @Sendable func split(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        guard let year = req.parameters.get("year").flatMap(Int.init), let d = Self.direction(req.parameters.get("direction")),
              let region = req.parameters.get("region").flatMap({ RegionCode($0)?.iso }) else { throw Abort(.notFound) }
        let f = try CaseworkRoutes.form(req)
        return try await ProjectRoutes.handle(req, {
            var amounts: [Int: Money] = [:]
            var bad: [FieldError] = []
            for (key, value) in f where key.hasPrefix("d_") {
                guard let id = Int(key.dropFirst(2)) else { continue }
                let v = value.trimmingCharacters(in: .whitespaces)
                if v.isEmpty { continue }
                if let m = ProjectRoutes.money(v) { amounts[id] = m } else { bad.append(FieldError(key, "limit_total_invalid")) }
            }
            if !bad.isEmpty { throw FieldErrors(errors: bad) }
            try await Self.store(req).splitByDistrict(year: year, direction: d, region: region, amounts: amounts, decision: f["decision"] ?? "", by: user)
            return req.redirect(to: "/limits/\(year)/\(d.rawValue)/\(region)", redirectType: .normal)
        }, onErrors: { try await districts(req, year: year, direction: d, region: region, values: f, errors: $0, status: .unprocessableEntity) })
    }

    // MARK: labour force (administrator)

    @Sendable func labourForcePage(req: Request) async throws -> Response {
        try await labourForce(req, values: [:], errors: [], status: .ok)
    }

    func labourForce(_ req: Request, values: [String: String], errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let k = FormKit(ctx: ctx, errors: errors, values: values)
        let names = try await ProjectRoutes.Names.load(req, ctx.lang)
        let periods = try await Self.store(req).periods()
        let regions = names.regions.keys.sorted()
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("limits.labour_force"),
            .p(.a(.href("/limits"), .text("← " + ctx.t("limits.title")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("limits.labour_force"))),
            .table(.class("data"), .thead(.tr(.th(.text(ctx.t("limits.period"))), .th(.class("num"), .text(ctx.t("limits.regions"))), .th(.class("num"), .text(ctx.t("limits.persons"))))),
                   .tbody(.forEach(periods) { p in .tr(.td(.text(p.period)), .td(.class("num"), .text(String(p.regions))), .td(.class("num"), .text(String(p.persons)))) })),
            user.role != .administrator ? .empty : .form(.method(.post), .action("/limits/labour-force"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("limits.labour_force.load"))), .p(.class("hint"), .text(ctx.t("limits.labour_force.hint"))),
                k.text("period", ctx.t("limits.period"), hint: ctx.t("limits.period.hint"), width: "narrow"),
                .forEach(regions) { r in k.text("lf_\(r)", names.region(r), width: "narrow") },
                .button(.type(.submit), .class("button"), .text(ctx.t("limits.labour_force.button"))))
        ), status: status)
    }

    @Sendable func loadLabourForce(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        return try await ProjectRoutes.handle(req, {
            var values: [String: String] = [:]
            for (k, v) in f where k.hasPrefix("lf_") { values[String(k.dropFirst(3))] = v }
            try await Self.store(req).loadLabourForce(period: f["period"] ?? "", thousands: values, by: user)
            return req.redirect(to: "/limits/labour-force", redirectType: .normal)
        }, onErrors: { try await labourForce(req, values: f, errors: $0, status: .unprocessableEntity) })
    }
}
