import Foundation
import JumysDomain
import ZIPFoundation

/// A minimal Office Open XML spreadsheet writer: rows stream to temporary files, one per sheet, and are zipped
/// at the end, so a long payment list never sits in memory. Strings are inline, numbers typed, the header bold.
public final class XLSXWriter {
    /// A cell: text, a number, money (two decimals), wrapped text, or a date (a serial day number shown dd.mm.yyyy).
    public enum Cell { case text(String), number(String), amount(String), wrapped(String), date(CivilDate) }

    let url: URL
    let dir: URL
    var sheets: [(name: String, file: URL)] = []
    var handle: FileHandle?
    var rowNumber = 0

    public init(url: URL) throws {
        self.url = url
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("xlsx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    public func beginSheet(_ name: String, columnWidths: [Int]) throws {
        try endSheet()
        let file = dir.appendingPathComponent("sheet\(sheets.count + 1).xml")
        FileManager.default.createFile(atPath: file.path, contents: nil)
        handle = try FileHandle(forWritingTo: file)
        sheets.append((String(name.prefix(31)), file))
        rowNumber = 0
        var cols = ""
        for (i, w) in columnWidths.enumerated() { cols += "<col min=\"\(i + 1)\" max=\"\(i + 1)\" width=\"\(w)\" customWidth=\"1\"/>" }
        write(#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>"#
              + (cols.isEmpty ? "" : "<cols>\(cols)</cols>") + "<sheetData>")
    }

    /// The bold header row; `wrapped` wraps long titles within their column widths.
    public func header(_ titles: [String], wrapped: Bool = false) { row(titles.map { .text($0) }, style: wrapped ? 5 : 1, height: wrapped ? 45 : nil) }

    /// A row; `height` (points) for a row whose wrapped text needs more than one line (LibreOffice does not grow it).
    public func row(_ cells: [Cell], style: Int = 0, height: Int? = nil) {
        rowNumber += 1
        var x = "<row r=\"\(rowNumber)\"" + (height.map { " ht=\"\($0)\" customHeight=\"1\"" } ?? "") + ">"
        for (i, c) in cells.enumerated() {
            let ref = Self.column(i) + String(rowNumber)
            switch c {
            case .text(let s): x += "<c r=\"\(ref)\" t=\"inlineStr\"\(style > 0 ? " s=\"\(style)\"" : "")><is><t xml:space=\"preserve\">\(Self.escape(s))</t></is></c>"
            case .number(let n): x += "<c r=\"\(ref)\"\(style > 0 ? " s=\"\(style)\"" : "")><v>\(n)</v></c>"
            case .amount(let n): x += "<c r=\"\(ref)\" s=\"\(style == 1 ? 3 : 2)\"><v>\(n)</v></c>"
            case .wrapped(let s): x += "<c r=\"\(ref)\" t=\"inlineStr\" s=\"4\"><is><t xml:space=\"preserve\">\(Self.escape(s))</t></is></c>"
            case .date(let d): x += "<c r=\"\(ref)\" s=\"6\"><v>\(Self.serial(d))</v></c>"
            }
        }
        write(x + "</row>")
    }

    func endSheet() throws {
        guard let h = handle else { return }
        // Printed landscape, all columns on one page wide.
        write(#"</sheetData><pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/><pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>"#)
        try h.close()
        handle = nil
    }

    func write(_ s: String) { handle?.write(Data(s.utf8)) }

    /// Writes the workbook and closes it.
    public func finish() throws {
        try endSheet()
        try? FileManager.default.removeItem(at: url)
        let archive = try Archive(url: url, accessMode: .create)
        func add(_ path: String, _ text: String) throws {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { pos, size in
                data.subdata(in: Int(pos)..<Int(pos) + size)
            }
        }
        var overrides = ""
        var sheetList = "", rels = ""
        for (i, s) in sheets.enumerated() {
            overrides += #"<Override PartName="/xl/worksheets/sheet\#(i + 1).xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
            sheetList += #"<sheet name="\#(Self.escape(s.name))" sheetId="\#(i + 1)" r:id="rId\#(i + 1)"/>"#
            rels += #"<Relationship Id="rId\#(i + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet\#(i + 1).xml"/>"#
        }
        try add("[Content_Types].xml", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\#(overrides)</Types>"#)
        try add("_rels/.rels", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#)
        try add("xl/workbook.xml", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>\#(sheetList)</sheets></workbook>"#)
        try add("xl/_rels/workbook.xml.rels", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\#(rels)<Relationship Id="rId\#(sheets.count + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#)
        // Styles: 0 plain, 1 bold header, 2 amount with two decimals and grouping, 3 bold amount (totals), 4 wrapped text, 5 bold wrapped header.
        try add("xl/styles.xml", ##"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="#,##0.00"/><numFmt numFmtId="165" formatCode="dd.mm.yyyy"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"##)
        for (i, s) in sheets.enumerated() {
            try archive.addEntry(with: "xl/worksheets/sheet\(i + 1).xml", fileURL: s.file, compressionMethod: .deflate)
        }
    }

    /// The spreadsheet's day number of a date: days since 30 December 1899 (1 January 1970 is 25569).
    static func serial(_ d: CivilDate) -> Int { d.daysSinceEpoch + 25_569 }

    static func column(_ i: Int) -> String {
        var n = i + 1, s = ""
        while n > 0 { let r = (n - 1) % 26; s = String(UnicodeScalar(65 + r)!) + s; n = (n - 1) / 26 }
        return s
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case _ where ch.value < 0x20 && ch != "\n" && ch != "\t": continue
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
