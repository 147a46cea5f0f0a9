import ArgumentParser
import Foundation
import JumysDomain
import JumysStore
import JumysWeb
import Logging

/// `jumys import KIND FILE --as LOGIN`: a CSV or XLSX file imported into the database `DATABASE_URL` names, as the
/// given user (their territory and rights apply, the audit log names them). Rows are committed in batches; bad rows
/// go to an error report; the same file again adds nothing; a run that was killed resumes where it stopped.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import",
        abstract: "Import persons, vacancies, labour contracts, projects or monthly progress from a CSV or XLSX file.",
        discussion: "KIND is one of: \(ImportKind.allCases.map(\.rawValue).joined(separator: ", ")). The columns each kind reads are in the README (API) and on the page /imports.")

    @ArgumentParser.Argument(help: "What the file holds") var kind: String
    @ArgumentParser.Argument(help: "The CSV or XLSX file") var file: String
    @ArgumentParser.Option(name: .customLong("as"), help: "The login of the user the import is made as") var login: String
    @ArgumentParser.Option(help: "Where to write the error report (default: FILE.errors.csv)") var errors: String?
    @ArgumentParser.Option(help: "Language of the messages: kk, ru or en") var lang = "en"

    func run() async throws {
        guard let kind = ImportKind(rawValue: kind) else { throw RulesBoot.fail("KIND: expected one of \(ImportKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard let lang = Lang(rawValue: lang) else { throw RulesBoot.fail("--lang: expected kk, ru or en") }
        guard let data = FileManager.default.contents(atPath: file) else { throw RulesBoot.fail("\(file): cannot be read") }
        let translator = try Translator.bundled()
        let config = try Boot.config()
        var logger = Logger(label: "jumys.import")
        logger.logLevel = .warning
        let store = try await Boot.store(config, logger: logger)
        do { try await work(store, kind: kind, lang: lang, data: data, translator: translator); await store.shutdown() } catch { await store.shutdown(); throw error }
    }

    func work(_ store: Store, kind: ImportKind, lang: Lang, data: Data, translator: Translator) async throws {
        guard let user = try await Directory(store: store).credentials(login: login)?.user else { throw RulesBoot.fail("--as: no active user \(login)") }
        let imports = ImportStore(store: store)
        let submitted: (job: ImportJob, existing: Bool)
        do { submitted = try await imports.submit(kind, fileName: file, data: data, by: user) } catch let e as FieldErrors {
            for err in e.errors { FileHandle.standardError.write(Data("\(file): \(translator.t("error.field.\(err.code)", lang, err.args))\n".utf8)) }
            throw ExitCode(65)
        }
        var job = submitted.job
        if submitted.existing {
            print(job.isFinished ? "This file was imported already (job \(job.id), \(job.created_at)): nothing is added again."
                                 : "Resuming job \(job.id) at row \(job.rows_done + 1) of \(job.rows_total).")
        } else {
            print("Importing \(job.rows_total) rows of \(kind.rawValue) as \(user.login) (job \(job.id)).")
        }
        let clock = ContinuousClock(), start = clock.now
        do {
            job = try await imports.run(job.id) { j in Terminal.progress("rows", done: j.rows_done, total: j.rows_total) }
        } catch ImportStore.Failure.busy {
            FileHandle.standardError.write(Data("Job \(job.id) is being run by another process; try again when it stops (or in a minute, if it died elsewhere).\n".utf8))
            throw ExitCode(75)
        }
        let seconds = Terminal.seconds(clock.now - start)
        if let problem = job.problem {
            FileHandle.standardError.write(Data("The import stopped: \(translator.t("error.field.\(problem)", lang))\n".utf8))
            throw ExitCode(65)
        }
        print("Added \(job.added), already present \(job.present), rows with errors \(job.failed) (of \(job.rows_total)).")
        if !submitted.existing || !job.isFinished { print(String(format: "%.1f s, %.0f rows/s", seconds, Double(job.rows_total) / max(seconds, 0.001))) }
        if job.failed > 0 {
            let path = errors ?? file + ".errors.csv"
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            guard let h = FileHandle(forWritingAtPath: path) else { throw RulesBoot.fail("\(path): cannot be written") }
            try await ImportReport.write(job: job.id, imports: imports, translator: translator, lang: lang) { h.write(Data($0.utf8)) }
            try h.close()
            print("Error report: \(path)")
        }
    }
}

/// Progress on the terminal's error stream, on one line.
enum Terminal {
    static func progress(_ label: String, done: Int, total: Int) {
        let pct = total == 0 ? 100 : done * 100 / total
        let bar = String(repeating: "█", count: pct / 4) + String(repeating: "░", count: 25 - pct / 4)
        FileHandle.standardError.write(Data("\r\(label.padding(toLength: 12, withPad: " ", startingAt: 0)) \(bar) \(pct)% (\(done) of \(total))   ".utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
}
