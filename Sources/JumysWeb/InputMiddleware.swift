import Foundation
import Vapor
import JumysStore

/// Text comes in UTF-8 and without control characters, or not at all: a form, a JSON body or a query string with
/// bytes that are not UTF-8 (a page saved in Windows-1251), a percent-escape that does not decode to UTF-8, or a
/// control character other than tab and line breaks (a NUL, which PostgreSQL cannot store) is refused with 400
/// before any handler reads it, instead of being stored mangled or failing in the database. Files (multipart
/// uploads, CSV and XLSX bodies) are left to the imports, which check their own encodings.
struct InputMiddleware: AsyncMiddleware {
    static let reason = "encoding"

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let q = req.url.query, !Self.cleanForm(q) { throw Abort(.badRequest, reason: Self.reason) }
        if [.POST, .PUT, .PATCH].contains(req.method), let type = req.headers.contentType {
            let form = type.type == "application" && type.subType == "x-www-form-urlencoded"
            let json = type.type == "application" && (type.subType == "json" || type.subType.hasSuffix("+json"))
            if form || json {
                let body = try await req.body.collect(max: 1 << 20).get()
                if let b = body {
                    let bytes = Array(b.readableBytesView)
                    guard let text = String(validating: bytes, as: UTF8.self), Self.clean(text) else { throw Abort(.badRequest, reason: Self.reason) }
                    if form {
                        guard let pairs = Self.formPairs(text) else { throw Abort(.badRequest, reason: Self.reason) }
                        if let long = Self.overlong(pairs) { throw FieldErrorsAbort(errors: FieldErrors(errors: [FieldError(long, "too_long", ["max": String(TextLimit.characters)])])) }
                    }
                    if json && text.contains(Self.jsonControlEscape) { throw Abort(.badRequest, reason: Self.reason) }
                }
            }
        }
        return try await next.respond(to: req)
    }

    /// No control characters but tab, line feed and carriage return.
    static func clean(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { c in !(c.value < 0x20 || c.value == 0x7F) || c == "\t" || c == "\n" || c == "\r" }
    }

    /// Every key and value of `a=b&c=d` percent-decodes to clean UTF-8.
    static func cleanForm(_ s: String) -> Bool { formPairs(s) != nil }

    /// The decoded keys and values of `a=b&c=d`, or nil when one does not percent-decode to clean UTF-8.
    static func formPairs(_ s: String) -> [(key: String, value: String)]? {
        var out: [(key: String, value: String)] = []
        for pair in s.split(separator: "&") {
            var parts: [String] = []
            for part in pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false) {
                guard let d = String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding, clean(d) else { return nil }
                parts.append(d)
            }
            out.append((parts.first ?? "", parts.count > 1 ? parts[1] : ""))
        }
        return out
    }

    /// Fields that take a pasted table (a line per occupation), whose handlers count the lines instead.
    static let tableFields: Set<String> = ["lines", "forecast", "created"]

    /// The first field of a form whose value is longer than any field takes (`TextLimit`), if any.
    static func overlong(_ pairs: [(key: String, value: String)]) -> String? {
        for (key, value) in pairs where value.utf8.count > TextLimit.characters && value.count > TextLimit.characters {
            let name = key.hasSuffix("[]") ? String(key.dropLast(2)) : key
            if !tableFields.contains(name) { return name }
        }
        return nil
    }

    /// A JSON escape of a control character other than tab, line feed and carriage return (`\u0000`).
    nonisolated(unsafe) static let jsonControlEscape = /\\u00(0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])/
}
