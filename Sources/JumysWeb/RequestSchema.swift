import Foundation
import Vapor
import JumysStore

/// A JSON request body's schema, compiled from the OpenAPI document: the JSON types of every field, the longest
/// text, the number bounds and the list sizes the document declares. `RequestSchemaMiddleware` checks each API
/// body against it before the handler reads it, so `true`, `null` or a list where text is expected, `"yes"` or
/// `1` where a boolean is, or a list of numbers where a list of words is, is refused with 422 and the field's name
/// instead of being turned into text and stored; so is text longer than its `maxLength` (or than `TextLimit`, for
/// text without one) and a list longer than its `maxItems`. Enumerations, patterns, number bounds and required fields stay with the handlers, which answer them
/// together with their other field errors and their own codes (and accept region codes in any letter case).
final class RequestSchema: Sendable {
    enum Kind: String, Sendable { case string, integer, number, boolean, array, object, null }

    let types: Set<Kind>?
    let maxLength: Int?
    let maxItems: Int?
    let properties: [String: RequestSchema]
    let items: RequestSchema?
    let anyOf: [RequestSchema]
    let allOf: [RequestSchema]

    private init(types: Set<Kind>?, maxLength: Int?, maxItems: Int?,
                 properties: [String: RequestSchema], items: RequestSchema?, anyOf: [RequestSchema], allOf: [RequestSchema]) {
        (self.types, self.maxLength, self.maxItems) = (types, maxLength, maxItems)
        (self.properties, self.items, self.anyOf, self.allOf) = (properties, items, anyOf, allOf)
    }

    /// Compiles a schema of the document (`$ref`s to `#/components/schemas/…` resolved).
    static func compile(_ node: Any, schemas: [String: Any], depth: Int = 0) -> RequestSchema {
        guard depth < 32, var o = node as? [String: Any] else { return RequestSchema(types: nil, maxLength: nil, maxItems: nil, properties: [:], items: nil, anyOf: [], allOf: []) }
        var seen = 0
        while let ref = o["$ref"] as? String, seen < 32, let target = schemas[String(ref.split(separator: "/").last ?? "")] as? [String: Any] {
            // Sibling keywords of a `$ref` (a description) add nothing to check.
            o = target; seen += 1
        }
        let types: Set<Kind>?
        switch o["type"] {
        case let s as String: types = Kind(rawValue: s).map { [$0] }
        case let l as [Any]: types = Set(l.compactMap { ($0 as? String).flatMap(Kind.init(rawValue:)) })
        default: types = nil
        }
        let sub = { (x: Any) in compile(x, schemas: schemas, depth: depth + 1) }
        return RequestSchema(
            types: types, maxLength: Self.int(o["maxLength"]), maxItems: Self.int(o["maxItems"]),
            properties: ((o["properties"] as? [String: Any]) ?? [:]).mapValues(sub), items: o["items"].map(sub),
            anyOf: (((o["anyOf"] as? [Any]) ?? []) + ((o["oneOf"] as? [Any]) ?? [])).map(sub), allOf: ((o["allOf"] as? [Any]) ?? []).map(sub))
    }

    private static func int(_ v: Any?) -> Int? { (v as? Int) ?? (v as? NSNumber)?.intValue }

    /// The problems of a decoded JSON value, each with the field it is in (`lines[2].isco`).
    func problems(_ value: Any, field: String) -> [FieldError] {
        var out: [FieldError] = []
        check(value, field: field, into: &out)
        return out
    }

    private func check(_ value: Any, field: String, into out: inout [FieldError]) {
        let kind = Self.kind(of: value)
        if let types, !types.isEmpty, !types.contains(kind), !(kind == .integer && types.contains(.number)) {
            out.append(FieldError(field.isEmpty ? "body" : field, Self.code(expecting: types)))
            return
        }
        for s in allOf { s.check(value, field: field, into: &out) }
        if !anyOf.isEmpty {
            let tried = anyOf.map { $0.problems(value, field: field) }
            if !tried.contains(where: \.isEmpty) { out.append(contentsOf: tried[0]) }
        }
        switch value {
        case let s as String:
            // Text without a declared length still has the system's bound (a note, a reason).
            let max = maxLength ?? TextLimit.characters
            if s.count > max { out.append(FieldError(field, "too_long", ["max": String(max)])) }
        case let list as [Any]:
            if let maxItems, list.count > maxItems { out.append(FieldError(field, "too_many_items")); return }
            if let items { for (i, x) in list.enumerated() { items.check(x, field: "\(field)[\(i)]", into: &out) } }
        case let object as [String: Any]:
            for (k, x) in object.sorted(by: { $0.key < $1.key }) {
                properties[k]?.check(x, field: field.isEmpty ? k : "\(field).\(k)", into: &out)
            }
        default: break
        }
    }

    /// The JSON type of a value decoded by `JSONSerialization` (booleans are distinct from 1 and 0).
    static func kind(of v: Any) -> Kind {
        switch v {
        case is String: return .string
        case is [Any]: return .array
        case is [String: Any]: return .object
        case is NSNull: return .null
        case let n as NSNumber:
            if type(of: v) == Bool.self || String(describing: type(of: v)).contains("Boolean") { return .boolean }
            let d = n.doubleValue
            return d.isFinite && d.rounded() == d && abs(d) < 9.0e15 ? .integer : .number
        default: return .null
        }
    }

    /// The field-error code for a value of the wrong JSON type.
    static func code(expecting types: Set<Kind>) -> String {
        if types.contains(.string) && (types.contains(.number) || types.contains(.integer)) { return "json_string_or_number" }
        for k in [Kind.boolean, .integer, .number, .string, .array, .object] where types.contains(k) { return "json_\(k.rawValue)" }
        return "json_type"
    }
}

/// Checks the JSON body of an API request against its operation's schema in the OpenAPI document (see
/// `RequestSchema`). Calls that must sign in first are checked only once signed in, so a visitor still gets 401.
struct RequestSchemaMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard req.isAPI, [.POST, .PUT, .PATCH].contains(req.method),
              let type = req.headers.contentType, type.type == "application", type.subType == "json" || type.subType.hasSuffix("+json"),
              let op = req.jumys.openapi.operation(method: req.method.rawValue, path: req.url.path), let schema = op.body,
              op.open || req.user != nil
        else { return try await next.respond(to: req) }
        guard let b = try await req.body.collect(max: 1 << 20).get(), b.readableBytes > 0 else { return try await next.respond(to: req) }
        // A body that is not JSON at all is the handler's to refuse (with its own field name).
        guard let value = try? JSONSerialization.jsonObject(with: Data(buffer: b), options: [.fragmentsAllowed]) else { return try await next.respond(to: req) }
        let problems = schema.problems(value, field: "")
        if !problems.isEmpty { throw FieldErrorsAbort(errors: FieldErrors(errors: problems)) }
        return try await next.respond(to: req)
    }
}
