import FluentKit
import Foundation
import JumysDomain
import SQLKit

/// A small, reproducible pseudo-random generator (SplitMix64) for synthetic data.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Realistic Kazakh and Russian names for synthetic people.
enum Names {
    static let kazakhMale = ["Айдар", "Алмас", "Арман", "Асхат", "Ержан", "Нұрлан", "Серік", "Қайрат", "Дәурен", "Бауыржан", "Ерлан", "Талғат", "Марат", "Әділет", "Жандос", "Нұрсұлтан", "Ақжол", "Бекзат", "Дамир", "Ислам", "Абылай", "Санжар", "Мұхтар", "Ғалым", "Олжас", "Темірлан", "Рустем", "Азамат", "Еркебұлан", "Жасұлан"]
    static let kazakhFemale = ["Айгүл", "Айгерім", "Аружан", "Гүлнар", "Динара", "Жанар", "Жұлдыз", "Мадина", "Назерке", "Сәуле", "Ләззат", "Ақмарал", "Әсем", "Балнұр", "Дана", "Інжу", "Камила", "Меруерт", "Томирис", "Ұлжан", "Гүлмира", "Салтанат", "Індира", "Айжан", "Дариға", "Молдір", "Перизат", "Әйгерім", "Шынар", "Зере"]
    static let kazakhSurnameStems = ["Ахметов", "Оспанов", "Сейітов", "Жұмабаев", "Нұрланов", "Бекмұхамбетов", "Қасымов", "Әбдірахманов", "Тоқтаров", "Серікбаев", "Мұратов", "Ерланов", "Исаев", "Сұлтанбеков", "Жақсылықов", "Байтұрсынов", "Омаров", "Садықов", "Төлеуов", "Құнанбаев", "Әлімжанов", "Дүйсенов", "Иманғалиев", "Шәкенов", "Есенов"]
    static let russianMale = ["Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Иван", "Николай", "Владимир", "Евгений", "Павел", "Михаил", "Артём", "Игорь", "Виктор"]
    static let russianFemale = ["Анна", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Екатерина", "Мария", "Светлана", "Юлия", "Анастасия", "Виктория", "Дарья", "Людмила", "Ксения"]
    static let russianSurnameStems = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев"]
    static let russianPatronymicStems = ["Александров", "Сергеев", "Николаев", "Владимиров", "Викторов", "Петров", "Михайлов", "Андреев", "Иванов", "Юрьев"]

    static func surname(_ stem: String, _ sex: Sex) -> String { sex == .male ? stem : stem + "а" }

    static func kazakhPatronymic(_ fatherName: String, _ sex: Sex) -> String {
        // Modern Kazakh form "Серікұлы" / "Серікқызы".
        fatherName + (sex == .male ? "ұлы" : "қызы")
    }

    static func russianPatronymic(_ stem: String, _ sex: Sex) -> String {
        // "Александров" → "Александрович" / "Александровна"; "Сергеев" → "Сергеевич" / "Сергеевна".
        stem + (sex == .male ? "ич" : "на")
    }
}

/// The demonstration dataset: demo accounts and thousands of synthetic persons with valid IINs.
public enum DemoData {
    /// The demo accounts, all with the password `demo`.
    public static let accounts: [(login: String, role: Role, region: String?, districtKato: String?, organisation: String?, name: String, description: String)] = [
        ("admin", .administrator, nil, nil, "ministry", "Ерлан Жақсылықов", "administrator"),
        ("analyst", .analyst, nil, nil, "ministry", "Мадина Омарова", "ministry analyst, national, read-only"),
        ("coordinator.KZ-71", .regionalCoordinator, "KZ-71", nil, "akimat.KZ-71", "Дәурен Сейітов", "regional coordinator, Astana"),
        ("caseworker.KZ-71", .caseworker, "KZ-71", "710300000", "centre.710300000", "Айгүл Серікова", "caseworker, Yesil District, Astana"),
        ("caseworker.KZ-75", .caseworker, "KZ-75", "750200000", "centre.750200000", "Ольга Петрова", "caseworker, Almaly District, Almaty"),
        ("akimat.KZ-71", .akimatOfficer, "KZ-71", nil, "akimat.KZ-71", "Нұрлан Қасымов", "akimat officer, Astana (passes budget credits on to the credit organisation)"),
        ("commission.KZ-71", .commissionMember, "KZ-71", nil, "commission.KZ-71", "Салтанат Әлімжанова", "regional commission member, Astana"),
        ("contractor.demo", .contractor, "KZ-71", nil, "contractor.demo", "Марат Тоқтаров", "contractor (demo organisation)"),
        ("lender.demo", .lender, "KZ-71", nil, "lender.demo", "Жанар Садықова", "credit organisation officer (demo organisation; loans in Astana)"),
        ("caseworker.KZ-35", .caseworker, "KZ-35", "350300000", "centre.350300000", "Гүлнар Исаева", "caseworker, Abay District (rural), Karaganda Region"),
        ("business.KZ-35", .authorityOfficer, "KZ-35", nil, "bizdev.350300000", "Ерлан Мұратов", "business development officer, Abay District (conclusions)"),
        ("akim.350300000", .akimatOfficer, "KZ-35", "350300000", "akim.350300000", "Бекзат Омаров", "rural akim's office, Abay District (conclusions)"),
        ("infra.KZ-35", .authorityOfficer, "KZ-35", nil, "infra.KZ-35", "Ирина Козлова", "infrastructure authority, Karaganda Region (conclusions)"),
        ("commission.KZ-35", .commissionMember, "KZ-35", nil, "commission.KZ-35", "Талғат Серікбаев", "regional commission member, Karaganda Region"),
        ("akimat.KZ-35", .akimatOfficer, "KZ-35", nil, "akimat.KZ-35", "Асхат Жұмабеков", "akimat officer, Karaganda Region (proposes projects, checks progress reports)"),
        ("coordinator.KZ-35", .regionalCoordinator, "KZ-35", nil, "akimat.KZ-35", "Әсел Нұрпейісова", "regional coordinator, Karaganda Region (compiles the project list)"),
        ("ministry.officer", .ministryOfficer, nil, nil, "ministry", "Қайрат Бекмұхамбетов", "officer of the authorised body (consolidates projects, proposes limits, budget credits)"),
        ("working-group", .commissionMember, nil, nil, "working-group", "Динара Есенова", "working group member (selects or replaces projects, reviews savings)"),
        ("interagency", .commissionMember, nil, nil, "interagency-commission", "Бауыржан Ахметов", "interagency commission member (approves projects and limits)"),
        ("contractor.KZ-35", .contractor, "KZ-35", nil, "contractor.KZ-35", "Виктор Ким", "contractor, Karaganda Region (project vacancies, hires, monthly progress)"),
        ("subcontractor.KZ-35", .contractor, "KZ-35", nil, "subcontractor.KZ-35", "Самат Оспанов", "subcontractor, Karaganda Region"),
    ]

