import FluentKit
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Plot
import Vapor

struct JobWorkerKey: StorageKey { typealias Value = BackgroundWorker }

extension Application {
    /// The runner of payrolls and report packs (imports have their own).
    var jobWorker: BackgroundWorker {
        if let w = storage[JobWorkerKey.self] { return w }
        let w = BackgroundWorker(name: "background", waiting: { try await JobStore(store: $0).waiting() }, busy: { ($0 as? JobStore.Failure) == .busy }) { app, id, owner in
            let store = app.jumys.store
            guard let job = try await JobStore(store: store).job(id) else { return }
            let work: JobStore.Work
            switch JobKind(rawValue: job.kind) {
            case .payroll: work = JobStore.payrollWork(store: store, env: { try await app.jumys.rules.current() })
            case .reportPack: work = ReportPack.work(services: app.jumys)
            case nil: return
            }
            try await JobStore(store: store).run(id, owner: owner, work: work)
        }
        storage[JobWorkerKey.self] = w
        lifecycle.use(w)
        return w
    }
}

/// A monthly report for the nation (by region) and for each region (by district), one workbook: what a ministry
/// analyst sends on, made in the background with its progress shown, a step per region.
enum ReportPack {
    static let reports: [Rules.Report] = [.roadmapMonthly, .programmeMonthly]

    static func subject(_ report: Rules.Report, _ month: Payroll.Month) -> String { "\(report.rawValue)/\(month)" }

    static func work(services: AppServices) -> JobStore.Work {
        { job, progress in
            let parts = job.subject.split(separator: "/").map(String.init)
            guard parts.count == 2, let report = Rules.Report(rawValue: parts[0]), reports.contains(report), let month = Payroll.Month(parts[1]) else {
                throw FieldErrors(errors: [FieldError("report", "choose_from_list")])
            }
            let p = job.parameters
            let lang = Lang(rawValue: p["lang"] ?? "ru") ?? .ru
            let regions = (p["regions"] ?? "").split(separator: ",").map(String.init)
            let national = p["national"] == "1"
            let store = MonitoringStore(store: services.store)
            let names = try await ProjectRoutes.Names.load(services.store.db, lang)
            func t(_ k: String, _ a: [String: String] = [:]) -> String { services.translator.t(k, lang, a) }
            let steps = regions.count + (national ? 1 : 0)
            try await progress(0, steps)
            func table(_ region: String?) async throws -> ReportTable {
                report == .programmeMonthly ? ReportTable(try await store.programmeMonthly(month: month, region: region))
                                            : ReportTable(try await store.roadmapMonthly(month: month, region: region))
            }
            let short = report == .programmeMonthly ? "G4" : "G1"
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("pack-\(UUID().uuidString).xlsx")
            defer { try? FileManager.default.removeItem(at: tmp) }
            let x = try XLSXWriter(url: tmp)
            var done = 0, lines = 0
            func sheet(_ name: String, _ tab: ReportTable, total: String) throws {
                try x.beginSheet(String(name.filter { !"[]:*?/\\".contains($0) }.prefix(31)), columnWidths: [32] + Array(repeating: 15, count: tab.columns.count - 1))
                x.header(tab.columns.map { t($0) }, wrapped: true)
                for l in tab.lines {
                    let place = tab.level == "region" ? names.region(l.place) : (Int(l.place).map(names.district) ?? l.place)
                    x.row([.text(place)] + l.values.map(\.cell))
                }
                x.row([.text(total)] + tab.total.map(\.cell), style: 1)
                lines += tab.lines.count
            }
            if national {
                try sheet("\(short) \(month) · \(t("limits.nation"))", try await table(nil), total: t("limits.nation"))
                done += 1
                try await progress(done, steps)
            }
            for r in regions {
                try Task.checkCancellation()
                try sheet(names.region(r), try await table(r), total: names.region(r))
                done += 1
                try await progress(done, steps)
            }
            try x.finish()
            let data = try Data(contentsOf: tmp)
            return (["report": report.rawValue, "month": month.description, "sheets": String(steps), "lines": String(lines), "bytes": String(data.count)],
                    (name: "\(short.lowercased())-\(month)-pack.xlsx", data: data))
        }
    }
}

