import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// A table read from an uploaded file: CSV (UTF-8, or UTF-16 with its byte-order mark; comma, semicolon or tab
/// separated; quoted cells may hold separators, quotes and line breaks) or XLSX (the workbook's first sheet).
/// The first row names the columns. Problems with the file as a whole are field errors of `file`.
public struct TableFile: Sendable {
    /// Column names, trimmed and lower-cased.
    public let header: [String]
    /// Data rows, cells trimmed; a row may be shorter than the header.
    public let rows: [[String]]
    /// The row number in the file of each data row, as a spreadsheet numbers it (the header is row 1, a blank line
    /// is a row, a quoted cell's line breaks are not), for error reports.
    public let rowNumbers: [Int]

    public static let maxUncompressed: UInt64 = 256 << 20

    public init(header: [String], rows: [[String]], rowNumbers: [Int]) {
        self.header = header; self.rows = rows; self.rowNumbers = rowNumbers
    }

    /// XLSX when the bytes are a ZIP archive, CSV otherwise.
    public static func read(_ data: Data) throws -> TableFile {
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try readXLSX(data) }
        return try readCSV(data)
    }

    static func fileError(_ code: String, _ args: [String: String] = [:]) -> FieldErrors { FieldErrors(errors: [FieldError("file", code, args)]) }

    /// The cell in `column` of a row, or "" when the row is short or the column absent.
    public func cell(_ row: [String], _ column: String) -> String {
        guard let i = header.firstIndex(of: column), i < row.count else { return "" }
        return row[i]
    }

    // MARK: CSV

    /// A text file's characters: UTF-8 (with or without a byte-order mark) or UTF-16 with one; anything else (a
    /// file saved in Windows-1251) is refused with `file_encoding` rather than read with replacement characters.
    public static func text(of data: Data) throws -> String {
        let text: String
        if data.starts(with: [0xFF, 0xFE]) || data.starts(with: [0xFE, 0xFF]) {
            guard let t = String(data: data, encoding: .utf16) else { throw fileError("file_encoding") }
            text = t
        } else {
            guard let t = String(validating: Array(data), as: UTF8.self) else { throw fileError("file_encoding") }
            text = t.hasPrefix("\u{FEFF}") ? String(t.dropFirst()) : t
        }
        guard text.contains(where: { !$0.isWhitespace }) else { throw fileError("file_empty") }
        guard !text.contains("\u{0}") else { throw fileError("file_encoding") }
        return text
    }

    public static func readCSV(_ data: Data) throws -> TableFile {
        let text = try text(of: data)
        let firstLine = text.prefix { !$0.isNewline }
        let sep: Character = firstLine.contains("\t") ? "\t" : (firstLine.filter { $0 == ";" }.count > firstLine.filter { $0 == "," }.count ? ";" : ",")
        var records: [[String]] = [], numbers: [Int] = []
        var row: [String] = [], cell = "", quoted = false, wasQuoted = false
        var line = 1, recordStart = 1
        func endCell() { row.append(wasQuoted ? cell : cell.trimmedSpaces); cell = ""; wasQuoted = false }
        func endRow() {
            endCell()
            if row.contains(where: { !$0.isEmpty }) { records.append(row); numbers.append(recordStart) }
            row = []; recordStart = line
        }
        var it = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while let c = pending ?? it.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = it.next() { if n == "\"" { cell.unicodeScalars.append("\"") } else { quoted = false; pending = n } } else { quoted = false }
                } else {
                    cell.unicodeScalars.append(c)
                }
            } else if c == "\"" && cell.trimmedSpaces.isEmpty {
                quoted = true; wasQuoted = true; cell = ""
            } else if Character(c) == sep {
                endCell()
            } else if c == "\r" {
                continue
            } else if c == "\n" {
                line += 1; endRow()
            } else {
                cell.unicodeScalars.append(c)
            }
        }
        guard !quoted else { throw fileError("file_unclosed_quote", ["row": String(recordStart)]) }
        if !cell.isEmpty || !row.isEmpty { line += 1; endRow() }
        guard let header = records.first else { throw fileError("file_empty") }
        return TableFile(header: header.map { $0.trimmedSpaces.lowercased() }, rows: Array(records.dropFirst()), rowNumbers: Array(numbers.dropFirst()))
    }

    // MARK: XLSX

    public static func readXLSX(_ data: Data) throws -> TableFile {
        let archive: Archive
        do { archive = try Archive(data: data, accessMode: .read) } catch { throw fileError("file_unreadable") }
        func entry(_ path: String) throws -> Data? {
            guard let e = archive[path] else { return nil }
            guard e.uncompressedSize <= maxUncompressed else { throw fileError("file_too_big") }
            var out = Data()
            do { _ = try archive.extract(e, skipCRC32: false) { out.append($0) } } catch { throw fileError("file_unreadable") }
            return out
        }
        // The first sheet of the workbook, through its relationship; else the first worksheet part.
        var sheetPath = "xl/worksheets/sheet1.xml"
        if let wb = try entry("xl/workbook.xml"), let rels = try entry("xl/_rels/workbook.xml.rels") {
            let sheets = XMLCollector(elements: ["sheet"]).run(wb), relations = XMLCollector(elements: ["Relationship"]).run(rels)
            if let rid = sheets.first?["r:id"], let target = relations.first(where: { $0["Id"] == rid })?["Target"] {
                sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
            }
        }
        guard let sheet = try entry(sheetPath) else { throw fileError("file_unreadable") }
        let shared = try entry("xl/sharedStrings.xml").map { SharedStrings().run($0) } ?? []
        let reader = SheetReader(shared: shared)
        guard reader.run(sheet) else { throw fileError("file_unreadable") }
        let nonEmpty = reader.rows.filter { $0.cells.contains { !$0.isEmpty } }
        guard let header = nonEmpty.first else { throw fileError("file_empty") }
        let rest = nonEmpty.dropFirst()
        return TableFile(header: header.cells.map { $0.trimmedSpaces.lowercased() },
                         rows: rest.map { $0.cells.map { $0.trimmedSpaces } }, rowNumbers: rest.map(\.number))
    }

    /// "C" → 2: the zero-based column of a cell reference's letters.
    static func column(_ ref: String) -> Int? {
        var n = 0, any = false
        for u in ref.unicodeScalars {
            guard u.value >= 65 && u.value <= 90 else { break }
            n = n * 26 + Int(u.value - 64); any = true
        }
        return any && n <= 16_384 ? n - 1 : nil
    }
}

