import ArgumentParser
import Foundation
import JumysDomain
import JumysRules
import JumysStore
import JumysWeb
import Logging
import Vapor

@main
struct Jumys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jumys",
        abstract: "Jumys: the information system of Kazakhstan's state employment programmes.",
        subcommands: [Serve.self, Migrate.self, Audit.self, UserCommand.self, Calc.self, CalcBatch.self, Bench.self, PayrollCommand.self, SeedCommand.self, ImportCommand.self, BackupCommand.self, RestoreCommand.self]
    )
}

/// Shared start-up: configuration from the environment, logging, the store, migrations, reference data.
enum Boot {
    static func config() throws -> AppConfig {
        do { return try AppConfig.fromEnvironment() } catch let e as AppConfig.Invalid {
            FileHandle.standardError.write(Data("jumys: configuration error: \(e.description)\n".utf8))
            throw ExitCode(78)
        }
    }

    static func store(_ config: AppConfig, logger: Logger) async throws -> Store {
        // The store never logs below info (SQL with values would show IINs and names).
        let store = try Store(location: config.database, logger: logger)
        try await store.migrate()
        try await ReferenceData.load(into: store)
        return store
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the web server (HOST, PORT and DATABASE_URL from the environment).")

    @ArgumentParser.Flag(help: "Load the demonstration dataset and accounts (password 'demo').")
    var demo = false

    func run() async throws {
        let config = try Boot.config()
        // The rules' files are checked before anything else: a bad parameter file stops start-up with its name and line.
        let files: ParameterSet, calendar: WorkCalendar
        do { (files, calendar) = (try ParameterSet.bundled(), try WorkCalendar.bundled()) } catch {
            FileHandle.standardError.write(Data("jumys: \(error)\n".utf8))
            throw ExitCode(78)
        }
        var env = Environment(name: "production", arguments: ["jumys"])
        env.arguments = ["jumys"]
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardOutput(label: label)
            h.logLevel = config.logLevel
            return h
        }
        let app = try await Application.make(env)
        do {
            let store = try await Boot.store(config, logger: app.logger)
            if demo {
                print("Loading the demonstration dataset…")
                let loaded = try await DemoData.load(into: store, hashPassword: { try Bcrypt.hash($0, cost: config.bcryptCost) })
                try await PortalStore(store: store).loadDemoCourses()
                _ = try await DemoData.loadProjects(into: store)
                _ = try await DemoData.loadFinance(into: store)
                print("Demo data: \(loaded.users) accounts and \(loaded.persons) persons added (existing ones kept).")
            }
            try configure(app, services: try await AppServices.make(config: config, store: store, files: files, calendar: calendar))
            let address = "http://\(config.host):\(config.port)"
            print("")
            print("Jumys is running at \(address)  (\(config.database.redacted))")
            if demo {
                print("Sign in with any of these accounts, password '\(DemoData.password)':")
                for a in DemoData.accounts { print("  \(a.login.padding(toLength: 20, withPad: " ", startingAt: 0)) \(a.description)") }
            } else if try await Directory(store: store).hasUsers() == false {
                print("No accounts yet: create one with `swift run jumys user add --login admin --role administrator` (or start with --demo).")
            }
            print("Stop with Ctrl-C.")
            // Vapor's own serve command runs the server until SIGINT or SIGTERM.
            app.environment.arguments = ["jumys", "serve", "--hostname", config.host, "--port", String(config.port)]
            try await app.execute()
            // SIGTERM or SIGINT: the server stops taking connections and finishes the requests in flight (up to
            // its shutdown timeout), the background workers stop between steps; only then is the database closed.
            try await app.asyncShutdown()
            await store.shutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or update the database schema and load reference data.")
    func run() async throws {
        let config = try Boot.config()
        let store = try await Boot.store(config, logger: Logger(label: "jumys.migrate"))
        print("Migrated \(config.database.redacted).")
        await store.shutdown()
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Audit log tools.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain of the audit log; exit 1 naming the first bad record.")
        func run() async throws {
            let config = try Boot.config()
            var logger = Logger(label: "jumys.audit")
            logger.logLevel = .warning
            let store = try Store(location: config.database, logger: logger)
            let result = try await AuditLog.verify(store.sql)
            await store.shutdown()
            switch result {
            case .intact(let n):
                print("audit chain intact: \(n) records")
            case .broken(let seq, let reason):
                print("audit chain BROKEN at record \(seq): \(reason)")
                throw ExitCode(1)
            }
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "User accounts.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an account; the password is read from JUMYS_PASSWORD or standard input.")
        @ArgumentParser.Option var login: String
        @ArgumentParser.Option(help: "One of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))") var role: String
        @ArgumentParser.Option(help: "Name shown in the pages") var name: String?
        @ArgumentParser.Option(help: "Region ISO code, e.g. KZ-71") var region: String?

        func run() async throws {
            guard let r = Role(rawValue: role) else { throw ValidationError("unknown role \(role)") }
            let config = try Boot.config()
            var password = ProcessInfo.processInfo.environment["JUMYS_PASSWORD"] ?? ""
            if password.isEmpty {
                print("Password: ", terminator: "")
                password = readLine(strippingNewline: true) ?? ""
            }
            guard password.count >= 10 else { throw ValidationError("the password must have at least 10 characters") }
            let store = try await Boot.store(config, logger: Logger(label: "jumys.user"))
            let id = try await Directory(store: store).ensureUser(NewUser(login: login.lowercased(), passwordHash: try Bcrypt.hash(password, cost: config.bcryptCost), role: r, displayName: name ?? login, regionISO: region))
            print("user \(login) has id \(id)")
            await store.shutdown()
        }
    }
}
