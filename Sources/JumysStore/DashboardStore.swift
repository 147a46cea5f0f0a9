import FluentKit
import Foundation
import JumysDomain
import JumysRules
import SQLKit

/// The figures of the dashboard and the map: per region (or per district of a region) the jobs created and the
/// people placed in a month, the projects whose referral quota is met, and the share of the year's limits committed.
public struct DashboardStore: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    public enum Measure: String, Sendable, CaseIterable {
        /// Jobs filled in the month's accepted project reports (G1).
        case jobs
        /// People who started work in the month under a labour contract from the centre's referral.
        case placed
        /// Projects whose referral quota is met, as a share of those with a quota (E4, E5).
        case quota
        /// The year's limits committed, as a share of those allocated (F1).
        case limit
    }

    /// One place's figures.
    public struct Figures: Sendable, Equatable {
        public var jobs = 0, placed = 0, quotaMet = 0, quotaProjects = 0
        public var committed: Int64 = 0, allocated: Int64 = 0
        public init() {}
        /// The measure's value: a count, or a percentage with one decimal (nil when there is nothing to divide by).
        public func value(_ m: Measure) -> Double? {
            switch m {
            case .jobs: Double(jobs)
            case .placed: Double(placed)
            case .quota: quotaProjects == 0 ? nil : (Double(quotaMet * 1000 / quotaProjects)) / 10
            case .limit: allocated == 0 ? nil : Double(committed * 1000 / allocated) / 10
            }
        }
    }

    /// Figures per region (`region` nil) or per district of a region, for a month and the month's year; with the
    /// place's total, the sum of its parts.
    public func figures(month: Payroll.Month, region: String?, user: UserContext, env: RulesEnvironment) async throws -> (places: [String: Figures], total: Figures) {
        var out: [String: Figures] = [:]
        let g1 = try await MonitoringStore(store: store).roadmapMonthly(month: month, region: region)
        for l in g1.lines { var f = out[l.place] ?? Figures(); f.jobs = l.jobs; out[l.place] = f }
        // Placed by referral: labour contracts from referrals starting in the month.
        struct P: Decodable { let region_iso: String; let district_id: Int; let n: Int }
        var pq = store.sql.select().column(SQLColumn("region_iso", table: "r")).column(SQLColumn("district_id", table: "r")).column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(SQLAlias(SQLIdentifier("labour_contracts"), as: SQLIdentifier("c")))
            .join(SQLAlias(SQLIdentifier("referrals"), as: SQLIdentifier("r")), method: SQLJoinMethod.inner, on: SQLColumn("referral_id", table: "c"), .equal, SQLColumn("id", table: "r"))
            .where(SQLColumn("starts_on", table: "c"), .greaterThanOrEqual, SQLBind(month.first.iso)).where(SQLColumn("starts_on", table: "c"), .lessThanOrEqual, SQLBind(month.last.iso))
        if let region { pq = pq.where(SQLColumn("region_iso", table: "r"), .equal, SQLBind(region)) }
        for p in try await pq.groupBy(SQLColumn("region_iso", table: "r")).groupBy(SQLColumn("district_id", table: "r")).all(decoding: P.self) {
            let k = region == nil ? p.region_iso : String(p.district_id)
            var f = out[k] ?? Figures(); f.placed += p.n; out[k] = f
        }
        // Referral quotas of the approved projects, as the board counts them today.
        let board = try await ProjectStore(store: store).board(ProjectStore.Filter(region: region), for: user, env: env, today: store.today())
        for b in board where b.compliance.quota != nil {
            let k = region == nil ? b.project.region_iso : String(b.project.district_id)
            var f = out[k] ?? Figures(); f.quotaProjects += 1; if b.compliance.status == .met { f.quotaMet += 1 }; out[k] = f
        }
        // The year's limits: the regions' own, or a region's districts' shares (where it has split them).
        let limits = try await LimitStore(store: store).limits(year: month.year, region: region)
        for l in limits where (region == nil) == (l.district_id == 0) {
            let k = region == nil ? l.region_iso : String(l.district_id)
            var f = out[k] ?? Figures(); f.committed += l.committed; f.allocated += l.amount; out[k] = f
        }
        var total = Figures()
        for f in out.values {
            total.jobs += f.jobs; total.placed += f.placed; total.quotaMet += f.quotaMet; total.quotaProjects += f.quotaProjects
            total.committed += f.committed; total.allocated += f.allocated
        }
        if region != nil {
            // A region's limit is its own, whether or not it has split it between districts.
            let own = limits.filter { $0.district_id == 0 }
            total.committed = own.reduce(0) { $0 + $1.committed }; total.allocated = own.reduce(0) { $0 + $1.amount }
        }
        return (out, total)
    }
}

