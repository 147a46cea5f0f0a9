import Foundation

/// The languages of every page: Kazakh (default), Russian, English.
public enum Lang: String, CaseIterable, Sendable, Codable {
    case kk, ru, en

    public var nativeName: String {
        switch self {
        case .kk: "Қазақша"
        case .ru: "Русский"
        case .en: "English"
        }
    }

    /// The first of our languages the browser asks for (by q-value), else Kazakh.
    public static func negotiate(acceptLanguage: String?) -> Lang {
        guard let header = acceptLanguage else { return .kk }
        var best: (Lang, Double)? = nil
        for (index, part) in header.split(separator: ",").enumerated() {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased(), !tag.isEmpty else { continue }
            var q = 1.0
            for p in pieces.dropFirst() where p.hasPrefix("q=") { q = Double(p.dropFirst(2)) ?? 0 }
            let primary = String(tag.split(separator: "-").first ?? "")
            guard let lang = Lang(rawValue: primary), q > 0 else { continue }
            // Ties keep header order.
            let score = q - Double(index) * 1e-6
            if best == nil || score > best!.1 { best = (lang, score) }
        }
        return best?.0 ?? .kk
    }
}

/// Translated strings by key, loaded from `Localization/{kk,ru,en}.json`.
public struct Translator: Sendable {
    // Public so that the command line writes documents in the same words as the pages.
    public let tables: [Lang: [String: String]]

    public init(tables: [Lang: [String: String]]) { self.tables = tables }

    public static func bundled() throws -> Translator {
        var tables: [Lang: [String: String]] = [:]
        for lang in Lang.allCases {
            guard let url = Bundle.module.url(forResource: lang.rawValue, withExtension: "json", subdirectory: "Localization") else {
                throw AppConfig.Invalid(variable: "Localization/\(lang.rawValue).json", message: "missing from the build")
            }
            tables[lang] = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: url))
        }
        return Translator(tables: tables)
    }

    /// The string for `key` in `lang`, with `{name}` placeholders filled. A missing key shows as itself
    /// (and fails the localisation test long before it reaches anyone).
    public func t(_ key: String, _ lang: Lang, _ args: [String: String] = [:]) -> String {
        var s = tables[lang]?[key] ?? tables[.en]?[key] ?? key
        for (k, v) in args { s = s.replacingOccurrences(of: "{\(k)}", with: v) }
        return s
    }
}
