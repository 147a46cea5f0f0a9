import Foundation
import JumysDomain
import Yams

/// Units a parameter may be expressed in.
public enum ParameterUnit: String, Sendable, Codable, CaseIterable {
    case KZT, MCI, percent, m2, days, working_days, months, years, count
}

/// One dated value of a parameter.
public struct ParameterValue: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case file(String)
        case administrator(login: String, at: String)
    }
    public let effectiveFrom: CivilDate
    public let value: FixedDecimal
    public let reference: String?
    public let source: Source

    public init(effectiveFrom: CivilDate, value: FixedDecimal, reference: String?, source: Source) {
        self.effectiveFrom = effectiveFrom; self.value = value; self.reference = reference; self.source = source
    }
}

/// A parameter of the programmes: what it is, its unit, the clause it comes from, and its values by date.
public struct Parameter: Sendable {
    public let name: String
    public let description: String
    public let unit: ParameterUnit
    public let reference: String
    /// Ascending by date.
    public let values: [ParameterValue]
    /// When true each value holds for the calendar year of its date only (budgets, yearly targets).
    public let yearly: Bool

    public init(name: String, description: String, unit: ParameterUnit, reference: String, values: [ParameterValue], yearly: Bool = false) {
        self.name = name; self.description = description; self.unit = unit; self.reference = reference; self.values = values; self.yearly = yearly
    }

    /// The value in force on `date`: the last one effective on or before it (for a yearly parameter, of that year).
    public func value(at date: CivilDate) -> ParameterValue? {
        var found: ParameterValue? = nil
        for v in values {
            if v.effectiveFrom <= date { found = v } else { break }
        }
        if yearly, let f = found, f.effectiveFrom.year != date.year { return nil }
        return found
    }

    /// This parameter with an administrator's value added; a value on the same date replaces the file's.
    public func adding(_ v: ParameterValue) -> Parameter {
        var vs = values.filter { $0.effectiveFrom != v.effectiveFrom }
        vs.append(v)
        vs.sort { $0.effectiveFrom < $1.effectiveFrom }
        return Parameter(name: name, description: description, unit: unit, reference: reference, values: vs, yearly: yearly)
    }
}

/// A parameter file that does not meet the rules; start-up stops with this message.
public struct ParameterFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int
    public let message: String
    public var description: String { "\(file):\(line): \(message)" }
}

/// Why a parameter cannot be used for a date.
public struct ParameterMissing: Error, CustomStringConvertible, Equatable {
    public let name: String
    public let date: CivilDate
    public var description: String { "parameter \(name) has no value on \(date.iso) (the rule is not in force on that date)" }
}

/// Every parameter, from the YAML files with administrators' dated values applied on top.
public struct ParameterSet: Sendable {
    public let parameters: [String: Parameter]

    public init(parameters: [String: Parameter]) { self.parameters = parameters }

    public subscript(_ name: String) -> Parameter? { parameters[name] }

    public func value(_ name: String, at date: CivilDate) throws(ParameterMissing) -> ParameterValue {
        guard let v = parameters[name]?.value(at: date) else { throw ParameterMissing(name: name, date: date) }
        return v
    }

    public func adding(_ name: String, _ v: ParameterValue) -> ParameterSet {
        guard let p = parameters[name] else { return self }
        var ps = parameters
        ps[name] = p.adding(v)
        return ParameterSet(parameters: ps)
    }

    /// The files shipped in this module's `Parameters` folder, validated.
    public static func bundled() throws -> ParameterSet {
        guard let root = Bundle.module.url(forResource: "Parameters", withExtension: nil) else {
            throw ParameterFileError(file: "Parameters", line: 0, message: "the parameter folder is missing from the build")
        }
        return try load(directory: root)
    }