    public static let password = "demo"
    public static let defaultPersons = 6000

    /// Loads the demo accounts and persons; a second run adds nothing.
    public static func load(into store: Store, hashPassword: @Sendable (String) throws -> String, persons count: Int = defaultPersons, seed: UInt64 = 2020) async throws -> (users: Int, persons: Int) {
        let orgs = try await OrganisationRecord.query(on: store.db).all()
        let orgByCode = Dictionary(uniqueKeysWithValues: orgs.map { ($0.code, $0.id!) })
        let districts = try await DistrictRecord.query(on: store.db).sort(\.$id).all()
        let districtByKato = Dictionary(uniqueKeysWithValues: districts.map { ($0.kato, $0) })
        let directory = Directory(store: store)
        var newUsers = 0
        let existing = Set(try await UserRecord.query(on: store.db).all(\.$login))
        let hash = try hashPassword(password)
        for a in accounts where !existing.contains(a.login.lowercased()) {
            try await directory.ensureUser(NewUser(
                login: a.login, passwordHash: hash, role: a.role, displayName: a.name,
                regionISO: a.region, districtID: a.districtKato.flatMap { districtByKato[$0]?.id },
                organisationID: a.organisation.flatMap { orgByCode[$0] }))
            newUsers += 1
        }
        let people = generatePersons(count: count, districts: districts.map { ($0.id!, $0.regionISO, $0.settlementKind == "rural") }, seed: seed)
        let added = try await insertPersons(people, into: store, actor: .system)
        try await loadSettlementsAndHousing(into: store, districtByKato: districtByKato)
        return (newUsers, added)
    }

