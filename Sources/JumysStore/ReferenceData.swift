import FluentKit
import Foundation
import JumysDomain
import SQLKit

/// Reads the reference files the project carries and loads them; running it again changes nothing.
public enum ReferenceData {
    public static func url(_ name: String, _ ext: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Reference") else {
            throw StoreError.configuration("reference file \(name).\(ext) is missing from the build")
        }
        return url
    }

    /// Rows of a CSV file with a header, as dictionaries (quoted fields with commas and "" escapes supported).
    public static func csv(_ name: String) throws -> [[String: String]] {
        let text = try String(contentsOf: url(name, "csv"), encoding: .utf8)
        let rows = CSV.parse(text)
        guard let header = rows.first else { return [] }
        return rows.dropFirst().filter { $0 != [""] }.map { row in
            var d: [String: String] = [:]
            for (i, k) in header.enumerated() { d[k] = i < row.count ? row[i] : "" }
            return d
        }
    }

    struct RegionSnapshot: Encodable, Sendable { let iso, kato, name_kk, name_ru, name_en: String; let labour_force: Int }

    /// Thousands with one decimal ("307.3") to whole persons, without floating point.
    static func persons(fromThousands s: String) throws -> Int {
        guard let m = Money(string: s) else { throw StoreError.invalid(field: "labour force", reason: "not a number: \(s)") }
        return Int(m.tiyn * 10) // 307.3 → 30730 hundredths → × 10 = 307300
    }

    @discardableResult
    public static func load(into store: Store) async throws -> (regions: Int, districts: Int, organisations: Int) {
        let regions = try csv("regions")
        let districts = try csv("districts")
        let organisations = try csv("organisations")
        let result = try await store.write(as: .system) { ctx in
            let db = ctx.db
            let haveRegions = Set(try await RegionRecord.query(on: db).all(\.$id).compactMap { $0 })
            var added = (0, 0, 0)
            for r in regions where !haveRegions.contains(r["iso"]!) {
                let m = RegionRecord()
                m.id = r["iso"]!; m.kato = r["kato"]!; m.kind = r["kind"]!
                m.nameKk = r["name_kk"]!; m.nameRu = r["name_ru"]!; m.nameEn = r["name_en"]!
                m.labourForce = try persons(fromThousands: r["labour_force_2023_thousand"]!)
                m.unemployed = try persons(fromThousands: r["unemployed_2023_thousand"]!)
                try await m.create(on: db)
                try ctx.audit("create", entity: "region", id: m.id!, after: RegionSnapshot(iso: m.id!, kato: m.kato, name_kk: m.nameKk, name_ru: m.nameRu, name_en: m.nameEn, labour_force: m.labourForce))
                added.0 += 1
            }
            // The labour force that ships with the regions is the first statistics period for limits (F1).
            let haveLF = try await LimitStore(store: store).labourForce(period: LimitStore.shippedPeriod, on: ctx.sql)
            let missingLF = regions.filter { haveLF[$0["iso"]!] == nil }
            for r in missingLF {
                try await ctx.sql.insert(into: "labour_force").columns("period", "region_iso", "persons", "loaded_by", "loaded_at")
                    .values(SQLBind(LimitStore.shippedPeriod), SQLBind(r["iso"]!), SQLBind(Int64(try persons(fromThousands: r["labour_force_2023_thousand"]!))), SQLBind("system"), SQLBind(AuditLog.timestamp(ctx.now))).run()
            }
            if !missingLF.isEmpty {
                try ctx.audit("load", entity: "labour_force", id: LimitStore.shippedPeriod, after: ["rows": String(missingLF.count), "from": "regions.csv"])
            }
            // Districts and organisations go in one statement each (two hundred and more rows), each load one audit
            // record naming what it added.
            struct Keyed: Decodable { let id: Int; let kato: String }
            var districtByKato: [String: Int] = [:]
            for d in try await ctx.sql.select().column("id").column("kato").from("districts").all(decoding: Keyed.self) { districtByKato[d.kato] = d.id }
            let newDistricts = districts.filter { districtByKato[$0["kato"]!] == nil }
            if !newDistricts.isEmpty {
                var insert = ctx.sql.insert(into: "districts").columns("region_iso", "kato", "name_kk", "name_ru", "name_en", "settlement_kind")
                for r in newDistricts {
                    insert = insert.values(SQLBind(r["region_iso"]!), SQLBind(r["kato"]!), SQLBind(r["name_kk"]!), SQLBind(r["name_ru"]!), SQLBind(r["name_en"]!), SQLBind(r["settlement_kind"]!))
                }
                try await insert.run()
                for d in try await ctx.sql.select().column("id").column("kato").from("districts").all(decoding: Keyed.self) { districtByKato[d.kato] = d.id }
                try ctx.audit("load", entity: "districts", id: "districts.csv", after: ["rows": String(newDistricts.count), "kato": newDistricts.map { $0["kato"]! }.joined(separator: " ")])
                added.1 = newDistricts.count
            }
            let haveOrgs = Set(try await OrganisationRecord.query(on: db).all(\.$code))
            let newOrgs = organisations.filter { !haveOrgs.contains($0["code"]!) }
            if !newOrgs.isEmpty {
                var insert = ctx.sql.insert(into: "organisations").columns("code", "kind", "region_iso", "district_id", "bin", "name_kk", "name_ru", "name_en")
                for r in newOrgs {
                    guard OrganisationKind(rawValue: r["kind"]!) != nil else { throw StoreError.invalid(field: "organisations.csv kind", reason: r["kind"]!) }
                    let bin = r["bin"].flatMap { $0.isEmpty ? nil : $0 }
                    if let b = bin { _ = try BIN(b) }
                    insert = insert.values(SQLBind(r["code"]!), SQLBind(r["kind"]!), SQLBind(r["region_iso"].flatMap { $0.isEmpty ? nil : $0 }), SQLBind(r["district_kato"].flatMap { districtByKato[$0] }),
                                           SQLBind(bin), SQLBind(r["name_kk"]!), SQLBind(r["name_ru"]!), SQLBind(r["name_en"]!))
                }
                try await insert.run()
                try ctx.audit("load", entity: "organisations", id: "organisations.csv", after: ["rows": String(newOrgs.count), "codes": newOrgs.map { $0["code"]! }.joined(separator: " ")])
                added.2 = newOrgs.count
            }
            return added
        }
        try await loadISCO(into: store)
        return result
    }

    /// The ISCO-08 unit groups (436) with English, Russian and, where known, Kazakh titles.
    static func loadISCO(into store: Store) async throws {
        struct C: Decodable { let n: Int }
        let have = try await store.sql.raw("SELECT COUNT(*) AS n FROM isco_occupations").first(decoding: C.self)?.n ?? 0
        let rows = try csv("isco08")
        guard have < rows.count else { return }
        try await store.write(as: .system) { ctx in
            var insert = ctx.sql.insert(into: "isco_occupations").columns("code", "title_en", "title_ru", "title_kk")
            for r in rows { insert = insert.values(SQLBind(r["code"]!), SQLBind(r["title_en"]!), SQLBind(r["title_ru"]!), SQLBind(r["title_kk"].flatMap { $0.isEmpty ? nil : $0 })) }
            try await ctx.sql.delete(from: "isco_occupations").run()
            try await insert.run()
            try ctx.audit("load", entity: "isco_occupations", id: "isco08", after: ["rows": String(rows.count)])
        }
    }

    public struct Occupation: Decodable, Sendable { public let code: String; public let title_en: String; public let title_ru: String; public let title_kk: String? }

    public static func occupations(_ store: Store) async throws -> [Occupation] {
        try await store.sql.select().columns("code", "title_en", "title_ru", "title_kk").from("isco_occupations").orderBy("code").all(decoding: Occupation.self)
    }
}

/// A small RFC 4180 reader: enough for the files we ship and the files people upload.
public enum CSV {
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var it = text.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? it.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let n = it.next() {
                        if n == "\"" { field.append("\"") } else { inQuotes = false; pending = n }
                    } else { inQuotes = false }
                } else { field.append(c) }
                continue
            }
            switch c {
            case "\"": inQuotes = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n": row.append(field); rows.append(row); row = []; field = ""
            case "\r": break
            default: field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
