import FluentKit
import Foundation
import JumysDomain
import SQLKit

/// A person as pages and the API show them.
public struct PersonView: Codable, Sendable, Equatable {
    public let id: Int
    public let iin: String
    public let last_name: String
    public let first_name: String
    public let middle_name: String?
    public let birth_date: String
    public let sex: String
    public let region_iso: String
    public let region_name_kk: String
    public let region_name_ru: String
    public let region_name_en: String
    public let district_id: Int
    public let district_kato: String
    public let district_name_kk: String
    public let district_name_ru: String
    public let district_name_en: String
    public let settlement: String?
    public let is_rural: Bool
    public let phone: String?
    public let email: String?

    public var fullName: String { [last_name, first_name, middle_name ?? ""].filter { !$0.isEmpty }.joined(separator: " ") }
}

/// One page of a keyset-paginated list.
public struct Page<T: Sendable>: Sendable {
    public let items: [T]
    public let nextCursor: String?
}

/// The registry of persons, always read through the caller's scope.
public struct Registry: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    public static let maxPageSize = 200

    private func base(_ sql: any SQLDatabase, scope: Scope) -> SQLSelectBuilder {
        let q = sql.select()
            .columns(SQLColumn("id", table: "p"), SQLColumn("iin", table: "p"), SQLColumn("last_name", table: "p"),
                     SQLColumn("first_name", table: "p"), SQLColumn("middle_name", table: "p"), SQLColumn("birth_date", table: "p"),
                     SQLColumn("sex", table: "p"), SQLColumn("region_iso", table: "p"), SQLColumn("district_id", table: "p"),
                     SQLColumn("settlement", table: "p"), SQLColumn("is_rural", table: "p"), SQLColumn("phone", table: "p"),
                     SQLColumn("email", table: "p"))
            .column(SQLColumn("name_kk", table: "r"), as: "region_name_kk")
            .column(SQLColumn("name_ru", table: "r"), as: "region_name_ru")
            .column(SQLColumn("name_en", table: "r"), as: "region_name_en")
            .column(SQLColumn("kato", table: "d"), as: "district_kato")
            .column(SQLColumn("name_kk", table: "d"), as: "district_name_kk")
            .column(SQLColumn("name_ru", table: "d"), as: "district_name_ru")
            .column(SQLColumn("name_en", table: "d"), as: "district_name_en")
            .from(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p")))
            .join(SQLAlias(SQLIdentifier("districts"), as: SQLIdentifier("d")), on: SQLColumn("district_id", table: "p"), .equal, SQLColumn("id", table: "d"))
            .join(SQLAlias(SQLIdentifier("regions"), as: SQLIdentifier("r")), on: SQLColumn("region_iso", table: "p"), .equal, SQLColumn("iso", table: "r"))
        return Self.restrict(q, scope: scope, table: "p")
    }

    /// Adds the scope's condition to a query over a table with `region_iso` and `district_id`.
    public static func restrict(_ q: SQLSelectBuilder, scope: Scope, table: String) -> SQLSelectBuilder {
        switch scope {
        case .national: return q
        case .region(let r): return q.where(SQLColumn("region_iso", table: table), .equal, SQLBind(r.iso))
        case .district(let d): return q.where(SQLColumn("district_id", table: table), .equal, SQLBind(Int(d)))
        case .organisation: return q.where(SQLLiteral.boolean(false))
        }
    }

    /// Searches by IIN (whole or its leading digits) or by name words, in the scope, by id order.
    public func search(_ text: String?, scope: Scope, cursor: String?, limit: Int, region: String? = nil, district: Int? = nil) async throws -> Page<PersonView> {
        let limit = max(1, min(limit, Self.maxPageSize))
        var q = base(store.sql, scope: scope)
        if let region { q = q.where(SQLColumn("region_iso", table: "p"), .equal, SQLBind(region)) }
        if let district { q = q.where(SQLColumn("district_id", table: "p"), .equal, SQLBind(district)) }
        let term = (text ?? "").trimmingCharacters(in: .whitespaces)
        if !term.isEmpty {
            if term.allSatisfy(\.isNumber) {
                if term.count == 12 {
                    q = q.where(SQLColumn("iin", table: "p"), .equal, SQLBind(term))
                } else {
                    q = q.where(SQLColumn("iin", table: "p"), .like, SQLBind(term + "%"))
                }
            } else {
                let words = term.lowercased().split(whereSeparator: { $0.isWhitespace })
                    .map { $0.filter { $0 != "%" && $0 != "_" && $0 != "\\" } }.filter { !$0.isEmpty }
                for (i, w) in words.enumerated() {
                    // The first word anchors at the start (index-friendly); the rest may stand anywhere.
                    q = q.where(SQLColumn("search_name", table: "p"), .like, SQLBind(i == 0 ? w + "%" : "% " + w + "%"))
                    // SQLite's LIKE ignores case, so its index on the (already lower-case) name serves only a range;
                    // PostgreSQL's text_pattern_ops index serves the LIKE itself.
                    if i == 0 && store.sql.dialect.name == "sqlite" {
                        q = q.where(SQLColumn("search_name", table: "p"), .greaterThanOrEqual, SQLBind(w))
                            .where(SQLColumn("search_name", table: "p"), .lessThan, SQLBind(w + "\u{10FFFF}"))
                    }
                }
            }
        }
        if let cursor {
            guard let after = Int(cursor) else { throw StoreError.invalid(field: "cursor", reason: "not a cursor this list gave") }
            q = q.where(SQLColumn("id", table: "p"), .greaterThan, SQLBind(after))
        }
        let rows = try await q.orderBy(SQLColumn("id", table: "p")).limit(limit + 1).all(decoding: PersonView.self)
        let items = Array(rows.prefix(limit))
        return Page(items: items, nextCursor: rows.count > limit ? items.last.map { String($0.id) } : nil)
    }

    /// One person, or nil when it does not exist or lies outside the scope (the caller answers 404 either way).
    public func person(id: Int, scope: Scope) async throws -> PersonView? {
        try await base(store.sql, scope: scope).where(SQLColumn("id", table: "p"), .equal, SQLBind(id)).first(decoding: PersonView.self)
    }

    public func count(scope: Scope) async throws -> Int {
        struct C: Decodable { let n: Int }
        let q = Self.restrict(store.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(SQLAlias(SQLIdentifier("persons"), as: SQLIdentifier("p"))), scope: scope, table: "p")
        return try await q.first(decoding: C.self)?.n ?? 0
    }
}
