import FluentKit
import SQLKit

struct UpdatePersonsAddCasework: AsyncMigration {
    static let columns: [(String, DatabaseSchema.DataType)] = [
        ("education", .string), ("occupation_isco", .string), ("consent_on", .string), ("consent_scope", .string),
        ("consent_by", .string), ("tsa_recipient", .bool), ("tsa_suspended_on", .string),
    ]
    // SQLite adds one column per ALTER TABLE.
    func prepare(on db: any Database) async throws {
        for (name, type) in Self.columns { try await db.schema("persons").field(.definition(name: .key(FieldKey(stringLiteral: name)), dataType: type, constraints: [])).update() }
    }
    func revert(on db: any Database) async throws {
        for (name, _) in Self.columns { try await db.schema("persons").deleteField(FieldKey(stringLiteral: name)).update() }
    }
}

struct CreateCasework: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("person_categories")
            .field("id", .int, .identifier(auto: true))
            .field("person_id", .int, .required, .references("persons", "id"))
            .field("category", .string, .required)
            .field("from_date", .string, .required)
            .field("to_date", .string)
            .create()
        try await db.schema("household_members")
            .field("id", .int, .identifier(auto: true))
            .field("person_id", .int, .required, .references("persons", "id"))
            .field("full_name", .string, .required)
            .field("relation", .string, .required)
            .field("birth_date", .string, .required)
            .field("sex", .string, .required)
            .field("disabled", .bool, .required)
            .field("ill", .bool, .required)
            .create()
        try await db.schema("applications")
            .field("id", .int, .identifier(auto: true))
            .field("person_id", .int, .required, .references("persons", "id"))
            .field("region_iso", .string, .required)
            .field("district_id", .int, .required)
            .field("measure", .string, .required)
            .field("state", .string, .required)
            .field("submitted_on", .string, .required)
            .field("decision_due", .string, .required)
            .field("eligible", .bool, .required)
            .field("priorities", .string, .required)
            .field("eligibility", .custom(SQLRaw("TEXT")), .required)
            .field("decided_on", .string)
            .field("refusal_reason", .string)
            .field("refusal_text", .string)
            .field("signing_due", .string)
            .field("updated_at", .string, .required)
            .create()
        try await db.schema("contracts")
            .field("id", .int, .identifier(auto: true))
            .field("application_id", .int, .required, .references("applications", "id"))
            .field("person_id", .int, .required, .references("persons", "id"))
            .field("region_iso", .string, .required)
            .field("district_id", .int, .required)
            .field("number", .string, .required)
            .field("signed_on", .string, .required)
            .field("starts_on", .string, .required)
            .field("ends_on", .string, .required)
            .field("employer_id", .int, .references("organisations", "id"))
            .field("provider_id", .int, .references("organisations", "id"))
            .field("employer_notice", .custom(SQLRaw("TEXT")))
            .field("provider_notice", .custom(SQLRaw("TEXT")))
            .field("next_monitoring", .string, .required)
            .unique(on: "number")
            .unique(on: "application_id")
            .create()
        try await db.schema("contract_obligations")
            .field("id", .int, .identifier(auto: true))
            .field("contract_id", .int, .required, .references("contracts", "id"))
            .field("party", .string, .required)
            .field("text", .string, .required)
            .field("due_on", .string, .required)
            .field("fulfilled_on", .string)
            .create()
        try await db.schema("contract_monitoring")
            .field("id", .int, .identifier(auto: true))
            .field("contract_id", .int, .required, .references("contracts", "id"))
            .field("visited_on", .string, .required)
            .field("note", .string, .required)
            .field("by_login", .string, .required)
            .create()
        try await db.schema("contract_breaches")
            .field("id", .int, .identifier(auto: true))
            .field("contract_id", .int, .required, .references("contracts", "id"))
            .field("party", .string, .required)
            .field("occurred_on", .string, .required)
            .field("description", .string, .required)
            .field("sanction", .string, .required)
            .create()
        try await db.schema("tsa_suspensions")
            .field("id", .int, .identifier(auto: true))
            .field("person_id", .int, .required, .references("persons", "id"))
            .field("region_iso", .string, .required)
            .field("district_id", .int, .required)
            .field("suspended_on", .string, .required)
            .field("event", .string, .required)
            .field("contract_id", .int)
            .field("explanation", .custom(SQLRaw("TEXT")), .required)
            .field("resumed_on", .string)
            .create()
        try await db.schema("person_events")
            .field("id", .int, .identifier(auto: true))
            .field("person_id", .int, .required, .references("persons", "id"))
            .field("at", .string, .required)
            .field("on_date", .string, .required)
            .field("kind", .string, .required)
            .field("args", .custom(SQLRaw("TEXT")), .required)
            .field("explanation", .custom(SQLRaw("TEXT")))
            .field("actor", .string, .required)
            .create()
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.create(index: "applications_district_state_idx").on("applications").column("district_id").column("state").run()
        try await sql.create(index: "applications_person_idx").on("applications").column("person_id").run()
        try await sql.create(index: "contracts_district_idx").on("contracts").column("district_id").run()
        try await sql.create(index: "obligations_contract_idx").on("contract_obligations").column("contract_id").run()
        try await sql.create(index: "person_events_person_idx").on("person_events").column("person_id").column("id").run()
        try await sql.create(index: "person_categories_person_idx").on("person_categories").column("person_id").run()
        try await sql.create(index: "tsa_suspensions_district_idx").on("tsa_suspensions").column("district_id").run()
    }
    func revert(on db: any Database) async throws {
        for t in ["person_events", "tsa_suspensions", "contract_breaches", "contract_monitoring", "contract_obligations", "contracts", "applications", "household_members", "person_categories"] {
            try await db.schema(t).delete()
        }
    }
}

