import Foundation
import JumysStore

/// An import's error report as CSV: the file's row, the column and the message in the reader's language.
public enum ImportReport {
    public static func header(_ translator: Translator, _ lang: Lang) -> String {
        ["import.col.row", "import.col.column", "import.col.message"].map { PaymentList.csvField(translator.t($0, lang)) }.joined(separator: ",") + "\r\n"
    }

    public static func line(_ e: ImportError, _ translator: Translator, _ lang: Lang) -> String {
        [String(e.row), e.column, translator.t("error.field.\(e.code)", lang, e.args)].map(PaymentList.csvField).joined(separator: ",") + "\r\n"
    }

    /// The whole report, written piece by piece to `write`.
    public static func write(job: Int, imports: ImportStore, translator: Translator, lang: Lang, _ write: (String) async throws -> Void) async throws {
        try await write("\u{FEFF}" + header(translator, lang))
        var chunk = ""
        try await imports.eachError(of: job) { e in
            chunk += line(e, translator, lang)
            if chunk.utf8.count > 64_000 { try await write(chunk); chunk = "" }
        }
        if !chunk.isEmpty { try await write(chunk) }
    }
}
