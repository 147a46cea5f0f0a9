import Foundation
import JumysDomain
import JumysRules
import JumysStore

/// The parameters and calendar in force: the shipped files with the administrators' additions from the database.
/// Reloaded after a change here, and at most every `refreshInterval` so that other instances' changes show too.
public final class RulesService: Sendable {
    public let files: ParameterSet
    public let fileCalendar: WorkCalendar
    let rulesStore: RulesStore
    let refreshInterval: TimeInterval
    private let box: Locked<(env: RulesEnvironment, loadedAt: Date)>

    public init(store: Store, files: ParameterSet, calendar: WorkCalendar, refreshInterval: TimeInterval = 30) async throws {
        self.files = files
        self.fileCalendar = calendar
        self.rulesStore = RulesStore(store: store)
        self.refreshInterval = refreshInterval
        let env = try await rulesStore.environment(files: files, calendar: calendar)
        self.box = Locked((env, Date()))
    }

    public func current() async throws -> RulesEnvironment {
        let (env, at) = box.value
        if Date().timeIntervalSince(at) < refreshInterval { return env }
        return try await reload()
    }

    @discardableResult
    public func reload() async throws -> RulesEnvironment {
        let env = try await rulesStore.environment(files: files, calendar: fileCalendar)
        box.value = (env, Date())
        return env
    }
}

/// A value behind a lock.
final class Locked<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}
