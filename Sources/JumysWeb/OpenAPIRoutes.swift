import Foundation
import Plot
import Vapor
import Yams

/// The API's description: the OpenAPI 3.1 document (kept as YAML in the source, served as JSON at
/// `/api/v1/openapi.json`) and a readable page generated from it (`/api`). A test checks that every route
/// registered under `/api/v1` is in the document and every documented route exists.
public struct OpenAPIDocument: Sendable {
    /// The document as JSON, keys sorted.
    public let json: String
    /// Its operations in document order: method, path, tag, summary, description.
    public let operations: [Operation]
    public let title: String, version: String, description: String

    /// The tag of the operation a request reaches (`{…}` segments match anything), or nil when none does.
    public func tag(method: String, path: String) -> String? { operation(method: method, path: path)?.tag }

    /// The operation a request reaches: of those that match (`{…}` segments match anything), the one with the
    /// fewest parameters (`/projects/board` before `/projects/{id}`).
    func operation(method: String, path: String) -> Operation? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return operations.compactMap { op -> (Int, Operation)? in
            guard op.method == method else { return nil }
            let pattern = op.path.split(separator: "/", omittingEmptySubsequences: true)
            guard pattern.count == parts.count, zip(pattern, parts).allSatisfy({ $0.hasPrefix("{") || $0 == $1 }) else { return nil }
            return (pattern.filter { $0.hasPrefix("{") }.count, op)
        }.min { $0.0 < $1.0 }?.1
    }

    /// The tags, in the order the document first uses them.
    public var tags: [String] { operations.map(\.tag).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } } }

    public struct Operation: Sendable {
        public let method: String; public let path: String; public let tag: String; public let summary: String; public let description: String; public let open: Bool
        /// The schema of its JSON request body, if it takes one.
        let body: RequestSchema?
    }

    public static func bundled() throws -> OpenAPIDocument {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Public") else {
            throw Abort(.internalServerError, reason: "openapi.yaml missing from the build")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let tree = try Yams.load(yaml: text) as? [String: Any] else { throw Abort(.internalServerError, reason: "openapi.yaml is not a mapping") }
        let plain = Self.plain(tree)
        let json = String(decoding: try JSONSerialization.data(withJSONObject: plain, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        var ops: [Operation] = []
        let schemas = ((tree["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
        let paths = (tree["paths"] as? [String: Any]) ?? [:]
        // Document order: the YAML's own order of paths, read from the text.
        let order = text.split(separator: "\n").compactMap { line -> String? in
            line.hasPrefix("  /") && line.hasSuffix(":") ? String(line.dropFirst(2).dropLast()) : nil
        }
        for path in order {
            guard let item = paths[path] as? [String: Any] else { continue }
            for method in ["get", "post", "put", "patch", "delete"] {
                guard let op = item[method] as? [String: Any] else { continue }
                let security = op["security"] as? [Any]
                let body = (((op["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
                ops.append(Operation(method: method.uppercased(), path: path, tag: (op["tags"] as? [String])?.first ?? "", summary: op["summary"] as? String ?? "",
                                     description: op["description"] as? String ?? "", open: security?.isEmpty == true,
                                     body: body.map { RequestSchema.compile($0, schemas: schemas) }))
            }
        }
        let info = tree["info"] as? [String: Any] ?? [:]
        return OpenAPIDocument(json: json, operations: ops, title: info["title"] as? String ?? "", version: info["version"] as? String ?? "", description: info["description"] as? String ?? "")
    }

    /// YAML's dates and other non-JSON scalars as strings.
    static func plain(_ v: Any) -> Any {
        switch v {
        case let d as [String: Any]: return d.mapValues(plain)
        case let a as [Any]: return a.map(plain)
        case let date as Date:
            let f = ISO8601DateFormatter(); f.formatOptions = [.withFullDate]
            return f.string(from: date)
        case is String, is Int, is Double, is Bool, is NSNull: return v
        default: return "\(v)"
        }
    }
}

struct OpenAPIRoutes: RouteCollection {
    let document: OpenAPIDocument

    func boot(routes: any RoutesBuilder) throws {
        routes.get("api", "v1", "openapi.json", use: json)
        routes.get("api", use: page)
    }

    @Sendable func json(req: Request) async throws -> Response {
        let res = Response(status: .ok, body: .init(string: document.json))
        res.headers.contentType = .json
        return res
    }

    @Sendable func page(req: Request) async throws -> Response {
        let ctx = PageContext(req)
        let tags = document.operations.map(\.tag).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return HTMLResponse.make(Layout.page(ctx, title: ctx.t("api.title"),
            .h1(.text(ctx.t("api.title"))),
            .p(.class("lead"), .text(ctx.t("api.lead"))),
            .p(.a(.class("button secondary"), .href("/api/v1/openapi.json"), .text(ctx.t("api.document")))),
            .p(.class("hint"), .text(ctx.t("api.language"))),
            .details(.summary(.text(ctx.t("api.conventions"))), .pre(.class("sample"), .text(document.description))),
            .forEach(tags) { tag in
                .group(.h2(.id("tag-\(tag)"), .text(tag)),
                       .table(.class("data"),
                              .thead(.tr(.th(.text(ctx.t("api.method"))), .th(.text(ctx.t("api.path"))), .th(.text(ctx.t("api.summary"))))),
                              .tbody(.forEach(document.operations.filter { $0.tag == tag }) { op in
                                  .tr(.td(.code(.text(op.method))), .td(.code(.text(op.path))),
                                      .td(.text(op.summary), op.open ? .span(.class("tag"), .text(" " + ctx.t("api.open"))) : .empty,
                                          op.description.isEmpty ? .empty : .details(.summary(.text(ctx.t("api.more"))), .p(.class("hint"), .text(op.description)))))
                              })))
            }
        ), status: .ok)
    }
}