    /// Demonstration settlement lists (D1) and service housing (D4, D5); added once, when there are none.
    static func loadSettlementsAndHousing(into store: Store, districtByKato: [String: DistrictRecord]) async throws {
        struct N: Decodable { let n: Int }
        let have = try await store.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("settlements").first(decoding: N.self)?.n ?? 0
        guard have == 0 else { return }
        let settlements: [(kato: String, kk: String, ru: String, potential: String)] = [
            ("350500000", "Егіндібұлақ ауылы (демо)", "село Егиндыбулак (демо)", "low"),
            ("350600000", "Нұра ауданының Майоровка ауылы (демо)", "село Майоровка Нуринского района (демо)", "low"),
            ("350300000", "Абай ауданының Қарабас кенті (демо)", "посёлок Карабас Абайского района (демо)", "low"),
            ("350100000", "Қарағанды қаласы", "город Караганда", "high"),
            ("350200000", "Теміртау қаласы", "город Темиртау", "high"),
            ("710300000", "Астана қаласы, Есіл ауданы", "город Астана, район Есиль", "high"),
        ]
        let dwellings: [(kato: String, address: String, kind: String, area: Int64, rooms: Int, cost: Int64, excess: String?)] = [
            ("710300000", "Астана, Тұран даңғылы 50, 12 пәтер (демо)", "flat", 54, 2, 110_000, nil),
            ("710300000", "Астана, Тұран даңғылы 50, 14 пәтер (демо)", "flat", 72, 3, 110_000, nil),
            ("710300000", "Астана, Тұран даңғылы 50, 20 пәтер (демо)", "flat", 38, 1, 110_000, nil),
            ("710300000", "Астана, жастар жатақханасы, 301 бөлме (демо)", "youth_hostel_room", 18, 1, 100_000, nil),
            ("350100000", "Қарағанды, Бұқар жырау даңғылы 10, 5 пәтер (демо)", "flat", 54, 2, 90_000, "local_budget"),
            ("350100000", "Қарағанды, Бұқар жырау даңғылы 10, 6 пәтер (демо)", "flat", 36, 1, 75_000, nil),
        ]
        try await store.write(as: .system) { ctx in
            for s in settlements {
                guard let d = districtByKato[s.kato] else { continue }
                try await ctx.sql.insert(into: "settlements").columns("region_iso", "district_id", "name_kk", "name_ru", "potential", "listed_from", "basis")
                    .values(SQLBind(d.regionISO), SQLBind(d.id!), SQLBind(s.kk), SQLBind(s.ru), SQLBind(s.potential), SQLBind("2020-03-27"), SQLBind("demo list")).run()
            }
            for w in dwellings {
                guard let d = districtByKato[w.kato] else { continue }
                try await ctx.sql.insert(into: "dwellings").columns("region_iso", "district_id", "address", "kind", "area", "rooms", "cost_per_m2", "funded_by", "excess_paid_by", "created_on")
                    .values(SQLBind(d.regionISO), SQLBind(d.id!), SQLBind(w.address), SQLBind(w.kind), SQLBind(w.area * FixedDecimal.scale), SQLBind(w.rooms), SQLBind(w.cost * 100),
                            SQLBind("state"), SQLBind(w.excess), SQLBind("2020-06-01")).run()
            }
            try ctx.audit("load", entity: "demo_directions", id: "1", after: ["settlements": String(settlements.count), "dwellings": String(dwellings.count)])
        }
    }

    public struct SyntheticPerson: Sendable {
        public let iin: IIN
        public let lastName, firstName: String
        public let middleName: String?
        public let regionISO: String
        public let districtID: Int
        public let isRural: Bool
        public let phone: String

        public init(iin: IIN, lastName: String, firstName: String, middleName: String?, regionISO: String, districtID: Int, isRural: Bool, phone: String) {
            self.iin = iin; self.lastName = lastName; self.firstName = firstName; self.middleName = middleName
            self.regionISO = regionISO; self.districtID = districtID; self.isRural = isRural; self.phone = phone
        }
    }

