import FluentKit
import SQLKit

/// Monitoring (G1–G4, C7): every submission of a statutory report, a frozen snapshot with its version; the state of
/// the measures of the Roadmap's plan (G3).
struct CreateMonitoring: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("report_submissions")
            .field("id", .int, .identifier(auto: true))
            .field("report", .string, .required)
            .field("period", .string, .required)
            .field("region_iso", .string)
            .field("version", .int, .required)
            .field("state", .string, .required)
            .field("due_on", .string, .required)
            .field("late", .bool, .required)
            .field("snapshot", .custom(SQLRaw("TEXT")), .required)
            .field("by_login", .string, .required)
            .field("saved_at", .string, .required)
            .field("submitted_on", .string)
            .field("decided_by", .string)
            .field("decided_on", .string)
            .field("reason", .string)
            .unique(on: "report", "period", "region_iso", "version")
            .create()
        // G3: the state of each measure of the Roadmap's plan (the measures themselves are reference data).
        try await db.schema("plan_measures")
            .field("n", .int, .identifier(auto: false))
            .field("status", .string, .required)
            .field("evidence", .string, .required)
            .field("completed_on", .string)
            .field("updated_by", .string, .required)
            .field("updated_at", .string, .required)
            .create()
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.create(index: "report_submissions_period_idx").on("report_submissions").column("period").column("report").column("region_iso").run()
    }
    func revert(on db: any Database) async throws {
        try await db.schema("plan_measures").delete()
        try await db.schema("report_submissions").delete()
    }
}
