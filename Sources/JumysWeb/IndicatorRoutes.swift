import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The Programme's target indicators of a year (G5) next to the figures from the data, with the gap.
struct IndicatorRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("indicators", use: page)
    }

    static func show(_ v: FixedDecimal?, _ unit: String) -> String {
        guard let v else { return "—" }
        let text = v.description.replacingOccurrences(of: ".", with: ",")
        return unit == "percent" ? text + " %" : text
    }

    @Sendable func page(req: Request) async throws -> Response {
        _ = try req.requireUser()
        let ctx = PageContext(req)
        let year = (try? req.query.get(String.self, at: "year")).flatMap { Int($0) }.flatMap { ProgrammeYears.range.contains($0) ? $0 : nil } ?? req.jumys.store.today().year
        let names = try await ProjectRoutes.Names.load(req, ctx.lang)
        // The nation, or one region (`?region=KZ-35`): the figures are public statistics of the programme.
        let region = (try? req.query.get(String.self, at: "region")).flatMap { RegionCode($0)?.iso }.flatMap { names.regions[$0] == nil ? nil : $0 }
        let rows = try await MonitoringStore(store: req.jumys.store).indicators(year: year, region: region, env: try await req.jumys.rules.current())
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("indicators.title"),
            .h1(.text(ctx.t("indicators.heading", ["year": String(year)]) + (region.map { " · " + names.region($0) } ?? ""))),
            .p(.class("lead"), .text(ctx.t("indicators.lead"))),
            region == nil ? .empty : .p(.class("hint"), .text(ctx.t("indicators.region_note"))),
            .form(.method(.get), .action("/indicators"), .class("filters"),
                .div(.class("field"), .label(.for("f-year"), .text(ctx.t("funds.year"))), .input(.type(.text), .id("f-year"), .name("year"), .value(String(year)), .class("narrow"))),
                .div(.class("field"), .label(.for("f-region"), .text(ctx.t("filter.region"))),
                     .select(.id("f-region"), .attribute(named: "name", value: "region"),
                             .element(named: "option", nodes: [.attribute(named: "value", value: "", ignoreIfValueIsEmpty: false), .text(ctx.t("limits.nation"))]),
                             .forEach(names.regions.keys.sorted()) { iso in
                                 .element(named: "option", nodes: [.attribute(named: "value", value: iso), iso == region ? .attribute(named: "selected", value: "selected") : .empty, .text(names.region(iso))])
                             })),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("filter.apply")))),
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("indicators.indicator"))), .th(.class("num"), .text(ctx.t("indicators.target"))), .th(.class("num"), .text(ctx.t("indicators.actual"))),
                           .th(.class("num"), .text(ctx.t("indicators.gap"))), .th(.text(ctx.t("indicators.source"))))),
                .tbody(.forEach(rows) { r in
                    .tr(.td(.text(ctx.t("indicator.\(r.key)"))),
                        .td(.class("num"), r.parameter != nil && r.target != nil ? .a(.href("/parameters/\(r.parameter!)"), .text(Self.show(r.target, r.unit) + (r.atMost ? " " + ctx.t("indicators.at_most") : ""))) : .text(ctx.t("indicators.no_target"))),
                        .td(.class("num"), .text(Self.show(r.actual, r.unit))),
                        .td(.class("num"), r.met.map { met in .span(.class("tag" + (met ? " ok" : " late")), .text(Self.show(r.gap, r.unit))) } ?? .text("—")),
                        .td(.text(ctx.t("indicators.from.\(r.source)"))))
                }))
        ))
    }
}
