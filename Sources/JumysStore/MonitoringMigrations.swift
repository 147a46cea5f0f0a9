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

/// Reports are filed not only by a region's akimat but by each credit organisation lending in the region (C7), and
/// for quarters (G2) and half-years (the loans' monitoring) as well as months: `report_filings` keys a filing by its
/// filer (`akimat`, or `lender-ID`) within the region. Plans are two now (the Roadmap's and the Programme's), so a
/// measure's state is keyed by plan and number (`1`, or `4.3`). The rows already kept move over.
struct MonitoringFilersAndPlans: AsyncMigration {
    static let filingColumns = ["report", "period", "region_iso", "version", "state", "due_on", "late", "snapshot", "by_login", "saved_at", "submitted_on", "decided_by", "decided_on", "reason"]

    func prepare(on db: any Database) async throws {
        try await db.schema("report_filings")
            .field("id", .int, .identifier(auto: true))
            .field("report", .string, .required)
            .field("period", .string, .required)
            .field("region_iso", .string, .required)
            .field("filer", .string, .required)
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
            .unique(on: "report", "period", "region_iso", "filer", "version")
            .create()
        try await db.schema("plan_states")
            .field("plan", .string, .required)
            .field("n", .string, .required)
            .field("status", .string, .required)
            .field("evidence", .string, .required)
            .field("completed_on", .string)
            .field("updated_by", .string, .required)
            .field("updated_at", .string, .required)
            .unique(on: "plan", "n")
            .create()
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.create(index: "report_filings_period_idx").on("report_filings").column("period").column("report").run()
        let cols = Self.filingColumns.joined(separator: ", ")
        try await sql.raw("INSERT INTO report_filings (\(unsafeRaw: cols), filer) SELECT \(unsafeRaw: cols), 'akimat' FROM report_submissions WHERE region_iso IS NOT NULL ORDER BY id").run()
        try await sql.raw("INSERT INTO plan_states (plan, n, status, evidence, completed_on, updated_by, updated_at) SELECT 'roadmap', CAST(n AS TEXT), status, evidence, completed_on, updated_by, updated_at FROM plan_measures").run()
        try await db.schema("report_submissions").delete()
        try await db.schema("plan_measures").delete()
    }

    func revert(on db: any Database) async throws {
        try await CreateMonitoring().prepare(on: db)
        if let sql = db as? any SQLDatabase {
            let cols = Self.filingColumns.joined(separator: ", ")
            try await sql.raw("INSERT INTO report_submissions (\(unsafeRaw: cols)) SELECT \(unsafeRaw: cols) FROM report_filings WHERE filer = 'akimat' ORDER BY id").run()
            try await sql.raw("INSERT INTO plan_measures (n, status, evidence, completed_on, updated_by, updated_at) SELECT CAST(n AS INTEGER), status, evidence, completed_on, updated_by, updated_at FROM plan_states WHERE plan = 'roadmap'").run()
        }
        try await db.schema("plan_states").delete()
        try await db.schema("report_filings").delete()
    }
}
