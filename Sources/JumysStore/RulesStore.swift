import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

struct CreateRulesTables: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("parameter_values")
            .field("id", .int, .identifier(auto: true))
            .field("name", .string, .required)
            .field("effective_from", .string, .required)
            .field("value", .string, .required)
            .field("reference", .string, .required)
            .field("created_by", .string, .required)
            .field("created_at", .string, .required)
            .unique(on: "name", "effective_from")
            .create()
        try await db.schema("calendar_exceptions")
            .field("date", .string, .identifier(auto: false))
            .field("working", .bool, .required)
            .field("note", .string, .required)
            .field("created_by", .string, .required)
            .create()
    }
    func revert(on db: any Database) async throws {
        try await db.schema("calendar_exceptions").delete()
        try await db.schema("parameter_values").delete()
    }
}

/// The rules' parameters and calendar as they stand: the shipped files with the administrators' additions.
public struct RulesEnvironment: Sendable {
    public let parameters: ParameterSet
    public let calendar: WorkCalendar
    public init(parameters: ParameterSet, calendar: WorkCalendar) { self.parameters = parameters; self.calendar = calendar }
    public func context(on date: CivilDate) -> RuleContext { RuleContext(date: date, parameters: parameters, calendar: calendar) }
}

/// Administrators' dated parameter values and calendar exceptions, stored and audited.
public struct RulesStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    struct ValueRow: Decodable { let name: String; let effective_from: String; let value: String; let reference: String; let created_by: String; let created_at: String }
    struct ExceptionRow: Decodable { let date: String; let working: Bool; let note: String }

    /// Files plus stored additions.
    public func environment(files: ParameterSet, calendar: WorkCalendar) async throws -> RulesEnvironment {
        var ps = files
        for r in try await store.sql.select().columns("name", "effective_from", "value", "reference", "created_by", "created_at")
            .from("parameter_values").orderBy("id").all(decoding: ValueRow.self) {
            guard let d = CivilDate(iso: r.effective_from), let v = FixedDecimal(r.value) else { continue }
            ps = ps.adding(r.name, ParameterValue(effectiveFrom: d, value: v, reference: r.reference, source: .administrator(login: r.created_by, at: r.created_at)))
        }
        return RulesEnvironment(parameters: ps, calendar: calendar.with(exceptions: try await exceptions()))
    }

    public func exceptions() async throws -> [CalendarException] {
        try await store.sql.select().columns("date", "working", "note").from("calendar_exceptions").orderBy("date").all(decoding: ExceptionRow.self)
            .compactMap { r in CivilDate(iso: r.date).map { CalendarException(date: $0, working: r.working, note: r.note) } }
    }

    struct ValueSnapshot: Encodable, Sendable { let name, effective_from, value, reference: String }
    struct ExceptionSnapshot: Encodable, Sendable { let date: String; let working: Bool; let note: String }

    /// Adds (or replaces) an administrator's value of a parameter from a date.
    public func addValue(name: String, effectiveFrom: CivilDate, value: FixedDecimal, reference: String, by actor: Actor) async throws {
        try await store.write(as: actor) { ctx in
            let sql = ctx.sql
            struct Old: Decodable { let value: String; let reference: String }
            let old = try await sql.select().columns("value", "reference").from("parameter_values")
                .where("name", .equal, SQLBind(name)).where("effective_from", .equal, SQLBind(effectiveFrom.iso)).first(decoding: Old.self)
            try await sql.delete(from: "parameter_values").where("name", .equal, SQLBind(name)).where("effective_from", .equal, SQLBind(effectiveFrom.iso)).run()
            try await sql.insert(into: "parameter_values").columns("name", "effective_from", "value", "reference", "created_by", "created_at")
                .values(SQLBind(name), SQLBind(effectiveFrom.iso), SQLBind(value.description), SQLBind(reference), SQLBind(actor.login), SQLBind(AuditLog.timestamp(ctx.now)))
                .run()
            try ctx.audit(old == nil ? "create" : "update", entity: "parameter_value", id: "\(name)@\(effectiveFrom.iso)",
                          before: old.map { ValueSnapshot(name: name, effective_from: effectiveFrom.iso, value: $0.value, reference: $0.reference) },
                          after: ValueSnapshot(name: name, effective_from: effectiveFrom.iso, value: value.description, reference: reference))
        }
    }

    /// Declares a date a day off (e.g. Kurban ait) or a working day (moved by decree), replacing an earlier entry.
    public func setException(_ e: CalendarException, by actor: Actor) async throws {
        try await store.write(as: actor) { ctx in
            let sql = ctx.sql
            let old = try await sql.select().columns("date", "working", "note").from("calendar_exceptions").where("date", .equal, SQLBind(e.date.iso)).first(decoding: ExceptionRow.self)
            try await sql.delete(from: "calendar_exceptions").where("date", .equal, SQLBind(e.date.iso)).run()
            try await sql.insert(into: "calendar_exceptions").columns("date", "working", "note", "created_by")
                .values(SQLBind(e.date.iso), SQLBind(e.working), SQLBind(e.note), SQLBind(actor.login)).run()
            try ctx.audit(old == nil ? "create" : "update", entity: "calendar_exception", id: e.date.iso,
                          before: old.map { ExceptionSnapshot(date: $0.date, working: $0.working, note: $0.note) },
                          after: ExceptionSnapshot(date: e.date.iso, working: e.working, note: e.note))
        }
    }

    public func removeException(_ date: CivilDate, by actor: Actor) async throws {
        try await store.write(as: actor) { ctx in
            let sql = ctx.sql
            guard let old = try await sql.select().columns("date", "working", "note").from("calendar_exceptions").where("date", .equal, SQLBind(date.iso)).first(decoding: ExceptionRow.self) else { return }
            try await sql.delete(from: "calendar_exceptions").where("date", .equal, SQLBind(date.iso)).run()
            try ctx.audit("delete", entity: "calendar_exception", id: date.iso, before: ExceptionSnapshot(date: old.date, working: old.working, note: old.note))
        }
    }
}
