import Foundation
import SQLKit

/// Results of expensive reads (the project board over every approved project), kept while the record has not
/// changed. The key includes the audit log's head: every recorded change moves it, on any instance, so a kept result
/// is never older than the last change. A result is also dropped after `maxAge`, and the cache holds at most `capacity`.
public actor ReadCache {
    public static let shared = ReadCache()
    let capacity = 64, maxAge: TimeInterval = 300
    private var entries: [String: (at: Date, value: any Sendable)] = [:]

    /// The value for `key` at the record's current state, read by `make` when there is none.
    public static func value<T: Sendable>(_ store: Store, _ key: String, _ make: @Sendable () async throws -> T) async throws -> T {
        let seq = try await store.sql.select().column("seq").from("audit_head").where("id", .equal, SQLBind(1)).first(decoding: Head.self)?.seq ?? -1
        let full = "\(store.instanceID)|\(seq)|\(key)"
        if let hit: T = await shared.get(full) { return hit }
        let v = try await make()
        await shared.put(full, v)
        return v
    }

    struct Head: Decodable { let seq: Int }

    func get<T>(_ key: String) -> T? {
        guard let e = entries[key] else { return nil }
        guard Date().timeIntervalSince(e.at) < maxAge else { entries[key] = nil; return nil }
        return e.value as? T
    }

    func put(_ key: String, _ value: any Sendable) {
        if entries.count >= capacity, let oldest = entries.min(by: { $0.value.at < $1.value.at })?.key { entries[oldest] = nil }
        entries[key] = (Date(), value)
    }
}
