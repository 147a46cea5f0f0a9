import Foundation
import JumysDomain
import JumysStore
import NIOCore
import Plot
import Vapor

/// Bulk export (`/exports/persons.csv`, `/exports/projects.xlsx`, …): every row the user may see, streamed. CSV goes
/// out a page at a time as it is read; XLSX is written to a temporary file row by row (the workbook must be whole
/// before it can be zipped) and then streamed from disk. In CSV a value that starts with `=`, `+`, `-` or `@` is
/// prefixed with an apostrophe so that a spreadsheet never runs it; XLSX cells are typed text, which no spreadsheet
/// evaluates.
struct ExportRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("exports", use: list)
        routes.get("exports", ":file", use: export)
    }

    @Sendable func list(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let ctx = PageContext(req)
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("export.title"),
            .h1(.text(ctx.t("export.title"))),
            .p(.class("lead"), .text(ctx.t("export.lead"))),
            .table(.class("data"),
                .thead(.tr(.th(.text(ctx.t("export.what"))), .th(.text(ctx.t("export.columns"))), .th(.text(ctx.t("export.download"))))),
                .tbody(.forEach(Self.kinds(for: user)) { k in
                    .tr(.td(.text(ctx.t("export.kind.\(k.rawValue)"))), .td(.class("hint"), .text(ExportStore.header(k).joined(separator: ", "))),
                        .td(.a(.href("/exports/\(k.rawValue).csv"), .text("CSV")), .text(" · "), .a(.href("/exports/\(k.rawValue).xlsx"), .text("XLSX"))))
                })),
            .p(.class("hint"), .text(ctx.t("export.hint")))
        ), status: .ok)
    }

    static func kinds(for user: UserContext) -> [ExportKind] { ExportKind.allCases.filter { $0.allowed(for: user) } }

    @Sendable func export(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let file = req.parameters.get("file") ?? ""
        let parts = file.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = ExportKind(rawValue: parts[0]), ["csv", "xlsx"].contains(parts[1]) else { throw Abort(.notFound) }
        guard kind.allowed(for: user) else { throw Abort(.forbidden) }
        let exports = ExportStore(store: req.jumys.store)
        let header = ExportStore.header(kind)
        let filter = try Self.filter(req)
        let name = "\(kind.rawValue)-\(req.jumys.store.today().iso).\(parts[1])"
        if parts[1] == "csv" {
            let res = Response(status: .ok)
            res.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
            res.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(name)\"")
            res.body = .init(asyncStream: { writer in
                do {
                    try await writer.write(.buffer(ByteBuffer(string: "\u{FEFF}" + header.map(PaymentList.csvField).joined(separator: ",") + "\r\n")))
                    try await exports.stream(kind, for: user, filter: filter) { rows in
                        var chunk = ""
                        for r in rows { chunk += r.map { PaymentList.csvField(Self.text($0)) }.joined(separator: ",") + "\r\n" }
                        try await writer.write(.buffer(ByteBuffer(string: chunk)))
                    }
                    try await writer.write(.end)
                } catch { try await writer.write(.error(error)) }
            })
            return res
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).xlsx")
        do {
            let x = try XLSXWriter(url: url)
            try x.beginSheet(kind.rawValue, columnWidths: header.map { _ in 16 })
            x.header(header)
            try await exports.stream(kind, for: user, filter: filter) { rows in for r in rows { x.row(r.map(Self.cell)) } }
            try x.finish()
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw error
        }
        let res = try await req.fileio.asyncStreamFile(at: url.path, mediaType: HTTPMediaType(type: "application", subType: "vnd.openxmlformats-officedocument.spreadsheetml.sheet")) { _ in
            try? FileManager.default.removeItem(at: url)
        }
        res.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(name)\"")
        return res
    }

    /// `?region=KZ-35&district=12&state=in_works`, as the list pages filter; a bad value answers 422.
    static func filter(_ req: Request) throws -> ExportFilter {
        var f = ExportFilter()
        if let r = try? req.query.get(String.self, at: "region"), !r.isEmpty {
            guard let code = RegionCode(r), code.isKnown else { throw Abort(.unprocessableEntity, reason: "region") }
            f.region = code.iso
        }
        if let d = try? req.query.get(String.self, at: "district"), !d.isEmpty {
            guard let n = Int(d) else { throw Abort(.unprocessableEntity, reason: "district") }
            f.district = n
        }
        if let s = try? req.query.get(String.self, at: "state"), !s.isEmpty {
            guard s.count <= 40, s.allSatisfy({ $0.isLetter || $0 == "_" }) else { throw Abort(.unprocessableEntity, reason: "state") }
            f.state = s
        }
        return f
    }

    /// "Download: CSV · XLSX" for a list page, keeping its filters.
    static func links(_ ctx: PageContext, _ kind: ExportKind, _ filter: ExportFilter) -> Node<HTML.BodyContext> {
        var q: [String] = []
        if let r = filter.region { q.append("region=\(r)") }
        if let d = filter.district { q.append("district=\(d)") }
        if let s = filter.state { q.append("state=\(s)") }
        let query = q.isEmpty ? "" : "?" + q.joined(separator: "&")
        return .p(.class("downloads"), .text(ctx.t("export.download") + ": "),
                  .a(.href("/exports/\(kind.rawValue).csv\(query)"), .text("CSV")), .text(" · "), .a(.href("/exports/\(kind.rawValue).xlsx\(query)"), .text("XLSX")))
    }

    static func text(_ v: ExportValue) -> String {
        switch v {
        case .text(let s), .date(let s): return s
        case .int(let n): return String(n)
        case .money(let t): return Money(tiyn: t).decimalString
        case .decimal(let u): return FixedDecimal(units: u).description
        case .bool(let b): return b ? "yes" : "no"
        case .empty: return ""
        }
    }

    static func cell(_ v: ExportValue) -> XLSXWriter.Cell {
        switch v {
        case .int(let n): return .number(String(n))
        case .money(let t): return .amount(Money(tiyn: t).decimalString)
        case .decimal(let u): return .number(FixedDecimal(units: u).description)
        case .date(let s): return CivilDate(iso: s).map { .date($0) } ?? .text(s)
        default: return .text(text(v))
        }
    }
}
