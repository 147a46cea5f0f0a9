/// Which programme an infrastructure project belongs to.
public enum ProjectProgramme: String, Sendable, Codable, CaseIterable {
    /// The Employment Roadmap 2020–2021, first direction (E1–E9, E11).
    case roadmap
    /// The Employment Programme 2020, direction 4: rural settlements of medium or high potential and small towns (E10).
    case programmeDirection4 = "ep2020_dir4"
}

/// E1: the objects a project builds or repairs (the Roadmap's list, with Programme 2020 direction 4's additions).
public enum ObjectType: String, Sendable, Codable, CaseIterable {
    case socialCultural = "social_cultural"
    case utilityNetworks = "utility_networks"
    case roads
    case waterWorks = "water_works"
    case buildings
    case ruralHousingUtilities = "rural_housing_utilities"
    case ruralClinic = "rural_clinic"
    case landscaping
}

/// E1: the kinds of work.
public enum WorkType: String, Sendable, Codable, CaseIterable {
    case newConstruction = "new_construction"
    case repair
    case modular
    case temporary
    /// Other work allowed by the interagency commission's decision.
    case byCommission = "by_commission"
}

/// Where a project stands in the E2 pipeline and afterwards.
public enum ProjectState: String, Sendable, Codable, CaseIterable {
    case draft, proposed, compiled
    case regionalApproved = "regional_approved", regionalRejected = "regional_rejected"
    case consolidated, selected, replaced, approved, removed
    case inWorks = "in_works", completed
}

/// The bodies of E2 (and the contractor), each acting only on its own step.
public enum ProjectBody: String, Sendable, Codable, CaseIterable {
    case akimat, coordinator
    case regionalCommission = "regional_commission"
    case ministry
    case workingGroup = "working_group"
    case interagencyCommission = "interagency_commission"
    case contractor
}

/// A step of the pipeline and the works, with who takes it and from which states.
public enum ProjectStep: String, Sendable, Codable, CaseIterable {
    case propose, compile, returnToAkimat = "return", approveRegional = "approve_regional", rejectRegional = "reject_regional"
    case consolidate, select, replace, approve, amend, remove, add
    case start, complete

    public var body: ProjectBody {
        switch self {
        case .propose, .start, .complete: .akimat
        case .compile, .returnToAkimat: .coordinator
        case .approveRegional, .rejectRegional: .regionalCommission
        case .consolidate: .ministry
        case .select, .replace: .workingGroup
        case .approve, .amend, .remove, .add: .interagencyCommission
        }
    }

    /// The states the step may start from.
    public var from: Set<ProjectState> {
        switch self {
        case .propose: [.draft]
        case .compile, .returnToAkimat: [.proposed]
        case .approveRegional, .rejectRegional: [.compiled]
        case .consolidate: [.regionalApproved]
        case .select, .replace: [.consolidated]
        case .approve, .remove: [.selected]
        case .amend: [.selected, .approved]
        case .add: [.consolidated, .replaced]
        case .start: [.approved]
        case .complete: [.inWorks]
        }
    }

    /// The state after the step (amend keeps the state).
    public func to(_ current: ProjectState) -> ProjectState {
        switch self {
        case .propose: .proposed
        case .compile: .compiled
        case .returnToAkimat: .draft
        case .approveRegional: .regionalApproved
        case .rejectRegional: .regionalRejected
        case .consolidate: .consolidated
        case .select: .selected
        case .replace: .replaced
        case .approve, .add: .approved
        case .amend: current
        case .remove: .removed
        case .start: .inWorks
        case .complete: .completed
        }
    }
}

/// Whether a project's referral quota is kept (E4, E5, E10).
public enum QuotaStatus: String, Sendable, Codable, CaseIterable {
    /// Not yet binding: the project is not approved, or (for permanent jobs) not yet commissioned.
    case pending
    case met
    /// Below the quota while there is still time to fill it.
    case atRisk = "at_risk"
    /// Below the quota when the time is over.
    case breached
}

/// When a project's job is filled: during works (E4, E10) or in the permanent jobs after commissioning (E5).
public enum ProjectPhase: String, Sendable, Codable, CaseIterable {
    case works, permanent

    /// Whether vacancies of this phase may be opened in a project's state.
    public func open(_ s: ProjectState) -> Bool {
        switch self {
        case .works: [.approved, .inWorks].contains(s)
        case .permanent: [.inWorks, .completed].contains(s)
        }
    }
}
