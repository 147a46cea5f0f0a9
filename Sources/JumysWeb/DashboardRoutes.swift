import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// The dashboard: the few numbers that matter for the month, a map of Kazakhstan's 20 regions coloured by a chosen
/// measure (jobs created, people placed, referral quota met, limits committed) with the value on hover and a table
/// beside it for screen readers, a bar chart — all drawn on the server as SVG, no script — and, for a region, its
/// districts.
struct DashboardRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("dashboard", use: nation)
        routes.get("dashboard", ":region", use: region)
    }

    struct Query {
        let measure: DashboardStore.Measure, month: Payroll.Month
        init(_ req: Request) {
            measure = (try? req.query.get(String.self, at: "measure")).flatMap(DashboardStore.Measure.init(rawValue:)) ?? .jobs
            let last = req.jumys.store.today().adding(months: -1)
            month = (try? req.query.get(String.self, at: "month")).flatMap(Payroll.Month.init) ?? Payroll.Month(String(format: "%04d-%02d", last.year, last.month))!
        }
        func link(_ path: String, measure m: DashboardStore.Measure? = nil) -> String { "\(path)?measure=\((m ?? measure).rawValue)&month=\(month)" }
    }

    static func format(_ v: Double?, _ m: DashboardStore.Measure) -> String {
        guard let v else { return "—" }
        switch m {
        case .jobs, .placed: return String(Int(v))
        case .quota, .limit: return String(format: "%.1f %%", v).replacingOccurrences(of: ".", with: ",")
        }
    }

    static func headline(_ ctx: PageContext, _ t: DashboardStore.Figures) -> Node<HTML.BodyContext> {
        let cards: [(String, String)] = [
            (ctx.t("dashboard.measure.jobs"), String(t.jobs)), (ctx.t("dashboard.measure.placed"), String(t.placed)),
            (ctx.t("dashboard.measure.quota"), t.quotaProjects == 0 ? "—" : "\(t.quotaMet) / \(t.quotaProjects)"),
            (ctx.t("dashboard.measure.limit"), format(t.value(.limit), .limit)),
        ]
        return .ul(.class("tiles figures"), .forEach(cards) { c in .li(.class("tile"), .p(.class("figure"), .text(c.1)), .p(.text(c.0))) })
    }

    /// What waits for the user (by the body they act for), each with its count and the page where it is done; and,
    /// for a user of one region, the way to its districts.
    static func tasks(_ req: Request, _ ctx: PageContext, _ user: UserContext, here region: String?) async throws -> Node<HTML.BodyContext> {
        let tasks = try await DashboardStore(store: req.jumys.store).tasks(for: user, env: try await req.jumys.rules.current())
        let own = user.regionISO.flatMap { r in r == region ? nil : r }
        guard !tasks.isEmpty || own != nil else { return .empty }
        return .section(.class("panel"), .attribute(named: "aria-labelledby", value: "for-you"),
            .h2(.id("for-you"), .text(ctx.t("dashboard.for_you"))),
            tasks.isEmpty ? .p(.text(ctx.t("dashboard.nothing_waiting"))) : .ul(.forEach(tasks) { t in
                .li(.a(.href(t.href), .text(ctx.t("dashboard.task.\(t.what)", ["count": String(t.count), "state": t.state.map { ctx.t("project_state.\($0.rawValue)") } ?? ""]))))
            }),
            own.map { r in .p(.a(.href("/dashboard/\(r)"), .text(ctx.t("dashboard.own_region")))) } ?? .empty)
    }

    static func controls(_ ctx: PageContext, _ q: Query, action: String) -> Node<HTML.BodyContext> {
        .form(.method(.get), .action(action), .class("filters"),
            .div(.class("field"), .label(.for("f-measure"), .text(ctx.t("dashboard.measure"))),
                 .select(.id("f-measure"), .attribute(named: "name", value: "measure"), .forEach(DashboardStore.Measure.allCases) { m in
                    .element(named: "option", nodes: [.attribute(named: "value", value: m.rawValue), m == q.measure ? .attribute(named: "selected", value: "selected") : .empty, .text(ctx.t("dashboard.measure.\(m.rawValue)"))])
                 })),
            .div(.class("field"), .label(.for("f-month"), .text(ctx.t("bonds.month"))), .input(.type(.text), .id("f-month"), .name("month"), .value(q.month.description), .class("narrow"))),
            .button(.type(.submit), .class("button secondary"), .text(ctx.t("filter.apply"))))
    }

    /// The values as a table (what the map and the chart show, for screen readers and for reading exactly).
    static func table(_ ctx: PageContext, _ rows: [(key: String, name: String, value: Double?)], measure: DashboardStore.Measure, caption: String, link: ((String) -> String)?) -> Node<HTML.BodyContext> {
        .table(.class("data"), .caption(.text(caption)),
            .thead(.tr(.th(.text(ctx.t("reports.g1.place"))), .th(.class("num"), .text(ctx.t("dashboard.measure.\(measure.rawValue)"))))),
            .tbody(.forEach(rows) { r in
                .tr(.td(link.map { l in .a(.href(l(r.key)), .text(r.name)) } ?? .text(r.name)), .td(.class("num"), .text(format(r.value, measure))))
            }))
    }

    @Sendable func nation(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let q = Query(req)
        let names = try await ProjectRoutes.Names.load(req, ctx.lang)
        let figures = try await DashboardStore(store: req.jumys.store).figures(month: q.month, region: nil, user: user, env: try await req.jumys.rules.current())
        let rows = names.regions.keys.sorted().map { (key: $0, name: names.region($0), value: figures.places[$0]?.value(q.measure) ?? (q.measure == .jobs || q.measure == .placed ? 0 : nil)) }
        let map = KZMap.shared.svg(values: Dictionary(uniqueKeysWithValues: rows.map { ($0.key, $0.value) }), names: { names.region($0) }, format: { Self.format($0, q.measure) },
                                       link: { q.link("/dashboard/\($0)") }, label: ctx.t("dashboard.map.label", ["measure": ctx.t("dashboard.measure.\(q.measure.rawValue)"), "month": q.month.description]),
                                       percent: q.measure == .quota || q.measure == .limit, noData: ctx.t("dashboard.no_data"))
        let chart = KZMap.bars(rows.sorted { ($0.value ?? -1) > ($1.value ?? -1) }.map { ($0.name, $0.value) }, format: { Self.format($0, q.measure) },
                               label: ctx.t("dashboard.chart.label", ["measure": ctx.t("dashboard.measure.\(q.measure.rawValue)")]))
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("dashboard.title"),
            .h1(.text(ctx.t("dashboard.heading", ["month": q.month.description]))),
            .p(.class("lead"), .text(ctx.t("dashboard.lead"))),
            try await Self.tasks(req, ctx, user, here: nil),
            Self.headline(ctx, figures.total),
            Self.controls(ctx, q, action: "/dashboard"),
            .div(.class("map-layout"),
                .div(.class("map"), .raw(map), .p(.class("hint"), .text(ctx.t("dashboard.map.hint"))), .p(.class("attribution"), .text(KZMap.attribution))),
                Self.table(ctx, rows, measure: q.measure, caption: ctx.t("dashboard.map.label", ["measure": ctx.t("dashboard.measure.\(q.measure.rawValue)"), "month": q.month.description]),
                           link: { q.link("/dashboard/\($0)") })),
            .div(.class("chart"), .raw(chart)),
            .p(.a(.href("/reports/roadmap_monthly/\(q.month)"), .text(ctx.t("report_kind.roadmap_monthly")))))
        )
    }

    @Sendable func region(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let q = Query(req)
        guard let region = req.parameters.get("region").flatMap({ RegionCode($0) }), region.isKnown else { throw Abort(.notFound) }
        let names = try await ProjectRoutes.Names.load(req, ctx.lang)
        let figures = try await DashboardStore(store: req.jumys.store).figures(month: q.month, region: region.iso, user: user, env: try await req.jumys.rules.current())
        let districts = names.districts.values.filter { $0.regionISO == region.iso }.map { $0.id! }
        let rows = districts.map { (key: String($0), name: names.district($0), value: figures.places[String($0)]?.value(q.measure) ?? (q.measure == .jobs || q.measure == .placed ? 0 : nil)) }
            .sorted { $0.name < $1.name }
        let chart = KZMap.bars(rows.sorted { ($0.value ?? -1) > ($1.value ?? -1) }.map { ($0.name, $0.value) }, format: { Self.format($0, q.measure) },
                               label: ctx.t("dashboard.chart.label", ["measure": ctx.t("dashboard.measure.\(q.measure.rawValue)")]))
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("dashboard.title"),
            .p(.a(.href(q.link("/dashboard")), .text("← " + ctx.t("dashboard.title")))),
            .h1(.text(names.region(region.iso) + " · " + q.month.description)),
            try await Self.tasks(req, ctx, user, here: region.iso),
            Self.headline(ctx, figures.total),
            Self.controls(ctx, q, action: "/dashboard/\(region.iso)"),
            Self.table(ctx, rows, measure: q.measure, caption: ctx.t("dashboard.districts", ["measure": ctx.t("dashboard.measure.\(q.measure.rawValue)")]), link: nil),
            rows.allSatisfy({ $0.value == nil }) ? .empty : .div(.class("chart"), .raw(chart)),
            .p(.a(.href("/reports/roadmap_monthly/\(q.month)?region=\(region.iso)"), .text(ctx.t("report_kind.roadmap_monthly")))))
        )
    }
}

