import JumysDomain

/// One step of an explanation: which rule, which parameter (with its value and effective date), what arithmetic.
public struct ExplanationStep: Codable, Sendable, Equatable {
    public let rule: String
    public let text: String
    public let parameter: String?
    public let value: String?
    public let effectiveFrom: CivilDate?

    public init(rule: String, text: String, parameter: String? = nil, value: String? = nil, effectiveFrom: CivilDate? = nil) {
        self.rule = rule; self.text = text; self.parameter = parameter; self.value = value; self.effectiveFrom = effectiveFrom
    }
}

/// A computed value with the steps that produced it (DESIGN.md: every result carries its explanation).
public struct Explained<Value: Sendable>: Sendable {
    public let value: Value
    public let steps: [ExplanationStep]
    public init(_ value: Value, steps: [ExplanationStep]) { self.value = value; self.steps = steps }
}
