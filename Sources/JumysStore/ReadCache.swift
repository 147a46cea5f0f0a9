import Foundation
import SQLKit

/// Results of expensive reads (the project board over every approved project), kept while the record has not
/// changed. The key includes the audit log's head: every recorded change moves it, on any instance, so a kept result
/// is never older than the last change. A result is also dropped after `maxAge`, and the cache holds at most
/// `capacity`. Requests that arrive while a result is being read wait for that one reading instead of starting their own.
public actor ReadCache {
    public static let shared = ReadCache()
    let capacity = 64, maxAge: TimeInterval = 300
    private var entries: [String: (at: Date, value: any Sendable)] = [:]
    private var reading: [String: Task<any Sendable, any Error>] = [:]

    struct Head: Decodable { let seq: Int }

    /// The value for `key` at the record's current state, read by `make` when there is none.
    public static func value<T: Sendable>(_ store: Store, _ key: String, _ make: @escaping @Sendable () async throws -> T) async throws -> T {
        let seq = try await store.sql.select().column("seq").from("audit_head").where("id", .equal, SQLBind(1)).first(decoding: Head.self)?.seq ?? -1
        let full = "\(store.instanceID)|\(seq)|\(key)"
        guard let v = try await shared.value(full, { try await make() as any Sendable }) as? T else { throw StoreError.configuration("read cache: wrong type for \(key)") }
        return v
    }

    func value(_ key: String, _ make: @escaping @Sendable () async throws -> any Sendable) async throws -> any Sendable {
        if let e = entries[key], Date().timeIntervalSince(e.at) < maxAge { return e.value }
        if let running = reading[key] { return try await running.value }
        let task = Task { try await make() }
        reading[key] = task
        defer { reading[key] = nil }
        let v = try await task.value
        if entries.count >= capacity, let oldest = entries.min(by: { $0.value.at < $1.value.at })?.key { entries[oldest] = nil }
        entries[key] = (Date(), v)
        return v
    }
}
