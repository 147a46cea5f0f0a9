import Foundation
import JumysDomain
import Testing
@testable import JumysRules

@Suite struct ExplainedTests {
    @Test func stepsCarryRuleParameterValueAndDate() throws {
        let step = ExplanationStep(rule: "B2", text: "17.2 × MCI", parameter: "monthly_calculation_index", value: "2917",
                                   effectiveFrom: CivilDate(year: 2021, month: 1, day: 1))
        let explained = Explained(Money(tiyn: 5_017_240), steps: [step])
        let json = String(decoding: try JSONEncoder().encode(explained.steps), as: UTF8.self)
        #expect(json.contains("\"effectiveFrom\":\"2021-01-01\""))
        #expect(json.contains("\"rule\":\"B2\""))
        #expect(try JSONDecoder().decode([ExplanationStep].self, from: Data(json.utf8)) == [step])
        #expect(explained.value.decimalString == "50172.40")
    }
}
