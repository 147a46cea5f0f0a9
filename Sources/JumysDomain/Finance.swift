/// A line of the programmes' money that has its own limit per year (F1, F2): the Roadmap's two directions and the
/// Programme 2020's four.
public enum FundingDirection: String, Sendable, Codable, CaseIterable {
    /// Roadmap, first direction: infrastructure projects (E).
    case roadmapProjects = "rm_projects"
    /// Roadmap, second direction: budget credits for loans to final borrowers (C4, C5).
    case roadmapCredit = "rm_credit"
    /// Programme 2020, direction 1: training, youth practice and social jobs (B).
    case programmeTraining = "ep_training"
    /// Programme 2020, direction 2: microcredits (C2).
    case programmeBusiness = "ep_business"
    /// Programme 2020, direction 3: relocation (D).
    case programmeRelocation = "ep_relocation"
    /// Programme 2020, direction 4: rural infrastructure projects (E10).
    case programmeProjects = "ep_projects"

    /// The direction whose limit an infrastructure project of a programme draws on.
    public static func of(_ programme: ProjectProgramme) -> FundingDirection {
        switch programme {
        case .roadmap: .roadmapProjects
        case .programmeDirection4: .programmeProjects
        }
    }

    /// The direction of a loan of a kind (its budget credit's direction).
    public static func of(_ loan: LoanKind) -> FundingDirection {
        switch loan {
        case .finalBorrower: .roadmapCredit
        case .microcredit: .programmeBusiness
        }
    }
}

/// How a limit changes after the allocation (F1: never recomputed from the labour force).
public enum LimitChangeKind: String, Sendable, Codable, CaseIterable {
    /// The regions' split of the national limit, approved by the interagency commission.
    case allocation
    /// A region's split of its limit between its districts.
    case districtSplit = "district_split"
    /// A region's limit made larger or smaller (clarification, correction).
    case correction
    /// Money moved from one region or direction to another.
    case reallocation
    /// A project's saving returned to the limit it came from (E11).
    case savingsReturn = "savings_return"
    /// Unused budget credit returned at the utilisation deadline (C4).
    case creditReturn = "credit_return"
}

public enum LimitChangeState: String, Sendable, Codable, CaseIterable { case proposed, approved, refused }

/// What draws on a limit.
public enum CommitmentKind: String, Sendable, Codable, CaseIterable {
    case project, budgetCredit = "budget_credit", payroll
    /// A one-off payment decided for a person (the relocation subsidy, D3).
    case payment
}

/// A loan of the credit chain's last link.
public enum LoanKind: String, Sendable, Codable, CaseIterable {
    /// Roadmap second direction (C5).
    case finalBorrower = "final_borrower"
    /// Programme 2020 direction 2 (C2).
    case microcredit
}

/// A link of the budget credit chain (C4): the republic lends to the local body, the local body to the regional
/// credit organisation.
public enum CreditLevel: String, Sendable, Codable, CaseIterable {
    case localBody = "local_body"
    case creditOrganisation = "credit_organisation"
}

public enum LoanState: String, Sendable, Codable, CaseIterable {
    /// Contract recorded, not yet disbursed in full.
    case contracted
    /// Disbursed; being repaid.
    case disbursed
    /// Repaid in full.
    case repaid
    /// The job-creation or target-use condition failed: penalty and demand for full repayment (C6).
    case demanded
}

/// What is recorded on a bond loan (C8).
public enum BondEventKind: String, Sendable, Codable, CaseIterable {
    case earlyRepayment = "early_repayment"
    /// The local body's monthly report of the use of funds.
    case useReport = "use_report"
}
