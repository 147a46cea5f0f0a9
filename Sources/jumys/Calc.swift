import ArgumentParser
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Logging

/// Parameters and calendar for the command line: the files, plus the database's additions when a database exists.
enum RulesBoot {
    static func environment() async throws -> RulesEnvironment {
        let files = try ParameterSet.bundled(), cal = try WorkCalendar.bundled()
        let config = try Boot.config()
        if case .sqliteFile(let path) = config.database, !FileManager.default.fileExists(atPath: path) {
            return RulesEnvironment(parameters: files, calendar: cal)
        }
        var logger = Logger(label: "jumys.calc")
        logger.logLevel = .warning
        let store = try Store(location: config.database, logger: logger)
        defer { Task { await store.shutdown() } }
        try await store.migrate()
        let env = try await RulesStore(store: store).environment(files: files, calendar: cal)
        await store.shutdown()
        return env
    }

    static func today() -> CivilDate { CivilDate(kazakhstanAt: Date()) }

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("jumys: \(message)\n".utf8))
        return ExitCode(2)
    }
}

struct Calc: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute one rule: jumys calc RULE name=value … [--date YYYY-MM-DD] [--json]",
        discussion: "Rules: " + RuleCatalogue.all.map(\.name).joined(separator: ", "))

    @ArgumentParser.Argument(help: "The rule's name") var rule: String
    @ArgumentParser.Argument(help: "Inputs as name=value") var inputs: [String] = []
    @ArgumentParser.Option(help: "Date the rule is computed on (default: today)") var date: String?
    @ArgumentParser.Flag(help: "Print JSON instead of a table") var json = false

    func run() async throws {
        guard let spec = RuleCatalogue.byName[rule] else { throw RulesBoot.fail("unknown rule \(rule); known: \(RuleCatalogue.all.map(\.name).joined(separator: ", "))") }
        var values: [String: String] = [:]
        for pair in inputs {
            guard let eq = pair.firstIndex(of: "=") else { throw RulesBoot.fail("\(pair): expected name=value") }
            values[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        var on = RulesBoot.today()
        if let date {
            guard let d = CivilDate(iso: date), RuleInputs.dateRange.contains(d) else { throw RulesBoot.fail("--date: expected YYYY-MM-DD between 1900-01-01 and 2200-12-31") }
            on = d
        }
        let env = try await RulesBoot.environment()
        let result: Explained<RuleOutput>
        do { result = try spec(RuleInputs(values), env.context(on: on)) } catch let e as RuleInputError {
            throw RulesBoot.fail("invalid input \(e.input): \(e.message)")
        } catch let e as ParameterMissing {
            throw RulesBoot.fail(e.description)
        }
        if json {
            print(RuleOutput.object([("rule", .text(rule)), ("date", .date(on)), ("result", result.value), ("explanation", RuleOutput.steps(result.steps))]).json)
            return
        }
        print("rule         \(spec.name) (\(spec.references.joined(separator: ", ")))")
        print("date         \(on.iso)")
        print("inputs       \(values.isEmpty ? "—" : values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: " "))")
        if case .list(let rows) = result.value, case .object(let first)? = rows.first {
            print("result")
            let cols = first.map(\.0)
            print("  " + cols.map { $0.padding(toLength: 14, withPad: " ", startingAt: 0) }.joined())
            for case .object(let kv) in rows {
                print("  " + kv.map { $0.1.plain.replacingOccurrences(of: " KZT", with: "").padding(toLength: 14, withPad: " ", startingAt: 0) }.joined())
            }
        } else {
            print("result       \(result.value.plain)")
        }
        print("explanation")
        for s in result.steps { print("  \(s.rule.padding(toLength: 4, withPad: " ", startingAt: 0)) \(s.text)") }
    }
}

struct CalcBatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calc-batch",
        abstract: "Compute many rules: one JSON request {\"rule\",\"date\",\"inputs\"} per input line, one JSON answer per output line (streamed).")

    @ArgumentParser.Option(help: "Input file (JSON lines)") var input: String
    @ArgumentParser.Option(help: "Output file (JSON lines)") var output: String

    func run() async throws {
        guard let inHandle = FileHandle(forReadingAtPath: input) else { throw RulesBoot.fail("cannot read \(input)") }
        guard FileManager.default.createFile(atPath: output, contents: nil), let out = FileHandle(forWritingAtPath: output) else { throw RulesBoot.fail("cannot write \(output)") }
        let env = try await RulesBoot.environment()
        let today = RulesBoot.today()
        var lines = 0, errors = 0
        var pending = Data()
        var buffer = Data()
        func answer(_ line: Data) {
            lines += 1
            let text: String
            do {
                guard let obj = try JSONSerialization.jsonObject(with: line) as? [String: Any] else { throw RuleInputError("line", "expected a JSON object") }
                guard let name = obj["rule"] as? String, let spec = RuleCatalogue.byName[name] else { throw RuleInputError("rule", "unknown rule") }
                var on = today
                if let d = obj["date"] { guard let s = d as? String, let p = CivilDate(iso: s), RuleInputs.dateRange.contains(p) else { throw RuleInputError("date", "expected YYYY-MM-DD between 1900-01-01 and 2200-12-31") }; on = p }
                let r = try spec(RuleInputs(json: (obj["inputs"] as? [String: Any]) ?? [:]), env.context(on: on))
                text = RuleOutput.object([("line", .count(lines)), ("rule", .text(name)), ("date", .date(on)), ("result", r.value), ("explanation", RuleOutput.steps(r.steps))]).json
            } catch {
                errors += 1
                let (input, message): (String, String) = (error as? RuleInputError).map { ($0.input, $0.message) } ?? ("line", String(describing: error))
                text = RuleOutput.object([("line", .count(lines)), ("error", .object([("input", .text(input)), ("message", .text(message))]))]).json
            }
            buffer.append(Data(text.utf8)); buffer.append(10)
            if buffer.count > 1 << 20 { out.write(buffer); buffer.removeAll(keepingCapacity: true) }
        }
        while true {
            let chunk = inHandle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let nl = pending.firstIndex(of: 10) {
                let line = pending[pending.startIndex..<nl]
                if !line.allSatisfy({ $0 == 32 || $0 == 13 }) { answer(Data(line)) }
                pending.removeSubrange(pending.startIndex...nl)
            }
        }
        if !pending.isEmpty, !pending.allSatisfy({ $0 == 32 || $0 == 13 }) { answer(pending) }
        out.write(buffer)
        try out.close()
        FileHandle.standardError.write(Data("\(lines) lines, \(errors) with errors\n".utf8))
    }
}
