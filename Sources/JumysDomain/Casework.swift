/// Categories a person may be registered under, each with the dates it applies (A1, A4).
public enum PersonCategory: String, Sendable, Codable, CaseIterable {
    case unemployed, jobSeeker = "job_seeker", selfEmployed = "self_employed", lowIncome = "low_income"
    case partiallyEmployed = "partially_employed", schoolLeaver = "school_leaver", disabledAbleToWork = "disabled_able_to_work"
    case orphanUnder23 = "orphan_under_23", earlyRetiree = "early_retiree", hazardousWorkAllowance = "hazardous_work_allowance"
    case repatriate, neetYouth = "neet_youth", student, releasedWorker = "released_worker", unpaidLeave = "unpaid_leave"
}

/// Level of education (Kazakhstan's system, simplified to what the centres record).
public enum EducationLevel: String, Sendable, Codable, CaseIterable {
    case none, primary, basicSecondary = "basic_secondary", generalSecondary = "general_secondary"
    case technicalVocational = "technical_vocational", postSecondary = "post_secondary", higher, postgraduate
}

/// The measures a person applies for at the employment centre.
public enum Measure: String, Sendable, Codable, CaseIterable {
    case training, youthPractice = "youth_practice", socialJob = "social_job"
    case vacancyPlacement = "vacancy_placement", infrastructureReferral = "infrastructure_referral"
    /// Direction 2 (C1–C3): starting or expanding a business; direction 3 (D1–D6): moving to a place with jobs.
    case entrepreneurship, relocation

    /// Measures whose application carries details of its own (a business, a move) and is taken on its own form.
    public var hasOwnForm: Bool { self == .entrepreneurship || self == .relocation }

    /// A3: every measure has a social contract except direct placement on an existing vacancy without training.
    public var needsSocialContract: Bool { self != .vacancyPlacement }
}

/// What an application goes through (A2, A3).
public enum ApplicationState: String, Sendable, Codable, CaseIterable {
    case submitted, underReview = "under_review", included, refused, contractSigned = "contract_signed", active, completed, terminated

    public var isFinal: Bool { self == .refused || self == .completed || self == .terminated }
    /// The social contract runs: signed, or the participation active.
    public var isRunning: Bool { self == .contractSigned || self == .active }
}

/// The actions that move an application from one state to the next.
public enum ApplicationAction: String, Sendable, Codable, CaseIterable {
    case startReview = "start_review", include, refuse, signContract = "sign_contract", activate, complete, terminate
}

extension ApplicationState {
    /// The state an action leads to, or nil when the action is not allowed now (the one state machine of the system).
    public func after(_ action: ApplicationAction, measure: Measure) -> ApplicationState? {
        switch (self, action) {
        case (.submitted, .startReview): return .underReview
        case (.underReview, .include): return .included
        case (.underReview, .refuse): return .refused
        case (.included, .signContract): return measure.needsSocialContract ? .contractSigned : nil
        case (.included, .activate): return measure.needsSocialContract ? nil : .active
        case (.contractSigned, .activate): return .active
        case (.contractSigned, .terminate): return .terminated
        case (.active, .complete): return .completed
        case (.active, .terminate): return .terminated
        default: return nil
        }
    }

    /// The actions allowed from this state for a measure.
    public func allowedActions(measure: Measure) -> [ApplicationAction] {
        ApplicationAction.allCases.filter { after($0, measure: measure) != nil }
    }
}

/// Reasons to refuse an application (A2); free text may be added.
public enum RefusalReason: String, Sendable, Codable, CaseIterable {
    case notInCategory = "not_in_category", documentsIncomplete = "documents_incomplete", notResident = "not_resident"
    case alreadyParticipating = "already_participating", noSuitableMeasure = "no_suitable_measure"
    case applicantDeclined = "applicant_declined", other
}

/// The parties of a social contract (A3).
public enum ContractParty: String, Sendable, Codable, CaseIterable {
    case participant, centre, employer, provider
}

/// Relation of a household member to the person.
public enum HouseholdRelation: String, Sendable, Codable, CaseIterable {
    case spouse, child, parent, sibling, other
}

/// What happened to a contract that the TSA rule looks at (A5).
public enum ParticipationEvent: String, Sendable, Codable, CaseIterable {
    case refusal, breach
}

/// Where a business is to be started or expanded (C1): rural settlements, small towns and settlements that count as
/// urban may take part; cities may not.
public enum BusinessPlace: String, Sendable, Codable, CaseIterable {
    case rural, smallTown = "small_town", township, city
}

/// The bodies whose conclusions the centre asks for on a business application (C3).
public enum ConclusionBody: String, Sendable, Codable, CaseIterable {
    case businessAuthority = "business_authority", ruralAkim = "rural_akim", lender, infrastructureAuthority = "infrastructure_authority"
}

/// A settlement's socio-economic potential on the lists that relocation starts and ends at (D1).
public enum SettlementPotential: String, Sendable, Codable, CaseIterable { case low, high }

/// Who recommends a relocation (D2): it follows from the kind of move.
public enum RecommendingBody: String, Sendable, Codable, CaseIterable {
    case districtCommission = "district_commission", regionalCommission = "regional_commission", programmeOperator = "operator"
}

/// Kinds of service housing (D4, D5).
public enum DwellingKind: String, Sendable, Codable, CaseIterable {
    case flat, house, familyHostelRoom = "family_hostel_room", youthHostelRoom = "youth_hostel_room"
}