extension DashboardStore {
    /// Something waiting for the user, counted, with the page where it is done.
    public struct Task: Sendable, Equatable {
        /// `projects` (with the state they wait in), `reports_to_file`, `reports_to_decide`, `limit_proposals`,
        /// `loans_flagged`, `plan_overdue`.
        public let what: String
        public let count: Int
        public let href: String
        public var state: ProjectState? = nil
    }

    /// What waits for this user, by the body they act for: the projects at a step of their body; the reports their
    /// body files that are overdue or returned, or that it decides on and are submitted; the limit proposals for the
    /// interagency commission; the flagged loans of a lender or a region; the overdue measures of the plans for the
    /// authorised body. Only what is not zero.
    public func tasks(for user: UserContext, env: RulesEnvironment) async throws -> [Task] {
        let today = store.today()
        let body = try await ProjectStore(store: store).body(of: user)
        var out: [Task] = []
        if let body {
            let states = Set(ProjectStep.allCases.filter { $0.body == body }.flatMap(\.from))
            let rows = try await ProjectStore(store: store).list(ProjectStore.Filter(states: Array(states)), for: user, limit: 10_000)
            let ownRows = body == .akimat && user.districtID != nil ? rows.filter { $0.district_id == user.districtID } : rows
            for (state, n) in Dictionary(grouping: ownRows, by: \.state).mapValues(\.count).sorted(by: { $0.key < $1.key }) {
                guard let s = ProjectState(rawValue: state) else { continue }
                out.append(Task(what: "projects", count: n, href: "/projects?state=\(state)", state: s))
            }
        }
        // Reports: this year's and last year's periods.
        let monitoring = MonitoringStore(store: store)
        let lender = user.role == .lender ? user.organisationID : nil
        let regions = try await monitoring.regions(of: user)
        var lines: [MonitoringStore.CalendarLine] = []
        if !regions.isEmpty || lender != nil {
            for y in [today.year - 1, today.year] { lines += try await monitoring.calendar(year: y, regions: regions, lender: lender, env: env, today: today) }
        }
        let regionAkimat = body == .akimat && user.districtID == nil
        let toFile = lines.filter { l in
            guard [.overdue, .returned].contains(l.status) else { return false }
            if MonitoringStore.filedByLender(l.report) { return lender != nil && l.filer.lender == lender }
            return regionAkimat && l.filer.lender == nil && l.region == user.regionISO
        }
        if !toFile.isEmpty { out.append(Task(what: "reports_to_file", count: toFile.count, href: "/reports")) }
        let toDecide = lines.filter { l in
            guard l.status == .submitted || l.status == .late, let body, MonitoringStore.decider(l.report) == body else { return false }
            return body != .akimat || (regionAkimat && l.region == user.regionISO)
        }
        if !toDecide.isEmpty { out.append(Task(what: "reports_to_decide", count: toDecide.count, href: "/reports")) }
        if body == .interagencyCommission {
            struct N: Decodable { let n: Int }
            let a = try await store.sql.raw("SELECT COUNT(*) AS n FROM limit_allocations WHERE state = 'proposed'").first(decoding: N.self)?.n ?? 0
            let c = try await store.sql.raw("SELECT COUNT(*) AS n FROM limit_changes WHERE state = 'proposed'").first(decoding: N.self)?.n ?? 0
            if a + c > 0 { out.append(Task(what: "limit_proposals", count: a + c, href: "/limits")) }
        }
        if lender != nil || regionAkimat {
            let credits = CreditStore(store: store)
            let loans = try await credits.loans(for: user, limit: 5_000)
            let flagged = try await credits.standings(of: loans, today: today).values.filter { !$0.flags.isEmpty }.count
            if flagged > 0 { out.append(Task(what: "loans_flagged", count: flagged, href: "/loans")) }
        }
        if body == .ministry {
            let plans = PlanStore(store: store)
            var overdue = 0
            for p in PlanStore.Plan.allCases { overdue += try await plans.lines(p, today: today, env: env).filter(\.overdue).count }
            if overdue > 0 { out.append(Task(what: "plan_overdue", count: overdue, href: "/plan")) }
        }
        return out
    }
}
