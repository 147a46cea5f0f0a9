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

    /// A step that names a parameter used, with its value and the date it took effect.
    public static func uses(_ rule: String, _ name: String, _ v: ParameterValue) -> ExplanationStep {
        ExplanationStep(rule: rule, text: "\(name) = \(v.value) (in force from \(v.effectiveFrom.iso))", parameter: name,
                        value: v.value.description, effectiveFrom: v.effectiveFrom)
    }
}

/// A computed value with the steps that produced it (DESIGN.md: every result carries its explanation).
public struct Explained<Value: Sendable>: Sendable {
    public let value: Value
    public let steps: [ExplanationStep]
    public init(_ value: Value, steps: [ExplanationStep]) { self.value = value; self.steps = steps }

    public func map<U: Sendable>(_ f: (Value) -> U) -> Explained<U> { Explained<U>(f(value), steps: steps) }
}

/// What a rule is computed against: the date, the parameters in force, and the calendar.
public struct RuleContext: Sendable {
    public let date: CivilDate
    public let parameters: ParameterSet
    public let calendar: WorkCalendar

    public init(date: CivilDate, parameters: ParameterSet, calendar: WorkCalendar) {
        self.date = date; self.parameters = parameters; self.calendar = calendar
    }

    public func on(_ other: CivilDate) -> RuleContext { RuleContext(date: other, parameters: parameters, calendar: calendar) }

    /// A parameter's value on this context's date (throws when the rule is not in force then).
    public func p(_ name: String) throws -> ParameterValue { try parameters.value(name, at: date) }
}

/// Invalid input to a rule: names the input and says what is expected.
public struct RuleInputError: Error, CustomStringConvertible, Equatable {
    public let input: String
    public let message: String
    public init(_ input: String, _ message: String) { self.input = input; self.message = message }
    public var description: String { "\(input): \(message)" }
}

extension Money {
    /// Tenge held by a parameter (e.g. the MCI) as money.
    public init(fixedTenge v: FixedDecimal) { self.init(tiyn: v.units / (FixedDecimal.scale / 100)) }
}
