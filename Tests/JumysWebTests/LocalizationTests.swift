import Foundation
import JumysDomain
import Testing
@testable import JumysWeb

@Suite struct LocalizationTests {
    let translator = try! Translator.bundled()

    @Test func everyKeyExistsInEveryLanguage() {
        let kk = Set(translator.tables[.kk]!.keys), ru = Set(translator.tables[.ru]!.keys), en = Set(translator.tables[.en]!.keys)
        #expect(kk.subtracting(ru).sorted() == [], "missing in ru")
        #expect(kk.subtracting(en).sorted() == [], "missing in en")
        #expect(ru.subtracting(kk).sorted() == [], "missing in kk")
        #expect(en.subtracting(kk).sorted() == [], "missing in kk")
        for lang in Lang.allCases {
            for (k, v) in translator.tables[lang]! { #expect(!v.trimmingCharacters(in: .whitespaces).isEmpty, "\(lang) \(k) is empty") }
        }
    }

    /// Every key the code asks for by name, and every family built from an enum, is translated.
    @Test func everyKeyTheCodeUsesIsTranslated() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
        var used = Set<String>()
        let files = try #require(FileManager.default.subpaths(atPath: sources.path))
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for m in text.matches(of: /\.t\("([a-z0-9_.]+)"/) where !m.1.hasSuffix(".") { used.insert(String(m.1)) }
        }
        #expect(used.count > 40)
        for role in Role.allCases { used.insert("role.\(role.rawValue)"); used.insert("home.role.\(role.rawValue)") }
        for s in Sex.allCases { used.insert("sex.\(s.rawValue)") }
        for k in ["400", "401", "403", "404", "413", "422", "429", "500", "csrf", "readonly"] { used.insert("error.\(k)"); used.insert("error.\(k).next") }
        used.formUnion(["settlement.rural", "settlement.urban", "home.access.write", "home.access.read", "people.none", "people.not_found"])
        for lang in Lang.allCases {
            let missing = used.subtracting(translator.tables[lang]!.keys).sorted()
            #expect(missing == [], "missing in \(lang)")
        }
    }
}