/// Kazakhstan's 20 regions as SVG paths, from the boundary file (WGS84), projected once: longitude scaled by the
/// cosine of the middle latitude, latitude downwards.
final class KZMap: Sendable {
    static let shared = KZMap()
    static let attribution = "Boundaries: geokz (A. Rodionov, CC BY 4.0), derived from the OCHA/HDX COD-AB for Kazakhstan (UNHCR) and © OpenStreetMap contributors"
    let paths: [(iso: String, d: String)]
    let width = 820.0, height: Double

    init() {
        var shapes: [(String, [[[Double]]])] = []
        if let url = try? ReferenceData.url("kz-regions", "geojson"), let data = try? Data(contentsOf: url),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let features = json["features"] as? [[String: Any]] {
            for f in features {
                guard let props = f["properties"] as? [String: Any], let iso = props["iso"] as? String, let g = f["geometry"] as? [String: Any], let type = g["type"] as? String else { continue }
                var rings: [[[Double]]] = []
                if type == "Polygon", let c = g["coordinates"] as? [[[Double]]] { rings = c }
                if type == "MultiPolygon", let c = g["coordinates"] as? [[[[Double]]]] { rings = c.flatMap { $0 } }
                shapes.append((iso, rings))
            }
        }
        let points = shapes.flatMap { $0.1.flatMap { $0 } }
        let minLon = points.map { $0[0] }.min() ?? 46, maxLon = points.map { $0[0] }.max() ?? 88
        let minLat = points.map { $0[1] }.min() ?? 40, maxLat = points.map { $0[1] }.max() ?? 56
        let k = cos((minLat + maxLat) / 2 * .pi / 180)
        let scale = (width - 20) / ((maxLon - minLon) * k)
        height = (maxLat - minLat) * scale + 20
        paths = shapes.map { iso, rings in
            (iso, rings.map { ring in
                "M" + ring.map { p in String(format: "%.1f,%.1f", 10 + (p[0] - minLon) * k * scale, 10 + (maxLat - p[1]) * scale) }.joined(separator: "L") + "Z"
            }.joined())
        }
    }

