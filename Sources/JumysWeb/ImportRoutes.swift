import Foundation
import JumysDomain
import JumysStore
import Plot
import Vapor

/// Runs background jobs — imports, payrolls, report packs — the one just asked for at once, and every few seconds any
/// job waiting (queued, or left running by a process that died), so a restart finishes what a crash interrupted.
/// Several instances may run one each: a job's claim in the database lets one runner at a time work on it.
final class BackgroundWorker: LifecycleHandler, @unchecked Sendable {
    let owner = ImportStore.runnerName()
    let name: String
    let waiting: @Sendable (Store) async throws -> [Int]
    /// Runs a job to its end; throws `busy` (ignored) when another runner holds it.
    let run: @Sendable (Application, Int, String) async throws -> Void
    let busy: @Sendable (any Error) -> Bool
    private let lock = NSLock()
    private var loop: Task<Void, Never>?
    private var runs: [Int: Task<Void, Never>] = [:]
    private var stoppingFlag = false
    /// The server is stopping: no new job starts here, and the jobs running stop between steps (to resume later).
    var stopping: Bool { lock.withLock { stoppingFlag } }

    init(name: String, waiting: @escaping @Sendable (Store) async throws -> [Int], busy: @escaping @Sendable (any Error) -> Bool,
         run: @escaping @Sendable (Application, Int, String) async throws -> Void) {
        self.name = name; self.waiting = waiting; self.busy = busy; self.run = run
    }

    func didBootAsync(_ app: Application) async throws {
        let store = app.jumys.store
        loop = Task { [weak self, weak app] in
            while !Task.isCancelled {
                if let self, let app, let ids = try? await self.waiting(store) { for id in ids { self.kick(id, on: app) } }
                try? await Task.sleep(for: .seconds(5))
            }
        }
    }

    /// Stops between steps: the jobs resume at the next start.
    func shutdownAsync(_ app: Application) async {
        let (l, r) = lock.withLock { stoppingFlag = true; return (loop, Array(runs.values)) }
        l?.cancel()
        for t in r { t.cancel() }
        for t in r { await t.value }
    }

    /// Starts the job in this process unless it already runs here; returns the task that runs it.
    @discardableResult
    func kick(_ id: Int, on app: Application) -> Task<Void, Never> {
        lock.withLock {
            if let t = runs[id] { return t }
            if stoppingFlag { return Task {} }
            let t = Task { [owner, name, run, busy] in
                do { try await run(app, id, owner) } catch {
                    if !(error is CancellationError), !busy(error) {
                        app.jumys.store.logger.error("\(name) job \(id) stopped: \(String(reflecting: type(of: error)))")
                    }
                }
                self.lock.withLock { self.runs[id] = nil }
            }
            runs[id] = t
            return t
        }
    }
}

struct ImportWorkerKey: StorageKey { typealias Value = BackgroundWorker }

extension Application {
    var importWorker: BackgroundWorker {
        if let w = storage[ImportWorkerKey.self] { return w }
        let w = BackgroundWorker(name: "import", waiting: { try await ImportStore(store: $0).waiting() }, busy: { ($0 as? ImportStore.Failure) == .busy }) { app, id, owner in
            try await ImportStore(store: app.jumys.store).run(id, owner: owner)
        }
        storage[ImportWorkerKey.self] = w
        lifecycle.use(w)
        return w
    }
}

