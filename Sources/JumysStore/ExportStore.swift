import FluentKit
import Foundation
import JumysDomain
import SQLKit

/// What may be exported in bulk.
public enum ExportKind: String, CaseIterable, Sendable {
    case persons, vacancies
    case labourContracts = "labour-contracts"
    case projects, progress, loans

    /// Whether the user may export this kind at all (rows are still limited to their scope).
    public func allowed(for user: UserContext) -> Bool {
        guard case .organisation = user.scope else { return true }
        switch self {
        case .persons: return false
        case .labourContracts: return user.role == .contractor
        default: return true
        }
    }
}

/// The filters of a list page that an export keeps (each optional; rows stay within the user's scope).
public struct ExportFilter: Sendable, Equatable {
    public var region: String?, district: Int?, state: String?
    public init(region: String? = nil, district: Int? = nil, state: String? = nil) { self.region = region; self.district = district; self.state = state }
}

/// A value of an exported cell, typed so that a spreadsheet gets numbers, amounts and dates as such.
public enum ExportValue: Sendable, Equatable {
    case text(String), int(Int64), money(Int64), decimal(Int64), date(String), bool(Bool), empty
}

/// Bulk export: every row of a kind the user may see, read page by page by id (a million rows are never held
/// at once) and handed to the caller a page at a time. Column names follow the import's where they match, so an
/// export can be corrected and imported again.
public struct ExportStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }
    public static let pageSize = 2000

    enum Kind { case text, int, money, decimal, date, bool }
    struct Column { let name: String; let sql: String; let kind: Kind }

    static func columns(_ k: ExportKind) -> [Column] {
        switch k {
        case .persons:
            return [Column(name: "iin", sql: "p.iin", kind: .text), Column(name: "last_name", sql: "p.last_name", kind: .text), Column(name: "first_name", sql: "p.first_name", kind: .text),
                    Column(name: "middle_name", sql: "p.middle_name", kind: .text), Column(name: "birth_date", sql: "p.birth_date", kind: .date), Column(name: "sex", sql: "p.sex", kind: .text),
                    Column(name: "region", sql: "p.region_iso", kind: .text), Column(name: "district", sql: "d.kato", kind: .text), Column(name: "settlement", sql: "p.settlement", kind: .text),
                    Column(name: "rural", sql: "p.is_rural", kind: .bool), Column(name: "phone", sql: "p.phone", kind: .text), Column(name: "email", sql: "p.email", kind: .text),
                    Column(name: "education", sql: "p.education", kind: .text), Column(name: "occupation_isco", sql: "p.occupation_isco", kind: .text),
                    Column(name: "consent_on", sql: "p.consent_on", kind: .date)]
        case .vacancies:
            return [Column(name: "external_ref", sql: "v.external_ref", kind: .text), Column(name: "employer_bin", sql: "o.bin", kind: .text), Column(name: "employer", sql: "o.name_ru", kind: .text),
                    Column(name: "title", sql: "v.title", kind: .text), Column(name: "isco", sql: "v.occupation_isco", kind: .text), Column(name: "region", sql: "v.region_iso", kind: .text),
                    Column(name: "district", sql: "d.kato", kind: .text), Column(name: "wage", sql: "v.wage", kind: .money), Column(name: "places", sql: "v.places", kind: .int),
                    Column(name: "valid_from", sql: "v.valid_from", kind: .date), Column(name: "valid_until", sql: "v.valid_until", kind: .date), Column(name: "state", sql: "v.state", kind: .text),
                    Column(name: "source", sql: "v.source", kind: .text)]
        case .labourContracts:
            return [Column(name: "referral_number", sql: "r.number", kind: .text), Column(name: "employer_bin", sql: "o.bin", kind: .text), Column(name: "position", sql: "c.position", kind: .text),
                    Column(name: "starts_on", sql: "c.starts_on", kind: .date), Column(name: "ends_on", sql: "c.ends_on", kind: .date), Column(name: "wage", sql: "c.wage", kind: .money),
                    Column(name: "region", sql: "r.region_iso", kind: .text)]
        case .projects:
            return [Column(name: "number", sql: "p.number", kind: .text), Column(name: "external_ref", sql: "p.external_ref", kind: .text), Column(name: "programme", sql: "p.programme", kind: .text),
                    Column(name: "region", sql: "p.region_iso", kind: .text), Column(name: "district", sql: "d.kato", kind: .text), Column(name: "settlement", sql: "p.settlement", kind: .text),
                    Column(name: "name", sql: "p.name", kind: .text), Column(name: "object_type", sql: "p.object_type", kind: .text), Column(name: "work_type", sql: "p.work_type", kind: .text),
                    Column(name: "state", sql: "p.state", kind: .text), Column(name: "cost_total", sql: "p.cost_total", kind: .money), Column(name: "starts_on", sql: "p.starts_on", kind: .date),
                    Column(name: "ends_on", sql: "p.ends_on", kind: .date), Column(name: "jobs_created", sql: "p.jobs_created", kind: .int),
                    Column(name: "permanent_jobs", sql: "p.permanent_jobs", kind: .int), Column(name: "referral_quota", sql: "p.referral_quota", kind: .int)]
        case .progress:
            return [Column(name: "project", sql: "p.number", kind: .text), Column(name: "month", sql: "x.month", kind: .text), Column(name: "work_done_percent", sql: "x.work_done_percent", kind: .decimal),
                    Column(name: "work_done_amount", sql: "x.work_done_amount", kind: .money), Column(name: "jobs_filled", sql: "x.jobs_filled", kind: .int),
                    Column(name: "jobs_by_referral", sql: "x.jobs_by_referral", kind: .int), Column(name: "referred_avg_wage", sql: "x.referred_avg_wage", kind: .money),
                    Column(name: "state", sql: "x.state", kind: .text), Column(name: "due_on", sql: "x.due_on", kind: .date), Column(name: "submitted_on", sql: "x.contractor_submitted_on", kind: .date)]
        case .loans:
            return [Column(name: "number", sql: "l.number", kind: .text), Column(name: "kind", sql: "l.kind", kind: .text), Column(name: "lender_bin", sql: "o.bin", kind: .text),
                    Column(name: "region", sql: "l.region_iso", kind: .text), Column(name: "district", sql: "d.kato", kind: .text), Column(name: "borrower_kind", sql: "l.borrower_kind", kind: .text),
                    Column(name: "borrower_id", sql: "l.borrower_id", kind: .text), Column(name: "borrower_name", sql: "l.borrower_name", kind: .text), Column(name: "purpose", sql: "l.purpose", kind: .text),
                    Column(name: "amount", sql: "l.amount", kind: .money), Column(name: "term_months", sql: "l.term_months", kind: .int), Column(name: "rate", sql: "l.rate", kind: .decimal),
                    Column(name: "contract_on", sql: "l.contract_on", kind: .date), Column(name: "disbursed", sql: "l.disbursed", kind: .money), Column(name: "jobs_promised", sql: "l.jobs_promised", kind: .int),
                    Column(name: "state", sql: "l.state", kind: .text)]
        }
    }

    public static func header(_ k: ExportKind) -> [String] { columns(k).map(\.name) }

    /// The query of one page after `after` (an id of the kind's main table), in the user's scope.
    func page(_ k: ExportKind, user: UserContext, filter: ExportFilter, after: Int) -> SQLSelectBuilder {
        let sql = store.sql
        let (table, alias): (String, String)
        var q: SQLSelectBuilder
        switch k {
        case .persons: (table, alias) = ("persons", "p")
        case .vacancies: (table, alias) = ("vacancies", "v")
        case .labourContracts: (table, alias) = ("labour_contracts", "c")
        case .projects: (table, alias) = ("projects", "p")
        case .progress: (table, alias) = ("project_reports", "x")
        case .loans: (table, alias) = ("loans", "l")
        }
        q = sql.select().column(SQLColumn("id", table: alias), as: "_id")
        for c in Self.columns(k) { q = q.column(SQLRaw(c.sql), as: c.name) }
        q = q.from(SQLAlias(SQLIdentifier(table), as: SQLIdentifier(alias)))
        func join(_ t: String, _ a: String, _ on: String) { q = q.join(SQLAlias(SQLIdentifier(t), as: SQLIdentifier(a)), method: SQLJoinMethod.left, on: SQLRaw(on)) }
        let org = user.organisationID ?? -1
        switch k {
        case .persons:
            join("districts", "d", "d.id = p.district_id")
            q = Registry.restrict(q, scope: user.scope, table: "p")
        case .vacancies:
            join("organisations", "o", "o.id = v.employer_id"); join("districts", "d", "d.id = v.district_id")
            if case .organisation = user.scope { q = q.where(SQLColumn("employer_id", table: "v"), .equal, SQLBind(org)) } else { q = Registry.restrict(q, scope: user.scope, table: "v") }
        case .labourContracts:
            join("referrals", "r", "r.id = c.referral_id"); join("organisations", "o", "o.id = c.employer_id")
            if case .organisation = user.scope { q = q.where(SQLColumn("employer_id", table: "c"), .equal, SQLBind(org)) } else { q = Registry.restrict(q, scope: user.scope, table: "r") }
        case .projects:
            join("districts", "d", "d.id = p.district_id")
            if case .organisation = user.scope {
                q = q.where(SQLRaw("EXISTS (SELECT 1 FROM project_parties pp WHERE pp.project_id = p.id AND pp.organisation_id = \(org))"))
            } else { q = Registry.restrict(q, scope: user.scope, table: "p") }
        case .progress:
            join("projects", "p", "p.id = x.project_id")
            if case .organisation = user.scope { q = q.where(SQLColumn("organisation_id", table: "x"), .equal, SQLBind(org)) } else { q = Registry.restrict(q, scope: user.scope, table: "p") }
        case .loans:
            join("organisations", "o", "o.id = l.lender_id"); join("districts", "d", "d.id = l.district_id")
            if case .organisation = user.scope { q = q.where(SQLColumn("lender_id", table: "l"), .equal, SQLBind(org)) } else { q = Registry.restrict(q, scope: user.scope, table: "l") }
        }
        // The list page's filters: the table that holds the territory and the state of each kind.
        let (place, stateTable): (String, String?)
        switch k {
        case .persons: (place, stateTable) = ("p", nil)
        case .vacancies: (place, stateTable) = ("v", "v")
        case .labourContracts: (place, stateTable) = ("r", nil)
        case .projects: (place, stateTable) = ("p", "p")
        case .progress: (place, stateTable) = ("p", "x")
        case .loans: (place, stateTable) = ("l", "l")
        }
        if let r = filter.region { q = q.where(SQLColumn("region_iso", table: place), .equal, SQLBind(r)) }
        if let d = filter.district { q = q.where(SQLColumn("district_id", table: place), .equal, SQLBind(d)) }
        if let s = filter.state, let t = stateTable { q = q.where(SQLColumn("state", table: t), .equal, SQLBind(s)) }
        return q.where(SQLColumn("id", table: alias), .greaterThan, SQLBind(after)).orderBy(SQLColumn("id", table: alias)).limit(Self.pageSize)
    }

    /// Every row of the kind in the user's scope, a page at a time, to `each`.
    public func stream(_ k: ExportKind, for user: UserContext, filter: ExportFilter = ExportFilter(), _ each: ([[ExportValue]]) async throws -> Void) async throws {
        guard k.allowed(for: user) else { throw StoreError.notFound }
        let columns = Self.columns(k)
        var after = 0
        while true {
            let rows = try await page(k, user: user, filter: filter, after: after).all()
            var out: [[ExportValue]] = []
            out.reserveCapacity(rows.count)
            for r in rows {
                after = try r.decode(column: "_id", as: Int.self)
                out.append(try columns.map { c in
                    if try r.decodeNil(column: c.name) { return .empty }
                    switch c.kind {
                    case .text: return .text(try r.decode(column: c.name, as: String.self))
                    case .date: return .date(try r.decode(column: c.name, as: String.self))
                    case .int: return .int(try r.decode(column: c.name, as: Int64.self))
                    case .money: return .money(try r.decode(column: c.name, as: Int64.self))
                    case .decimal: return .decimal(try r.decode(column: c.name, as: Int64.self))
                    case .bool: return .bool(try r.decode(column: c.name, as: Bool.self))
                    }
                })
            }
            if !out.isEmpty { try await each(out) }
            if rows.count < Self.pageSize { return }
        }
    }
}
