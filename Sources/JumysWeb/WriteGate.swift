import JumysDomain
import JumysStore
import Vapor

/// Who may post to a route at all, checked before the form or the body is read: any other role is refused with 403.
/// The stores check again, record by record, with the user's territory and body (the same checks for the pages and
/// the API); this gate only turns "not your kind of work" into a plain 403 instead of a form error, and keeps a
/// request of the wrong role from reaching any handler code. Routes not listed are left to their handlers.
/// `FullAccessMatrixTests` checks every route × role against `access-matrix.txt`.
struct WriteGate: AsyncMiddleware {
    static let casework: Set<Role> = [.caseworker, .administrator]
    static let employers: Set<Role> = [.caseworker, .administrator, .contractor]
    static let ministry: Set<Role> = [.ministryOfficer]
    static let commissions: Set<Role> = [.commissionMember]
    static let housing: Set<Role> = [.administrator, .regionalCoordinator, .akimatOfficer]
    static let projectBodies: Set<Role> = [.akimatOfficer, .regionalCoordinator, .commissionMember, .ministryOfficer, .contractor]

    static let rules: [String: Set<Role>] = [
        // Casework (A, B): the registry, applications, contracts, referrals and training, on the pages and in the API.
        "POST /api/v1/persons": casework, "POST /api/v1/applications": casework, "POST /api/v1/applications/:id/transitions": casework,
        "POST /api/v1/referrals": casework, "POST /vacancies/:id/refer": casework, "POST /api/v1/hires": employers,
        "POST /api/v1/referrals/:id/outcome": employers, "POST /referrals/:id/outcome": employers, "POST /referrals/import": employers,
        "POST /api/v1/training-referrals": casework, "POST /api/v1/training-referrals/:id/outcome": casework,
        "POST /people/:id/training": casework, "POST /training/:id/outcome": casework, "POST /placements/:id/amend": casework,
        "POST /people/:id/business": casework, "POST /people/:id/relocation": casework,
        "POST /housing/:id/allocate": casework, "POST /allocations/:id/release": casework,
        "POST /relocation/:id/recommendation": casework.union(commissions),
        // Vacancies: the employment centre or the employer; courses: the administrator or a provider.
        "POST /api/v1/vacancies": employers, "POST /vacancies": employers, "POST /courses": [.administrator, .contractor],
        // Labour needs (D): local bodies, then the authorised body's administrator.
        "POST /needs/local": [.akimatOfficer, .regionalCoordinator, .administrator], "POST /api/v1/needs/local": [.akimatOfficer, .regionalCoordinator, .administrator],
        "POST /needs/central": [.administrator], "POST /api/v1/needs/central": [.administrator],
        // Limits (F): the ministry proposes, the interagency commission decides, the akimat splits by district.
        "POST /limits/allocations": ministry, "POST /api/v1/limits/allocations": ministry,
        "POST /limits/allocations/:id/approve": commissions, "POST /api/v1/limits/allocations/:id/approve": commissions,
        "POST /limits/changes": ministry, "POST /api/v1/limits/changes": ministry,
        "POST /limits/changes/:id/:decision": commissions, "POST /api/v1/limits/changes/:id/decision": commissions,
        "POST /limits/:year/:direction/:region": [.akimatOfficer], "POST /limits/labour-force": [.administrator],
        // Credits, bonds and loans (C4, C5, F): the ministry and the akimat pass credits on; lenders make loans.
        "POST /credits": [.ministryOfficer, .akimatOfficer], "POST /bonds": ministry, "POST /bonds/:id/:kind": [.ministryOfficer, .akimatOfficer],
        "POST /loans": [.lender], "POST /loans/:id/:action": [.lender], "POST /api/v1/loans": [.lender], "POST /api/v1/loans/:id/:action": [.lender],
        // Infrastructure projects (E): the bodies of the pipeline and the contractors.
        "POST /api/v1/projects": [.akimatOfficer], "POST /api/v1/projects/:id/steps": projectBodies.subtracting([.contractor]),
        "POST /api/v1/projects/:id/reports": [.akimatOfficer, .contractor], "POST /projects/:id/reports": [.contractor],
        "POST /projects/:id/parties": [.akimatOfficer],
        // Reference data and the plan.
        "POST /settlements": [.administrator], "POST /settlements/:id/delist": [.administrator], "POST /plan/:plan/:n": ministry,
        "POST /housing/dwellings": housing, "POST /housing/cofinancing": housing,
    ]

    /// The rules as patterns split into segments, the most specific first: as the router does, a constant segment
    /// wins over a parameter (`/limits/allocations/:id/approve` before `/limits/:year/:direction/:region`).
    static let patterns: [(method: String, segments: [Substring], roles: Set<Role>)] = rules.map { key, roles in
        let parts = key.split(separator: " ")
        return (String(parts[0]), parts[1].split(separator: "/", omittingEmptySubsequences: true), roles)
    }.sorted { a, b in
        let ka = a.segments.map { $0.hasPrefix(":") ? 1 : 0 }, kb = b.segments.map { $0.hasPrefix(":") ? 1 : 0 }
        return ka.lexicographicallyPrecedes(kb) || (ka == kb && a.segments.joined(separator: "/") < b.segments.joined(separator: "/"))
    }

    /// The rule for a request's path: patterns match segment by segment, `:name` matching any one segment.
    static func roles(method: HTTPMethod, path: String) -> Set<Role>? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return patterns.first { p in
            p.method == method.rawValue && p.segments.count == segments.count && zip(p.segments, segments).allSatisfy { $0.0.hasPrefix(":") || $0.0 == $0.1 }
        }?.roles
    }

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if req.method == .POST, let u = req.user, let allowed = Self.roles(method: req.method, path: req.url.path), !allowed.contains(u.role) {
            throw Abort(.forbidden, reason: "role")
        }
        return try await next.respond(to: req)
    }
}
