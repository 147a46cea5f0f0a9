import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

/// Monitoring on the web (G1, C7, H2): the reporting calendar of the user's regions; the Roadmap's monthly report
/// by region (the nation) or by district (a region), on screen, as XLSX and as CSV; the region's drafts and frozen,
/// versioned submissions, and the authorised body's acceptance or return.
struct ReportRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("reports", use: calendar)
        // The calendar as a file: /reports.xlsx and /reports.csv.
        for ext in ["xlsx", "csv"] { routes.get(.constant("reports.\(ext)"), use: calendar) }
        routes.get("reports", ":report", ":month", use: show)
        routes.post("reports", ":report", ":month", ":region", "save", use: save)
        routes.post("reports", ":report", ":month", ":region", "decide", use: decide)
    }

    typealias Errors = [(field: String, message: String)]
    static func store(_ req: Request) -> MonitoringStore { MonitoringStore(store: req.jumys.store) }

    static func statusTag(_ ctx: PageContext, _ s: MonitoringStore.Status) -> Node<HTML.BodyContext> {
        .span(.class("tag" + ([.overdue, .late, .returned].contains(s) ? " late" : s == .accepted ? " ok" : "")), .text(ctx.t("report_status.\(s.rawValue)")))
    }

    // MARK: the calendar

    /// The credit organisation a lender user works for: it sees and files its own C7 reports.
    static func lender(_ user: UserContext) -> Int? { user.role == .lender ? user.organisationID : nil }

    /// A filing's path: `/reports/{report}/{period}?region=…` (and `&filer=lender-ID` for a lender's).
    static func path(_ report: Rules.Report, _ period: String, _ filer: MonitoringStore.Filer, version: Int? = nil) -> String {
        "/reports/\(report.rawValue)/\(period)?region=\(filer.region)" + (filer.lender == nil ? "" : "&filer=\(filer.key)") + (version.map { "&version=\($0)" } ?? "")
    }

    @Sendable func calendar(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let today = req.jumys.store.today()
        let year = (try? req.query.get(String.self, at: "year")).flatMap { Int($0) }.flatMap { ProgrammeYears.range.contains($0) ? $0 : nil } ?? today.year
        let regions = try await Self.store(req).regions(of: user)
        let lines = try await Self.store(req).calendar(year: year, regions: regions, lender: Self.lender(user), env: try await req.jumys.rules.current(), today: today)
            .sorted { ($0.due, $0.region, $0.report.rawValue, $0.filer.key) > ($1.due, $1.region, $1.report.rawValue, $1.filer.key) }
        let names = try await ProjectRoutes.Names.load(req, ctx.lang, organisations: Set(lines.compactMap(\.filer.lender)))
        let counts = Dictionary(grouping: lines, by: \.status).mapValues(\.count)
        let path = req.url.path
        if path.hasSuffix(".xlsx") || path.hasSuffix(".csv") {
            // The calendar as a file: the due and submission dates as dates.
            let titles = [ctx.t("loans.reports.report"), ctx.t("reports.period"), ctx.t("filter.region"), ctx.t("reports.filer"), ctx.t("loans.due_on"), ctx.t("limits.state"),
                          ctx.t("reports.version"), ctx.t("reports.submitted_on")]
            let rows: [[XLSXWriter.Cell]] = lines.map { l in
                [.text(ctx.t("report_kind.\(l.report.rawValue)")), .text(l.period), .text(names.region(l.region)), .text(l.filer.lender.map { names.org($0) } ?? ctx.t("reports.filer.akimat")),
                 .date(l.due), .text(ctx.t("report_status.\(l.status.rawValue)")), l.latest.map { .number(String($0.version)) } ?? .text(""),
                 l.latest?.submitted_on.flatMap(CivilDate.init(iso:)).map { .date($0) } ?? .text("")]
            }
            return try ReportTable.sheet(format: path.hasSuffix(".xlsx") ? "xlsx" : "csv", name: "reports-\(year)", sheet: ctx.t("reports.title"), widths: [48, 10, 24, 34, 12, 14, 8, 12], titles: titles, rows: rows)
        }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("reports.title"),
            .h1(.text(ctx.t("reports.heading", ["year": String(year)]))),
            .p(.class("lead"), .text(ctx.t("reports.lead"))),
            .form(.method(.get), .action("/reports"), .class("filters"),
                .div(.class("field"), .label(.for("f-year"), .text(ctx.t("funds.year"))), .input(.type(.text), .id("f-year"), .name("year"), .value(String(year)), .class("narrow"))),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("filter.apply")))),
            .p(.class("print-links"), .a(.href("/reports.xlsx?year=\(year)"), .text(ctx.t("reports.download.xlsx"))), .text(" · "), .a(.href("/reports.csv?year=\(year)"), .text(ctx.t("reports.download.csv")))),
            .p(.forEach(MonitoringStore.Status.allCases.filter { counts[$0] != nil }) { s in .group(Self.statusTag(ctx, s), .text(" \(counts[s]!)  ")) }),
            lines.isEmpty ? .p(.class("empty"), .text(ctx.t("reports.none"))) : .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("loans.reports.report"))), .th(.text(ctx.t("reports.period"))), .th(.text(ctx.t("filter.region"))), .th(.text(ctx.t("reports.filer"))),
                           .th(.text(ctx.t("loans.due_on"))), .th(.text(ctx.t("limits.state"))), .th(.text(ctx.t("reports.version"))))),
                .tbody(.forEach(lines) { l in
                    .tr(.td(.a(.href(Self.path(l.report, l.period, l.filer)), .text(ctx.t("report_kind.\(l.report.rawValue)")))), .td(.text(l.period)),
                        .td(.text(names.region(l.region))), .td(.text(l.filer.lender.map { names.org($0) } ?? ctx.t("reports.filer.akimat"))), .td(.text(l.due.iso)), .td(Self.statusTag(ctx, l.status)),
                        .td(.text(l.latest.map { "v\($0.version)" + ($0.submitted_on.map { " · " + $0 } ?? "") } ?? "—")))
                }))
        ))
    }

    // MARK: a report

    @Sendable func show(req: Request) async throws -> Response { try await page(req, errors: [], status: .ok) }

    /// `/reports/roadmap_monthly/2021-04` (the nation by region), `?region=KZ-35` (the region by district),
    /// `.xlsx` / `.csv` at the end of the month for the file, `&version=2` for a frozen submission. The quarterly and
    /// half-year reports take `2021-Q2` and `2021-H1`; a lender's reports `&filer=lender-ID`.
    func page(_ req: Request, errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        guard let report = req.parameters.get("report").flatMap(Rules.Report.init(rawValue:)) else { throw Abort(.notFound) }
        var periodText = req.parameters.get("month") ?? ""
        var format = "html"
        for ext in ["xlsx", "csv"] where periodText.hasSuffix(".\(ext)") { format = ext; periodText = String(periodText.dropLast(ext.count + 1)) }
        guard let period = MonitoringStore.Period(periodText, for: report) else { throw Abort(.notFound) }
        let store = Self.store(req)
        let lender = Self.lender(user)
        let visible = lender == nil ? try await Self.store(req).regions(of: user) : []
        // The region of a page comes in the query; a form posted to /reports/{report}/{month}/{region}/… has it in the path.
        let region = ((try? req.query.get(String.self, at: "region")) ?? req.parameters.get("region")).flatMap { RegionCode($0)?.iso }
        let filerKey = (try? req.query.get(String.self, at: "filer")) ?? (try? req.content.get(String.self, at: "filer")) ?? "akimat"
        let filer: MonitoringStore.Filer?
        if let region {
            guard let f = MonitoringStore.Filer(region: region, key: filerKey), (f.lender != nil) == MonitoringStore.filedByLender(report) else { throw Abort(.notFound) }
            // A lender sees its own filings; the others those of their regions.
            if let lender { guard f.lender == lender else { throw Abort(.notFound) } } else { guard visible.contains(region) else { throw Abort(.notFound) } }
            filer = f
        } else {
            filer = nil
            guard user.scope == .national, [.roadmapMonthly, .roadmapCommission, .programmeMonthly].contains(report) else {
                guard let own = visible.first, !MonitoringStore.filedByLender(report) else { throw Abort(.notFound) }
                return req.redirect(to: "/reports/\(report.rawValue)/\(period)?region=\(own)")
            }
        }
        // Regions, districts and the lender filing, read once for the whole page.
        let names = try await ProjectRoutes.Names.load(req, ctx.lang, organisations: Set([filer?.lender].compactMap { $0 }))
        guard [.roadmapMonthly, .roadmapCommission, .programmeMonthly].contains(report) else {
            // The quarterly report carries the G1 figures of its months; the loan reports are the months' C7 figures.
            let links: Node<HTML.BodyContext> = .ul(.forEach(period.monthsCovered) { m in
                .li(report == .roadmapQuarterly
                    ? .a(.href("/reports/roadmap_monthly/\(m)?region=\(region ?? "")"), .text(ctx.t("report_kind.roadmap_monthly") + " · " + m.description))
                    : .a(.href("/loans/reports?month=\(m)"), .text(ctx.t("loans.reports") + " · " + m.description)))
            })
            return try await submissionsPage(req, ctx, names, report: report, period: period, filer: filer!, user: user, body: links, errors: errors, status: status)
        }
        let month = period.monthsCovered[0]
        let version = (try? req.query.get(String.self, at: "version")).flatMap { Int($0) }
        var frozen: MonitoringStore.SubmissionRow? = nil
        if let version, let filer { frozen = try await store.submissions(report: report, period: period.description, filer: filer).first { $0.version == version } }
        let table: ReportTable
        var byWork: MonitoringStore.G1Line? = nil
        if report != .programmeMonthly {
            let g1: MonitoringStore.G1Report
            if let frozen { g1 = try JSONDecoder().decode(MonitoringStore.G1Report.self, from: Data(frozen.snapshot.utf8)) } else { g1 = try await store.roadmapMonthly(month: month, region: region) }
            table = ReportTable(g1); byWork = g1.total
        } else {
            let g4: MonitoringStore.G4Report
            if let frozen { g4 = try JSONDecoder().decode(MonitoringStore.G4Report.self, from: Data(frozen.snapshot.utf8)) } else { g4 = try await store.programmeMonthly(month: month, region: region) }
            table = ReportTable(g4)
        }
        func placeName(_ p: String) -> String { table.level == "region" ? names.region(p) : (Int(p).map(names.district) ?? p) }
        let totalName = region.map { names.region($0) } ?? ctx.t("limits.nation")
        let title = ctx.t("report_kind.\(report.rawValue)")
        let file = "\(report == .programmeMonthly ? "g4" : "g1")-\(month)\(region.map { "-\($0)" } ?? "")"
        if format != "html" {
            return try table.file(format: format, sheet: "\(report == .programmeMonthly ? "G4" : "G1") \(month)", columns: table.columns.map { ctx.t($0) }, place: placeName, totalName: totalName, name: file,
                                  extra: byWork.map { w in (ctx.t("reports.g1.by_work_type"), [ctx.t("project.work_type"), ctx.t("reports.g1.started"), ctx.t("reports.g1.finished")],
                                                            WorkType.allCases.map { [ctx.t("work_type.\($0.rawValue)"), String(w.startedByWork[$0.rawValue] ?? 0), String(w.finishedByWork[$0.rawValue] ?? 0)] }) })
        }
        func row(_ name: Node<HTML.BodyContext>, _ cells: [ReportTable.Value], bold: Bool) -> Node<HTML.TableContext> {
            .tr(bold ? .th(name) : .td(name), .forEach(cells) { c in .td(.class("num"), bold ? .strong(.text(c.display)) : .text(c.display)) })
        }
        let query = region.map { "?region=\($0)" } ?? ""
        let html: Node<HTML.BodyContext> = .table(.class("data"),
            .caption(.text(ctx.t("reports.g1.caption", ["month": month.description, "place": totalName]))),
            .thead(.tr(.forEach(table.columns) { c in .th(.text(ctx.t(c))) })),
            .tbody(.forEach(table.lines) { l in
                row(table.level == "region" ? .a(.href("/reports/\(report.rawValue)/\(month)?region=\(l.place)"), .text(placeName(l.place))) : .text(placeName(l.place)), l.values, bold: false)
            }),
            .tfoot(row(.text(totalName), table.total, bold: true)))
        let extra: Node<HTML.BodyContext> = byWork.map { w in .table(.class("data"),
            .caption(.text(ctx.t("reports.g1.by_work_type"))),
            .thead(.tr(.th(.text(ctx.t("project.work_type"))), .th(.class("num"), .text(ctx.t("reports.g1.started"))), .th(.class("num"), .text(ctx.t("reports.g1.finished"))))),
            .tbody(.forEach(WorkType.allCases) { t in
                .tr(.td(.text(ctx.t("work_type.\(t.rawValue)"))), .td(.class("num"), .text(String(w.startedByWork[t.rawValue] ?? 0))), .td(.class("num"), .text(String(w.finishedByWork[t.rawValue] ?? 0))))
            })) } ?? .empty
        let body: Node<HTML.BodyContext> = .group(
            region == nil ? .empty : .p(.a(.href("/reports/\(report.rawValue)/\(month)"), .text("← " + ctx.t("limits.nation")))),
            version.map { .p(.class("notice"), .text(ctx.t("reports.frozen", ["version": String($0)]))) } ?? .empty,
            .p(.class("print-links"), .a(.href("/reports/\(report.rawValue)/\(month).xlsx\(query)"), .text(ctx.t("reports.download.xlsx"))), .text(" · "),
               .a(.href("/reports/\(report.rawValue)/\(month).csv\(query)"), .text(ctx.t("reports.download.csv")))),
            html, extra,
            // The whole pack (the nation and each region by district) is made in the background with its progress.
            frozen != nil || lender != nil ? .empty : .form(.method(.post), .action("/reports/\(report.rawValue)/\(month)/pack"), .class("panel"), ctx.csrfField(),
                .h2(.text(ctx.t("jobs.pack.title"))), .p(.class("hint"), .text(ctx.t(user.scope == .national ? "jobs.pack.hint.national" : "jobs.pack.hint.region"))),
                .button(.type(.submit), .class("button secondary"), .text(ctx.t("jobs.pack.button")))))
        guard let filer else {
            return HTMLResponse.make(Layout.page(ctx, title: title,
                .p(.a(.href("/reports"), .text("← " + ctx.t("reports.title")))),
                .h1(.text(title + " · " + month.description)), .p(.class("lead"), .text(ctx.t("reports.\(report == .programmeMonthly ? "g4" : "g1").lead"))), body), status: status)
        }
        return try await submissionsPage(req, ctx, names, report: report, period: period, filer: filer, user: user, body: body, errors: errors, status: status)
    }

    /// A filer's report of a period: the figures, the versions submitted, and the next step for the user's body.
    func submissionsPage(_ req: Request, _ ctx: PageContext, _ names: ProjectRoutes.Names, report: Rules.Report, period: MonitoringStore.Period, filer: MonitoringStore.Filer, user: UserContext, body: Node<HTML.BodyContext>,
                         errors: Errors, status: HTTPResponseStatus) async throws -> Response {
        let store = Self.store(req)
        let versions = try await store.submissions(report: report, period: period.description, filer: filer)
        guard let due = try? store.due(report, period, env: try await req.jumys.rules.current()) else { throw Abort(.notFound) }
        let mayFile = try await store.files(report, for: filer, user: user) && versions.first?.state != "accepted" && period.last < req.jumys.store.today()
        let mayDecide = try await store.decides(report, for: filer, user: user) && versions.first?.state == "submitted"
        let k = FormKit(ctx: ctx, errors: errors, values: [:])
        let frozenLinks = [.roadmapMonthly, .roadmapCommission, .programmeMonthly].contains(report)
        let history: Node<HTML.BodyContext> = versions.isEmpty ? .p(.class("empty"), .text(ctx.t("reports.no_versions"))) : .table(.class("data"),
            .caption(.text(ctx.t("reports.versions"))),
            .thead(.tr(.th(.text(ctx.t("reports.version"))), .th(.text(ctx.t("limits.state"))), .th(.text(ctx.t("reports.by"))), .th(.text(ctx.t("reports.submitted_on"))), .th(.text(ctx.t("step.decision"))))),
            .tbody(.forEach(versions) { v in
                .tr(.td(frozenLinks ? .a(.href(Self.path(report, period.description, filer, version: v.version)), .text("v\(v.version)")) : .text("v\(v.version)")),
                    .td(Self.statusTag(ctx, v.status)), .td(.text(v.by_login)), .td(.text(v.submitted_on ?? "—")),
                    .td(.text([v.decided_on, v.reason].compactMap { $0 }.joined(separator: " · "))))
            }))
        let action = "/reports/\(report.rawValue)/\(period)/\(filer.region)"
        let filerField: Node<HTML.FormContext> = .input(.type(.hidden), .name("filer"), .value(filer.key))
        let who = filer.lender.map { names.org($0) } ?? names.region(filer.region)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("report_kind.\(report.rawValue)"),
            .p(.a(.href("/reports"), .text("← " + ctx.t("reports.title")))),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("report_kind.\(report.rawValue)") + " · " + who + " · " + period.description)),
            .p(.class("lead"), .text(ctx.t("reports.due", ["date": due.iso]) + " " + ctx.t("reports.decider.\(MonitoringStore.decider(report).rawValue)"))),
            !mayFile ? .empty : .form(.method(.post), .action(action + "/save"), .class("panel"), ctx.csrfField(), filerField,
                .h2(.text(ctx.t("reports.file"))), .p(.class("hint"), .text(ctx.t("reports.file.hint"))),
                .button(.type(.submit), .name("submit"), .value("true"), .class("button"), .text(ctx.t("reports.submit"))), .text(" "),
                .button(.type(.submit), .name("submit"), .value("false"), .class("button secondary"), .text(ctx.t("reports.draft")))),
            !mayDecide ? .empty : .form(.method(.post), .action(action + "/decide"), .class("panel"), ctx.csrfField(), filerField,
                .h2(.text(ctx.t("reports.decide"))), k.text("reason", ctx.t("report.reason")),
                .button(.type(.submit), .name("accept"), .value("true"), .class("button"), .text(ctx.t("reports.accept"))), .text(" "),
                .button(.type(.submit), .name("accept"), .value("false"), .class("button secondary"), .text(ctx.t("reports.return")))),
            history, body
        ), status: status)
    }

    /// The report, period and filer a form posted to `/reports/{report}/{period}/{region}/…` names.
    static func posted(_ req: Request, _ f: [String: String]) throws -> (Rules.Report, MonitoringStore.Period, MonitoringStore.Filer) {
        guard let report = req.parameters.get("report").flatMap(Rules.Report.init(rawValue:)), let period = req.parameters.get("month").flatMap({ MonitoringStore.Period($0, for: report) }),
              let region = req.parameters.get("region").flatMap({ RegionCode($0)?.iso }), let filer = MonitoringStore.Filer(region: region, key: f["filer"] ?? "akimat") else { throw Abort(.notFound) }
        return (report, period, filer)
    }

    @Sendable func save(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        let (report, period, filer) = try Self.posted(req, f)
        return try await ProjectRoutes.handle(req, {
            try await Self.store(req).save(report: report, period: period, filer: filer, submit: f["submit"] == "true", env: try await req.jumys.rules.current(), by: user)
            return req.redirect(to: Self.path(report, period.description, filer), redirectType: .normal)
        }, onErrors: { try await page(req, errors: $0, status: .unprocessableEntity) })
    }

    @Sendable func decide(req: Request) async throws -> Response {
        let user = try CaseworkRoutes.requireWriter(req)
        let f = try CaseworkRoutes.form(req)
        let (report, period, filer) = try Self.posted(req, f)
        return try await ProjectRoutes.handle(req, {
            try await Self.store(req).decide(report: report, period: period, filer: filer, accept: f["accept"] == "true", reason: f["reason"] ?? "", by: user)
            return req.redirect(to: Self.path(report, period.description, filer), redirectType: .normal)
        }, onErrors: { try await page(req, errors: $0, status: .unprocessableEntity) })
    }

}