extension String {
    /// Without leading and trailing white space (a plain scan: Foundation's trimming is slow on long files).
    var trimmedSpaces: String {
        guard let a = firstIndex(where: { !$0.isWhitespace }), let b = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[a...b])
    }
}

/// The attributes of every element with one of the given names.
final class XMLCollector: NSObject, XMLParserDelegate {
    let elements: Set<String>
    var found: [[String: String]] = []
    init(elements: Set<String>) { self.elements = elements }
    func run(_ data: Data) -> [[String: String]] {
        let p = XMLParser(data: data)
        p.delegate = self
        _ = p.parse()
        return found
    }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if elements.contains(name) { found.append(attributes) }
    }
}

/// The shared strings table: each `si`'s text runs joined.
final class SharedStrings: NSObject, XMLParserDelegate {
    var strings: [String] = []
    var current = "", inText = false, inItem = false, inPhonetic = false
    func run(_ data: Data) -> [String] {
        let p = XMLParser(data: data)
        p.delegate = self
        _ = p.parse()
        return strings
    }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "si": inItem = true; current = ""
        case "rPh": inPhonetic = true
        case "t": inText = inItem && !inPhonetic
        default: break
        }
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "si": strings.append(current); inItem = false
        case "rPh": inPhonetic = false
        case "t": inText = false
        default: break
        }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }
}

/// A worksheet's rows: each cell's shown text (shared and inline strings resolved, numbers as written).
final class SheetReader: NSObject, XMLParserDelegate {
    struct Row { let number: Int; var cells: [String] }
    let shared: [String]
    var rows: [Row] = []
    var row: Row? = nil
    var cellColumn = 0, cellType = "", value = "", inValue = false, inInline = false
    var nextColumn = 0
    init(shared: [String]) { self.shared = shared }

    func run(_ data: Data) -> Bool {
        let p = XMLParser(data: data)
        p.delegate = self
        return p.parse()
    }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "row":
            let n = attributes["r"].flatMap(Int.init) ?? ((rows.last?.number ?? 0) + 1)
            row = Row(number: n, cells: []); nextColumn = 0
        case "c":
            cellColumn = attributes["r"].flatMap(TableFile.column) ?? nextColumn
            cellType = attributes["t"] ?? "n"; value = ""
        case "v": inValue = true
        case "is": inInline = true
        case "t": if inInline { inValue = true }
        default: break
        }
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "v", "t": inValue = false
        case "is": inInline = false
        case "c":
            guard var r = row else { return }
            var text = value
            if cellType == "s" { text = Int(value).flatMap { $0 >= 0 && $0 < shared.count ? shared[$0] : nil } ?? "" }
            else if cellType == "b" { text = value == "1" ? "true" : "false" }
            if cellColumn < 16_384 {
                while r.cells.count < cellColumn { r.cells.append("") }
                if r.cells.count == cellColumn { r.cells.append(text) } else { r.cells[cellColumn] = text }
            }
            nextColumn = cellColumn + 1
            row = r
        case "row":
            if let r = row { rows.append(r) }
            row = nil
        default: break
        }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { if inValue { value += string } }
}