    /// Loads every `*.yaml` below `directory`; the parameter's name is the file's name.
    public static func load(directory: URL) throws -> ParameterSet {
        let fm = FileManager.default
        guard let paths = fm.subpaths(atPath: directory.path) else {
            throw ParameterFileError(file: directory.path, line: 0, message: "cannot read the folder")
        }
        var out: [String: Parameter] = [:]
        for rel in paths.sorted() where rel.hasSuffix(".yaml") {
            let url = directory.appendingPathComponent(rel)
            let name = url.deletingPathExtension().lastPathComponent
            let text = try String(contentsOf: url, encoding: .utf8)
            let p = try parse(text, name: name, file: "Parameters/" + rel)
            if out[name] != nil { throw ParameterFileError(file: "Parameters/" + rel, line: 1, message: "a parameter named \(name) is defined twice") }
            out[name] = p
        }
        return ParameterSet(parameters: out)
    }

    static let topKeys: Set<String> = ["description", "unit", "reference", "values", "period"]
    static let valueKeys: Set<String> = ["value", "reference"]

    /// Parses and validates one file: known keys only, a known unit, a reference, dates ascending, numbers exact.
    public static func parse(_ text: String, name: String, file: String) throws -> Parameter {
        func fail(_ node: Node?, _ message: String) -> ParameterFileError {
            ParameterFileError(file: file, line: node?.mark?.line ?? 1, message: message)
        }
        let root: Node
        do {
            guard let r = try Yams.compose(yaml: text) else { throw fail(nil, "the file is empty") }
            root = r
        } catch let e as ParameterFileError { throw e } catch let e as YamlError {
            throw ParameterFileError(file: file, line: Self.line(of: e), message: "not valid YAML: \(e)")
        }
        guard let map = root.mapping else { throw fail(root, "expected keys description, unit, reference, values") }
        var fields: [String: Node] = [:]
        for (k, v) in map {
            guard let key = k.string else { throw fail(k, "a key must be text") }
            guard topKeys.contains(key) else { throw fail(k, "unknown key '\(key)' (allowed: description, unit, reference, values, period)") }
            fields[key] = v
        }
        guard let desc = fields["description"]?.string, !desc.isEmpty else { throw fail(root, "description is missing") }
        guard let unitNode = fields["unit"] else { throw fail(root, "unit is missing") }
        guard let unitText = unitNode.string, let unit = ParameterUnit(rawValue: unitText) else {
            throw fail(unitNode, "unknown unit '\(unitNode.string ?? "")' (known: \(ParameterUnit.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var yearly = false
        if let period = fields["period"] {
            guard period.string == "year" else { throw fail(period, "period may only be 'year' (each value holds for its own year)") }
            yearly = true
        }
        guard let ref = fields["reference"]?.string, !ref.isEmpty else { throw fail(fields["reference"] ?? root, "reference is missing (the rule ID and clause)") }
        guard let valuesNode = fields["values"], let valuesMap = valuesNode.mapping, valuesMap.count > 0 else {
            throw fail(fields["values"] ?? root, "values is missing or empty (dates mapped to values)")
        }
        var values: [ParameterValue] = []
        for (k, v) in valuesMap {
            guard let ds = k.string, let date = CivilDate(iso: ds) else { throw fail(k, "'\(k.string ?? "")' is not a date YYYY-MM-DD") }
            if let last = values.last, date <= last.effectiveFrom { throw fail(k, "dates must ascend: \(ds) comes after \(last.effectiveFrom.iso)") }
            var valueNode = v
            var valueRef: String? = nil
            if let m = v.mapping {
                var got: Node? = nil
                for (vk, vv) in m {
                    guard let key = vk.string, valueKeys.contains(key) else { throw fail(vk, "unknown key '\(vk.string ?? "")' in a value (allowed: value, reference)") }
                    if key == "value" { got = vv } else { valueRef = vv.string }
                }
                guard let g = got else { throw fail(v, "the value for \(ds) is missing") }
                valueNode = g
            }
            guard let s = valueNode.scalar?.string, let number = FixedDecimal(s) else { throw fail(valueNode, "the value for \(ds) is not a number with at most four decimals") }
            if unit != .percent || number.units >= 0 {
                if number.units < 0 { throw fail(valueNode, "the value for \(ds) is negative") }
            }
            values.append(ParameterValue(effectiveFrom: date, value: number, reference: valueRef, source: .file(file)))
        }
        return Parameter(name: name, description: desc, unit: unit, reference: ref, values: values, yearly: yearly)
    }

    private static func line(of e: YamlError) -> Int {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return 0
        }
    }
}