/// A generated report as a table: its columns, a line per place, the total (the sum of the lines) — shown on screen,
/// written as XLSX (bold wrapped header, numbers as numbers, money with two decimals, widths; the total in bold) or
/// as CSV (values that could run as formulas neutralised).
struct ReportTable {
    enum Value {
        case count(Int), money(Int64)
        var display: String { switch self { case .count(let n): String(n); case .money(let t): ProjectRoutes.tenge(t) } }
        var cell: XLSXWriter.Cell { switch self { case .count(let n): .number(String(n)); case .money(let t): .amount(Money(tiyn: t).decimalString) } }
    }
    let level: String
    let columns: [String]
    let lines: [(place: String, values: [Value])]
    let total: [Value]

    init(_ g1: MonitoringStore.G1Report) {
        func v(_ l: MonitoringStore.G1Line) -> [Value] {
            [.count(l.contractors), .count(l.inWorks), .count(l.started), .count(l.finished), .money(l.workDone), .count(l.jobs), .count(l.placed), .money(l.averageWage)]
        }
        level = g1.level
        columns = ["reports.g1.place", "reports.g1.contractors", "reports.g1.in_works", "reports.g1.started", "reports.g1.finished", "reports.g1.work_done", "reports.g1.jobs", "reports.g1.placed", "reports.g1.average_wage"]
        lines = g1.lines.map { ($0.place, v($0)) }
        total = v(g1.total)
    }

