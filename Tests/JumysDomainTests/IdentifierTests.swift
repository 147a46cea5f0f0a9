import Testing
@testable import JumysDomain

@Suite struct IINTests {
    @Test func validIINGivesBirthDateAndSex() throws {
        // Check digit 8 from weights 1..11 (computed independently of this code).
        let iin = try IIN("900515300008")
        #expect(iin.birthDate == CivilDate(year: 1990, month: 5, day: 15))
        #expect(iin.sex == .male)
    }

    @Test func secondWeightsAreUsedWhenTheFirstGiveTen() throws {
        // Weights 1..11 give 10 for these digits; weights 3..11,1,2 give 8.
        let iin = try IIN("900515300908")
        #expect(iin.birthDate.year == 1990)
    }

    @Test func numbersWithNoPossibleCheckDigitAreInvalid() {
        // 90051530091x: both weight sets give 10, so no 12th digit makes it valid.
        for last in 0...9 {
            #expect(throws: IdentifierError.badCheckDigit) { try IIN("90051530091\(last)") }
        }
        #expect(IIN.make(birthDate: CivilDate(year: 1990, month: 5, day: 15)!, sex: .male, serial: 91) == nil)
    }

    @Test func wrongCheckDigitIsRefused() {
        #expect(throws: IdentifierError.badCheckDigit) { try IIN("900515300009") }
    }

    @Test func shapeIsChecked() {
        #expect(throws: IdentifierError.notTwelveDigits) { try IIN("90051530000") }
        #expect(throws: IdentifierError.notTwelveDigits) { try IIN("90051530000a") }
        #expect(throws: IdentifierError.notTwelveDigits) { try IIN("") }
    }

    @Test(arguments: [(1, 1800, Sex.male), (2, 1800, .female), (3, 1900, .male), (4, 1900, .female), (5, 2000, .male), (6, 2000, .female)])
    func centuryAndSexDigit(digit: Int, century: Int, sex: Sex) throws {
        let date = CivilDate(year: century + 4, month: 2, day: 29)!
        // Find a serial with a check digit, then confirm the decoded fields.
        let iin = try #require((0..<100).lazy.compactMap { IIN.make(birthDate: date, sex: sex, serial: $0) }.first)
        #expect(iin.value[iin.value.index(iin.value.startIndex, offsetBy: 6)] == Character(String(digit)))
        #expect(iin.birthDate == date)
        #expect(iin.sex == sex)
    }

    @Test func impossibleDatesAndCenturiesAreRefused() throws {
        // Build digits with a valid check digit but an impossible date (Feb 30) or century digit 0.
        func withCheck(_ eleven: String) -> String {
            let d = eleven.map { Int(String($0))! }
            return eleven + String(KazakhCheckDigit.compute(d) ?? 0)
        }
        let badDate = withCheck("90023030000")
        if KazakhCheckDigit.compute(badDate.prefix(11).map { Int(String($0))! }) != nil {
            #expect(throws: IdentifierError.badDate) { try IIN(badDate) }
        }
        let badCentury = withCheck("90051500001")
        if KazakhCheckDigit.compute(badCentury.prefix(11).map { Int(String($0))! }) != nil {
            #expect(throws: IdentifierError.badCenturyDigit) { try IIN(badCentury) }
        }
    }

    @Test func maskedFormHidesTheMiddle() throws {
        #expect(try IIN("900515300008").masked == "90••••••••08")
        #expect(try IIN("900515300008").description == "90••••••••08")
    }
}

@Suite struct BINTests {
    @Test func syntheticBINsAreValidAndRoundTrip() throws {
        var made = 0
        for serial in 0..<200 {
            guard let b = BIN.make(year: 2010, month: 6, serial: serial) else { continue }
            #expect(try BIN(b.value) == b)
            made += 1
        }
        #expect(made > 150)
    }

    @Test func wrongCheckDigitAndKindAreRefused() throws {
        let b = try #require(BIN.make(year: 2010, month: 6, serial: 3301))
        let last = Int(String(b.value.last!))!
        let wrong = String(b.value.dropLast()) + String((last + 1) % 10)
        #expect(throws: IdentifierError.badCheckDigit) { try BIN(wrong) }
        #expect(throws: IdentifierError.notTwelveDigits) { try BIN("1234") }
    }
}