    static let palette = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The map: each region filled by its value's fifth of the scale (0 to the largest value), its name and value in a title (shown on hover), a link to its districts; a legend below.
    func svg(values: [String: Double?], names: (String) -> String, format: (Double?) -> String, link: (String) -> String, label: String, percent: Bool, noData: String) -> String {
        // The scale runs to the largest value, so that small shares still differ in colour.
        // Counts run to a multiple of five, so that every step of the legend is a whole range (0–1 … 4–5 at least).
        let largest = values.values.compactMap { $0 }.max() ?? 0
        let top = percent ? max(0.1, largest) : max(5, (largest / 5).rounded(.up) * 5)
        func bin(_ v: Double) -> Int { min(4, Int((v / top) * 5)) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height) + 40)\" role=\"group\" aria-label=\"\(Self.escape(label))\" class=\"kz-map\">"
        for p in paths {
            let v = values[p.iso] ?? nil
            let fill = v.map { Self.palette[bin($0)] } ?? "#eeeeee"
            // Each region is a link a screen reader names by its title (the map is a group of links, not an image).
            s += "<a href=\"\(Self.escape(link(p.iso)))\" aria-label=\"\(Self.escape(names(p.iso))): \(Self.escape(format(v)))\"><path d=\"\(p.d)\" fill=\"\(fill)\" stroke=\"#ffffff\" stroke-width=\"1\"><title>\(Self.escape(names(p.iso))): \(Self.escape(format(v)))</title></path></a>"
        }
        // Legend: five steps from 0 to the top of the scale, and the colour of no data.
        let y = Int(height) + 6
        for i in 0..<5 {
            let from = top * Double(i) / 5, to = top * Double(i + 1) / 5
            s += "<rect x=\"\(10 + i * 135)\" y=\"\(y)\" width=\"26\" height=\"18\" fill=\"\(Self.palette[i])\" stroke=\"#505a5f\" stroke-width=\"0.5\"/>"
            s += "<text x=\"\(42 + i * 135)\" y=\"\(y + 15)\" font-size=\"16\" fill=\"#0b0c0c\">\(Self.escape(format(from)))–\(Self.escape(format(to)))</text>"
        }
        s += "<rect x=\"685\" y=\"\(y)\" width=\"26\" height=\"18\" fill=\"#eeeeee\" stroke=\"#505a5f\" stroke-width=\"0.5\"/><text x=\"717\" y=\"\(y + 15)\" font-size=\"16\" fill=\"#0b0c0c\">\(Self.escape(noData))</text>"
        return s + "</svg>"
    }

    /// A horizontal bar chart of the values, largest first.
    static func bars(_ rows: [(String, Double?)], format: (Double?) -> String, label: String) -> String {
        let top = max(1, rows.compactMap { $0.1 }.max() ?? 1)
        let rowH = 22, labelW = 260, barW = 480
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(labelW + barW + 90) \(rows.count * rowH + 10)\" role=\"img\" aria-label=\"\(escape(label))\" class=\"bar-chart\">"
        for (i, r) in rows.enumerated() {
            let y = 5 + i * rowH
            let w = Int(Double(barW) * (r.1 ?? 0) / top)
            s += "<text x=\"\(labelW - 6)\" y=\"\(y + 15)\" font-size=\"13\" text-anchor=\"end\" fill=\"#0b0c0c\">\(escape(r.0))</text>"
            s += "<rect x=\"\(labelW)\" y=\"\(y + 3)\" width=\"\(max(w, r.1 == nil ? 0 : 1))\" height=\"15\" fill=\"#3182bd\"/>"
            s += "<text x=\"\(labelW + w + 6)\" y=\"\(y + 15)\" font-size=\"13\" fill=\"#0b0c0c\">\(escape(format(r.1)))</text>"
        }
        return s + "</svg>"
    }
}