    init(_ g4: MonitoringStore.G4Report) {
        func v(_ l: MonitoringStore.G4Line) -> [Value] {
            [.count(l.participants), .count(l.included[0]), .count(l.included[1]), .count(l.included[2]), .count(l.placed), .count(l.trained), .count(l.relocated),
             .money(l.subsidies), .money(l.relocation), .money(l.microcredits), .money(l.moneyUsed)]
        }
        level = g4.level
        columns = ["reports.g1.place", "reports.g4.participants", "reports.g4.direction1", "reports.g4.direction2", "reports.g4.direction3", "reports.g4.placed", "reports.g4.trained",
                   "reports.g4.relocated", "reports.g4.subsidies", "reports.g4.relocation", "reports.g4.microcredits", "reports.g4.money_used"]
        lines = g4.lines.map { ($0.place, v($0)) }
        total = v(g4.total)
    }

    /// The C7 figures of a month: a line per region and credit organisation (keyed `REGION#ORGANISATION`).
    init(c7 rows: [CreditStore.ReportLine]) {
        func v(_ r: CreditStore.ReportLine) -> [Value] {
            [.count(r.issued), .money(r.issued_amount), .count(r.jobs_promised), .money(r.disbursed_amount), .count(r.use_confirmed), .count(r.use_overdue), .count(r.jobs_confirmed), .count(r.demanded)]
        }
        level = "lender"
        columns = ["filter.region", "loans.reports.issued", "limits.amount", "loans.jobs_promised", "loans.disbursed", "loans.reports.use_confirmed", "loan_flag.target_use_overdue",
                   "loans.reports.jobs_confirmed", "loans.demanded"]
        lines = rows.map { ("\($0.region_iso)#\($0.lender_id)", v($0)) }
        var t: [Int64] = Array(repeating: 0, count: 8)
        for r in rows {
            for (i, x) in v(r).enumerated() { switch x { case .count(let n): t[i] += Int64(n); case .money(let m): t[i] += m } }
        }
        total = t.enumerated().map { [1, 3].contains($0.offset) ? .money($0.element) : .count(Int($0.element)) }
    }