/// Background work on the pages: a payroll run or a report pack is asked for, its page follows it with a progress
/// bar (refreshing by itself, no script), and ends on what was done and what happens next.
struct JobRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("jobs", use: list)
        routes.get("jobs", ":id", use: show)
        routes.get("jobs", ":id", "file", use: file)
        routes.post("reports", ":report", ":month", "pack", use: pack)
    }

    static func job(_ req: Request) async throws -> BackgroundJob {
        let user = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self), let j = try await JobStore(store: req.jumys.store).job(id, for: user) else { throw Abort(.notFound) }
        return j
    }

    static func stateTag(_ ctx: PageContext, _ j: BackgroundJob) -> Node<HTML.BodyContext> {
        .span(.class(j.state == "done" ? "tag ok" : (j.state == "failed" ? "tag late" : "tag")), .text(ctx.t("import.state.\(j.state)")))
    }

    static func title(_ ctx: PageContext, _ j: BackgroundJob) -> String {
        ctx.t("job.kind.\(j.kind)", ["subject": j.subject.replacingOccurrences(of: "/", with: " · ")
            .replacingOccurrences(of: "roadmap_monthly", with: "G1").replacingOccurrences(of: "programme_monthly", with: "G4")])
    }

    /// Asks for the job and sends the user to its page (the same job when it is already waiting or running).
    static func start(_ req: Request, _ kind: JobKind, subject: String, scope: String = "", params: [String: String] = [:]) async throws -> Response {
        let user = try req.requireUser()
        let (job, _) = try await JobStore(store: req.jumys.store).submit(kind, subject: subject, scope: scope, params: params, by: user)
        if !job.isFinished { req.application.jobWorker.kick(job.id, on: req.application) }
        return req.redirect(to: "/jobs/\(job.id)", redirectType: .normal)
    }

    @Sendable func list(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let jobs = try await JobStore(store: req.jumys.store).jobs(for: user)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("jobs.title"),
            .h1(.text(ctx.t("jobs.title"))),
            .p(.class("lead"), .text(ctx.t("jobs.lead"))),
            jobs.isEmpty ? .p(.class("empty"), .text(ctx.t("jobs.none"))) : .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("jobs.what"))), .th(.text(ctx.t("limits.state"))), .th(.text(ctx.t("jobs.when"))), .th(.text(ctx.t("jobs.by"))))),
                .tbody(.forEach(jobs) { j in
                    .tr(.td(.a(.href("/jobs/\(j.id)"), .text(Self.title(ctx, j)))), .td(Self.stateTag(ctx, j)),
                        .td(.text(String(j.created_at.prefix(16)).replacingOccurrences(of: "T", with: " "))), .td(.text(j.login)))
                }))
        ))
    }

    @Sendable func show(req: Request) async throws -> Response {
        let j = try await Self.job(req)
        let ctx = PageContext(req)
        let f = j.figures
        let body: Node<HTML.BodyContext>
        if j.state == "failed" {
            body = .div(.class("panel error-summary"), .attribute(named: "role", value: "alert"), .p(.text(ctx.t("error.field.\(j.problem ?? "job_failed")"))))
        } else if j.isFinished {
            switch JobKind(rawValue: j.kind) {
            case .payroll:
                let names = try await ProjectRoutes.Names.load(req, ctx.lang)
                let held = Int(f["held"] ?? "0") ?? 0
                let month = f["month"] ?? j.subject
                body = .group(
                    .div(.class("panel confirmation"), .h2(.text(ctx.t("jobs.payroll.done", ["month": month]))),
                         .p(.text(ctx.t("jobs.payroll.counts", ["placements": f["placements"] ?? "0", "added": f["added"] ?? "0",
                                                                 "total": Money(string: f["total"] ?? "0").map { $0.formatted() } ?? "0"])))),
                    held > 0 ? .div(.class("notice late"), .attribute(named: "role", value: "status"),
                                    .p(.text(ctx.t("payroll.held", ["count": String(held), "regions": (f["held_regions"] ?? "").split(separator: ",").map { names.region(String($0)) }.joined(separator: ", ")]))),
                                    .p(.a(.href("/limits?year=\(month.prefix(4))&direction=ep_training"), .text(ctx.t("limits.title"))))) : .empty,
                    .h2(.text(ctx.t("import.next"))),
                    .p(.text(ctx.t("jobs.payroll.next"))),
                    .p(.a(.class("button"), .href("/payroll?month=\(month)"), .text(ctx.t("jobs.payroll.open")))))
            case .reportPack:
                body = .group(
                    .div(.class("panel confirmation"), .h2(.text(ctx.t("jobs.pack.done"))),
                         .p(.text(ctx.t("jobs.pack.counts", ["sheets": f["sheets"] ?? "0", "lines": f["lines"] ?? "0"])))),
                    .p(.a(.class("button"), .href("/jobs/\(j.id)/file"), .text(ctx.t("jobs.pack.download")))),
                    .h2(.text(ctx.t("import.next"))),
                    .p(.text(ctx.t("jobs.pack.next"))))
            case nil:
                body = .empty
            }
        } else {
            body = .group(
                .p(.label(.for("progress"), .text(ctx.t("jobs.progress", ["done": String(j.done), "total": String(j.total)])))),
                .element(named: "progress", nodes: [.id("progress"), .attribute(named: "max", value: "100"), .attribute(named: "value", value: String(j.percent)), .text("\(j.percent)%")]),
                .p(.class("hint"), .text(ctx.t("jobs.running.hint"))))
        }
        let res = HTMLResponse.make(Layout.page(ctx, title: Self.title(ctx, j),
            .p(.a(.href("/jobs"), .text("← " + ctx.t("jobs.title")))),
            .h1(.text(Self.title(ctx, j))),
            .dl(.class("summary"),
                .dt(.text(ctx.t("limits.state"))), .dd(Self.stateTag(ctx, j)),
                .dt(.text(ctx.t("jobs.by"))), .dd(.text(j.login)),
                .dt(.text(ctx.t("jobs.when"))), .dd(.text(String(j.created_at.prefix(16)).replacingOccurrences(of: "T", with: " ")))),
            body
        ), status: .ok)
        if !j.isFinished { res.headers.replaceOrAdd(name: "Refresh", value: "2") }
        return res
    }

    @Sendable func file(req: Request) async throws -> Response {
        let j = try await Self.job(req)
        guard let f = try await JobStore(store: req.jumys.store).file(of: j.id) else { throw Abort(.notFound) }
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "application", subType: "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(f.name)\"")
        headers.replaceOrAdd(name: .cacheControl, value: "private, no-store")
        return Response(status: .ok, headers: headers, body: .init(data: f.data))
    }

    /// `POST /reports/{report}/{month}/pack`: the nation and every region the user may see, one workbook. The pack
    /// is the user's own (their scope, their language): asked for twice, it is one job.
    @Sendable func pack(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let report = req.parameters.get("report").flatMap(Rules.Report.init(rawValue:)), ReportPack.reports.contains(report),
              let month = req.parameters.get("month").flatMap(Payroll.Month.init) else { throw Abort(.notFound) }
        guard user.role != .lender else { throw Abort(.notFound) }
        let regions = try await MonitoringStore(store: req.jumys.store).regions(of: user)
        guard !regions.isEmpty else { throw Abort(.notFound) }
        let national = user.scope == .national
        let scope = national ? "national" : regions.joined(separator: ",")
        return try await Self.start(req, .reportPack, subject: ReportPack.subject(report, month), scope: "\(user.id):\(scope):\(req.lang.rawValue)",
                                    params: ["lang": req.lang.rawValue, "regions": regions.joined(separator: ","), "national": national ? "1" : "0"])
    }
}