/// Bulk import pages (`/imports`) and API (`/api/v1/imports`): a file goes in, a job runs in the background with its
/// progress on the page, and ends with what was added and a report of every bad row.
struct ImportRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("imports", use: list)
        routes.on(.POST, "imports", body: .collect(maxSize: ByteCount(value: ImportStore.maxBytes)), use: upload)
        routes.get("imports", ":id", use: show)
        routes.get("imports", ":id", "errors.csv", use: errorReport)
        let v1 = routes.grouped("api", "v1")
        v1.get("imports", use: apiList)
        v1.on(.POST, "imports", ":kind", body: .collect(maxSize: ByteCount(value: ImportStore.maxBytes)), use: apiSubmit)
        v1.get("imports", ":id", use: apiJob)
        v1.get("imports", ":id", "errors", use: apiErrors)
    }

    static func kinds(for user: UserContext) -> [ImportKind] { ImportKind.allCases.filter { $0.allowed(for: user) } }

    // MARK: pages

    @Sendable func list(req: Request) async throws -> Response {
        try await listPage(req, values: [:], errors: [], status: .ok)
    }

    func listPage(_ req: Request, values: [String: String], errors: [(field: String, message: String)], status: HTTPResponseStatus) async throws -> Response {
        let user = try req.requireUser()
        let kinds = Self.kinds(for: user)
        guard !kinds.isEmpty else { throw Abort(.forbidden) }
        let ctx = PageContext(req)
        let jobs = try await ImportStore(store: req.jumys.store).jobs(for: user, limit: 50)
        let k = FormKit(ctx: ctx, errors: errors, values: values.isEmpty ? ["kind": kinds[0].rawValue] : values)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("import.title"),
            Layout.errorSummary(ctx, errors),
            .h1(.text(ctx.t("import.title"))),
            .p(.class("lead"), .text(ctx.t("import.lead"))),
            .form(.method(.post), .action("/imports"), .attribute(named: "enctype", value: "multipart/form-data"), ctx.csrfField(), .class("narrow"),
                k.select("kind", ctx.t("import.kind"), options: kinds.map { ($0.rawValue, ctx.t("import.kind.\($0.rawValue)")) }, blank: false),
                .div(.class(k.has("file") ? "field has-error" : "field"),
                     .label(.for("file"), .text(ctx.t("import.file"))),
                     .p(.class("hint"), .text(ctx.t("import.file.hint", ["max": String(ImportStore.maxBytes >> 20)]))),
                     k.error("file"),
                     .input(.type(.file), .id("file"), .name("file"), .attribute(named: "accept", value: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
                .button(.type(.submit), .class("button"), .text(ctx.t("import.send")))),
            .details(.summary(.text(ctx.t("import.columns"))), .forEach(kinds) { kind in
                .group(.h2(.class("small"), .text(ctx.t("import.kind.\(kind.rawValue)"))),
                       .p(.text(ctx.t("import.columns.\(kind.rawValue)"))),
                       .pre(.class("sample"), .text(kind.columns.joined(separator: ";"))))
            }),
            .h2(.text(ctx.t("import.history"))),
            jobs.isEmpty ? .p(.text(ctx.t("import.none"))) : .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("import.file"))), .th(.text(ctx.t("import.kind"))), .th(.text(ctx.t("limits.state"))), .th(.class("num"), .text(ctx.t("import.added"))),
                           .th(.class("num"), .text(ctx.t("import.present"))), .th(.class("num"), .text(ctx.t("import.failed"))), .th(.text(ctx.t("import.when"))))),
                .tbody(.forEach(jobs) { j in
                    .tr(.td(.a(.href("/imports/\(j.id)"), .text(j.file_name))), .td(.text(ctx.t("import.kind.\(j.kind)"))), .td(Self.stateTag(ctx, j)),
                        .td(.class("num"), .text(String(j.added))), .td(.class("num"), .text(String(j.present))), .td(.class("num"), .text(String(j.failed))),
                        .td(.text(String(j.created_at.prefix(16)).replacingOccurrences(of: "T", with: " "))))
                }))
        ), status: status)
    }

    static func stateTag(_ ctx: PageContext, _ j: ImportJob) -> Node<HTML.BodyContext> {
        let cls = j.state == "done" ? (j.failed > 0 ? "tag late" : "tag ok") : (j.state == "failed" ? "tag late" : "tag")
        return .span(.class(cls), .text(ctx.t(j.state == "done" && j.failed > 0 ? "import.state.done_errors" : "import.state.\(j.state)")))
    }

    struct Upload: Content { var kind: String?; var file: File? }

    @Sendable func upload(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        let form = try? req.content.decode(Upload.self)
        let values = ["kind": form?.kind ?? ""]
        guard let kind = form?.kind.flatMap(ImportKind.init(rawValue:)), kind.allowed(for: user) else {
            return try await listPage(req, values: values, errors: [("kind", ctx.t("error.field.choose_from_list"))], status: .unprocessableEntity)
        }
        guard let file = form?.file, file.data.readableBytes > 0 else {
            return try await listPage(req, values: values, errors: [("file", ctx.t("error.field.file_empty"))], status: .unprocessableEntity)
        }
        do {
            let (job, _) = try await ImportStore(store: req.jumys.store).submit(kind, fileName: file.filename, data: Data(buffer: file.data), by: user)
            if !job.isFinished { req.application.importWorker.kick(job.id, on: req.application) }
            return req.redirect(to: "/imports/\(job.id)", redirectType: .normal)
        } catch let e as FieldErrors {
            return try await listPage(req, values: values, errors: ctx.messages(e), status: .unprocessableEntity)
        }
    }

    static func job(_ req: Request) async throws -> ImportJob {
        let user = try req.requireUser()
        guard let id = req.parameters.get("id", as: Int.self), let j = try await ImportStore(store: req.jumys.store).job(id, for: user) else { throw Abort(.notFound) }
        return j
    }

    @Sendable func show(req: Request) async throws -> Response {
        let j = try await Self.job(req)
        let ctx = PageContext(req)
        let pct = j.rows_total == 0 ? 100 : j.rows_done * 100 / j.rows_total
        let body: Node<HTML.BodyContext>
        if j.state == "failed" {
            body = .div(.class("panel error-summary"), .p(.text(ctx.t("error.field.\(j.problem ?? "file_unreadable")"))))
        } else if j.isFinished {
            body = .group(
                .div(.class("panel confirmation"), .h2(.text(ctx.t("import.done"))),
                     .p(.text(ctx.t("import.done.counts", ["added": String(j.added), "present": String(j.present), "failed": String(j.failed), "total": String(j.rows_total)])))),
                j.failed > 0 ? .p(.a(.class("button secondary"), .href("/imports/\(j.id)/errors.csv"), .text(ctx.t("import.errors.download")))) : .empty,
                .h2(.text(ctx.t("import.next"))),
                .p(.text(ctx.t(j.failed > 0 ? "import.next.fix" : "import.next.none"))),
                .p(.a(.href("/imports"), .text(ctx.t("import.another")))))
        } else {
            body = .group(
                .p(.label(.for("progress"), .text(ctx.t("import.progress", ["done": String(j.rows_done), "total": String(j.rows_total)])))),
                .element(named: "progress", nodes: [.id("progress"), .attribute(named: "max", value: "100"), .attribute(named: "value", value: String(pct)), .text("\(pct)%")]),
                .p(.class("hint"), .text(ctx.t("import.running.hint"))))
        }
        let res = HTMLResponse.make(Layout.page(ctx, title: ctx.t("import.title"),
            .p(.a(.href("/imports"), .text("← " + ctx.t("import.title")))),
            .h1(.text(j.file_name)),
            .dl(.class("summary"),
                .dt(.text(ctx.t("import.kind"))), .dd(.text(ctx.t("import.kind.\(j.kind)"))),
                .dt(.text(ctx.t("limits.state"))), .dd(Self.stateTag(ctx, j)),
                .dt(.text(ctx.t("import.when"))), .dd(.text(String(j.created_at.prefix(16)).replacingOccurrences(of: "T", with: " ")))),
            body
        ), status: .ok)
        // The page follows a running job by itself (no script needed).
        if !j.isFinished { res.headers.replaceOrAdd(name: "Refresh", value: "2") }
        return res
    }

    @Sendable func errorReport(req: Request) async throws -> Response {
        let j = try await Self.job(req)
        let imports = ImportStore(store: req.jumys.store), translator = req.jumys.translator, lang = req.lang
        let res = Response(status: .ok)
        res.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        res.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"import-\(j.id)-errors.csv\"")
        res.body = .init(asyncStream: { writer in
            do {
                try await ImportReport.write(job: j.id, imports: imports, translator: translator, lang: lang) { try await writer.write(.buffer(ByteBuffer(string: $0))) }
                try await writer.write(.end)
            } catch { try await writer.write(.error(error)) }
        })
        return res
    }

    // MARK: API

    struct JobJSON: Content {
        let id: Int; let kind: String; let file_name: String; let state: String; let problem: String?
        let rows_total: Int; let rows_done: Int; let added: Int; let present: Int; let failed: Int
        let created_at: String; let finished_at: String?
        init(_ j: ImportJob) {
            id = j.id; kind = j.kind; file_name = j.file_name; state = j.state; problem = j.problem; rows_total = j.rows_total; rows_done = j.rows_done
            added = j.added; present = j.present; failed = j.failed; created_at = j.created_at; finished_at = j.finished_at
        }
        func encode(to encoder: any Encoder) throws {
            enum K: String, CodingKey { case id, kind, file_name, state, problem, rows_total, rows_done, added, present, failed, created_at, finished_at }
            var c = encoder.container(keyedBy: K.self)
            try c.encode(id, forKey: .id); try c.encode(kind, forKey: .kind); try c.encode(file_name, forKey: .file_name); try c.encode(state, forKey: .state)
            try c.encode(problem, forKey: .problem); try c.encode(rows_total, forKey: .rows_total); try c.encode(rows_done, forKey: .rows_done)
            try c.encode(added, forKey: .added); try c.encode(present, forKey: .present); try c.encode(failed, forKey: .failed)
            try c.encode(created_at, forKey: .created_at); try c.encode(finished_at, forKey: .finished_at)
        }
    }

    @Sendable func apiList(req: Request) async throws -> APIRoutes.ListJSON<JobJSON> {
        let user = try req.requireUser()
        let limit = try LabourAPIRoutes.limit(req), before = try LabourAPIRoutes.cursor(req)
        let jobs = try await ImportStore(store: req.jumys.store).jobs(for: user, limit: limit + 1, before: before)
        return APIRoutes.ListJSON(items: jobs.prefix(limit).map(JobJSON.init), next_cursor: jobs.count > limit ? String(jobs[limit - 1].id) : nil)
    }

    /// The file is the request's body (CSV or XLSX); `X-File-Name` names it. 202 with the new job, 200 with the job
    /// this file already made.
    @Sendable func apiSubmit(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard let kind = req.parameters.get("kind").flatMap(ImportKind.init(rawValue:)) else { throw Abort(.notFound) }
        guard kind.allowed(for: user) else { throw Abort(.forbidden) }
        guard let body = req.body.data, body.readableBytes > 0 else { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError("file", "file_empty")])) }
        let name = req.headers.first(name: "X-File-Name") ?? "\(kind.rawValue).csv"
        let submitted: (job: ImportJob, existing: Bool)
        do { submitted = try await ImportStore(store: req.jumys.store).submit(kind, fileName: name, data: Data(buffer: body), by: user) } catch let e as FieldErrors {
            throw FieldErrorsAbort(errors: e)
        }
        let (job, existing) = submitted
        if !job.isFinished { req.application.importWorker.kick(job.id, on: req.application) }
        let res = try await JobJSON(job).encodeResponse(status: existing ? .ok : .accepted, for: req)
        res.headers.replaceOrAdd(name: .location, value: "/api/v1/imports/\(job.id)")
        return res
    }

    @Sendable func apiJob(req: Request) async throws -> JobJSON { JobJSON(try await Self.job(req)) }

    struct ErrorJSON: Content { let row: Int; let column: String; let code: String; let message: String }

    @Sendable func apiErrors(req: Request) async throws -> APIRoutes.ListJSON<ErrorJSON> {
        let j = try await Self.job(req)
        let limit = try LabourAPIRoutes.limit(req), after = try LabourAPIRoutes.cursor(req) ?? 0
        let page = try await ImportStore(store: req.jumys.store).errors(of: j.id, after: after, limit: limit + 1)
        let items = page.prefix(limit).map { ErrorJSON(row: $0.row, column: $0.column, code: $0.code, message: req.t("error.field.\($0.code)", $0.args)) }
        return APIRoutes.ListJSON(items: Array(items), next_cursor: page.count > limit ? String(page[limit - 1].id) : nil)
    }
}