    /// A table of cells as a file: XLSX (a bold wrapped header, typed cells, the total in bold, an optional second
    /// sheet) or CSV (the same lines and total, dates as ISO, values that could run as formulas neutralised).
    static func sheet(format: String, name: String, sheet: String, widths: [Int], titles: [String], rows: [[XLSXWriter.Cell]], total: [XLSXWriter.Cell]? = nil,
                      extra: (title: String, header: [String], rows: [[String]])? = nil) throws -> Response {
        func safe(_ title: String) -> String { String(title.filter { !"[]:*?/\\".contains($0) }.prefix(31)) }
        var headers = HTTPHeaders()
        let data: Data
        if format == "xlsx" {
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).xlsx")
            defer { try? FileManager.default.removeItem(at: tmp) }
            let x = try XLSXWriter(url: tmp)
            try x.beginSheet(safe(sheet), columnWidths: widths)
            x.header(titles, wrapped: true)
            for r in rows { x.row(r) }
            if let total { x.row(total, style: 1) }
            if let extra {
                try x.beginSheet(safe(extra.title), columnWidths: [34, 12, 12])
                x.header(extra.header)
                for r in extra.rows { x.row([.text(r[0])] + r.dropFirst().map { .number($0) }) }
            }
            try x.finish()
            data = try Data(contentsOf: tmp)
            headers.contentType = HTTPMediaType(type: "application", subType: "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        } else {
            func plain(_ c: XLSXWriter.Cell) -> String {
                switch c { case .text(let s), .number(let s), .amount(let s), .wrapped(let s): s; case .date(let d): d.iso }
            }
            var text = titles.map(PaymentList.csvField).joined(separator: ",") + "\r\n"
            for r in rows + (total.map { [$0] } ?? []) { text += r.map { PaymentList.csvField(plain($0)) }.joined(separator: ",") + "\r\n" }
            data = Data(text.utf8)
            headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        }
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(name).\(format)\"")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    /// The report as a file: a line per place, the total in bold, and for G1 the sheet by work type.
    func file(format: String, sheet: String, columns titles: [String], place: (String) -> String, totalName: String, name: String,
              extra: (title: String, header: [String], rows: [[String]])?) throws -> Response {
        try Self.sheet(format: format, name: name, sheet: sheet, widths: [32] + Array(repeating: 15, count: titles.count - 1), titles: titles,
                       rows: lines.map { [.text(place($0.place))] + $0.values.map(\.cell) }, total: [.text(totalName)] + total.map(\.cell), extra: extra)
    }
}