/// The worklist's due dates kept on the rows they come from, so that a district's worklist reads its earliest items
/// from an index instead of visiting every running application of the district (2,500 in a national dataset's
/// district, each looked up twice): `contracts.monitoring_due` is the next monitoring while the application runs,
/// NULL after; `contract_obligations.open_due` is the due date while the obligation is open and its contract runs,
/// NULL otherwise, next to the contract's region and district. Both are derived: `CaseStore.refreshWorklistDates`
/// recomputes them from their sources after every change that touches them.
struct WorklistDueDates: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("contracts").field("monitoring_due", .string).update()
        // One column per statement: SQLite adds one at a time.
        for (name, type) in [("region_iso", DatabaseSchema.DataType.string), ("district_id", .int), ("open_due", .string)] {
            try await db.schema("contract_obligations").field(FieldKey(stringLiteral: name), type).update()
        }
        guard let sql = db as? any SQLDatabase else { return }
        try await CaseStore.refreshWorklistDates(sql)
        try await sql.create(index: "contracts_monitoring_due_idx").on("contracts").column("district_id").column("monitoring_due").column("id").run()
        try await sql.create(index: "obligations_open_due_idx").on("contract_obligations").column("district_id").column("open_due").column("id").run()
        // Decisions and contracts due: the earliest of a district's applications in a state, from the index alone.
        try await sql.create(index: "applications_decision_due_idx").on("applications").column("district_id").column("state").column("decision_due").column("id").run()
        try await sql.create(index: "applications_signing_due_idx").on("applications").column("district_id").column("state").column("signing_due").column("id").run()
    }
    func revert(on db: any Database) async throws {
        guard let sql = db as? any SQLDatabase else { return }
        for i in ["applications_signing_due_idx", "applications_decision_due_idx", "obligations_open_due_idx", "contracts_monitoring_due_idx"] { try await sql.drop(index: i).run() }
        for name in ["open_due", "district_id", "region_iso"] { try await db.schema("contract_obligations").deleteField(FieldKey(stringLiteral: name)).update() }
        try await db.schema("contracts").deleteField("monitoring_due").update()
    }
}