    /// Deterministic synthetic persons: same seed, same people (so reloading finds them by IIN).
    public static func generatePersons(count: Int, districts: [(id: Int, region: String, rural: Bool)], seed: UInt64) -> [SyntheticPerson] {
        var rng = SeededRandom(seed: seed)
        var out: [SyntheticPerson] = []
        var seen = Set<String>()
        out.reserveCapacity(count)
        guard !districts.isEmpty else { return [] }
        while out.count < count {
            let sex: Sex = Bool.random(using: &rng) ? .male : .female
            let birth = CivilDate(daysSinceEpoch: CivilDate(year: 1966, month: 1, day: 1)!.daysSinceEpoch + Int.random(in: 0..<(40 * 365), using: &rng))
            guard let iin = IIN.make(birthDate: birth, sex: sex, serial: Int.random(in: 0..<10000, using: &rng)),
                  seen.insert(iin.value).inserted else { continue }
            let kazakh = Int.random(in: 0..<100, using: &rng) < 72
            let last, first, middle: String
            if kazakh {
                last = Names.surname(Names.kazakhSurnameStems.randomElement(using: &rng)!, sex)
                first = (sex == .male ? Names.kazakhMale : Names.kazakhFemale).randomElement(using: &rng)!
                middle = Names.kazakhPatronymic(Names.kazakhMale.randomElement(using: &rng)!, sex)
            } else {
                last = Names.surname(Names.russianSurnameStems.randomElement(using: &rng)!, sex)
                first = (sex == .male ? Names.russianMale : Names.russianFemale).randomElement(using: &rng)!
                middle = Names.russianPatronymic(Names.russianPatronymicStems.randomElement(using: &rng)!, sex)
            }
            let d = districts[Int.random(in: 0..<districts.count, using: &rng)]
            let phone = "+7 7" + String(format: "%02d %03d %04d", Int.random(in: 0...99, using: &rng), Int.random(in: 0...999, using: &rng), Int.random(in: 0...9999, using: &rng))
            out.append(SyntheticPerson(iin: iin, lastName: last, firstName: first, middleName: middle, regionISO: d.region, districtID: d.id, isRural: d.rural, phone: phone))
        }
        return out
    }

    struct PersonSnapshot: Encodable, Sendable {
        let iin, last_name, first_name: String; let middle_name: String?; let region_iso: String; let district_id: Int
    }

    /// Inserts persons in batches, skipping IINs already registered; every insert is audited.
    public static func insertPersons(_ people: [SyntheticPerson], into store: Store, actor: Actor, batch: Int = 500) async throws -> Int {
        var added = 0
        var start = 0
        while start < people.count {
            let chunk = Array(people[start..<min(start + batch, people.count)])
            start += batch
            added += try await store.write(as: actor) { ctx in
                let sql = ctx.sql
                struct R: Decodable { let id: Int; let iin: String }
                struct I: Decodable { let iin: String }
                let have = Set(try await sql.select().column("iin").from("persons")
                    .where("iin", .in, SQLBind.group(chunk.map(\.iin.value))).all(decoding: I.self).map(\.iin))
                let fresh = chunk.filter { !have.contains($0.iin.value) }
                guard !fresh.isEmpty else { return 0 }
                let now = ctx.now
                var insert = sql.insert(into: "persons").columns("iin", "last_name", "first_name", "middle_name", "search_name", "birth_date", "sex", "region_iso", "district_id", "is_rural", "phone", "created_at", "updated_at")
                for p in fresh {
                    insert = insert.values(SQLBind(p.iin.value), SQLBind(p.lastName), SQLBind(p.firstName), SQLBind(p.middleName),
                                           SQLBind(PersonRecord.searchName(last: p.lastName, first: p.firstName, middle: p.middleName)),
                                           SQLBind(p.iin.birthDate.iso), SQLBind(p.iin.sex.rawValue), SQLBind(p.regionISO), SQLBind(p.districtID),
                                           SQLBind(p.isRural), SQLBind(p.phone), SQLBind(now), SQLBind(now))
                }
                try await insert.run()
                let ids = try await sql.select().columns("id", "iin").from("persons")
                    .where("iin", .in, SQLBind.group(fresh.map(\.iin.value))).all(decoding: R.self)
                let idByIIN = Dictionary(uniqueKeysWithValues: ids.map { ($0.iin, $0.id) })
                for p in fresh {
                    try ctx.audit("create", entity: "person", id: String(idByIIN[p.iin.value]!),
                                  after: PersonSnapshot(iin: p.iin.value, last_name: p.lastName, first_name: p.firstName, middle_name: p.middleName, region_iso: p.regionISO, district_id: p.districtID))
                }
                return fresh.count
            }
        }
        return added
    }
}
