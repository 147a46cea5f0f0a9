import Foundation
import JumysDomain
import JumysRules
import JumysStore
import Vapor

/// `/api/v1/rules`, `/api/v1/calculate` and `/api/v1/parameters/{name}`: the rules as a service.
/// Open without a token: they hold the law, not personal data (an IIN sent to iin_info travels in a POST body).
struct RulesAPIRoutes: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let v1 = routes.grouped("api", "v1")
        v1.get("rules", use: rules)
        v1.post("calculate", use: calculate)
        v1.get("parameters", ":name", use: parameter)
    }

    @Sendable func rules(req: Request) async throws -> Response {
        let items = RuleCatalogue.all.map { r in
            RuleOutput.object([
                ("name", .text(r.name)), ("summary", .text(r.summary)), ("references", .list(r.references.map { .text($0) })),
                ("inputs", .list(r.inputs.map { .object([("name", .text($0.name)), ("type", .text($0.type)), ("description", .text($0.description))]) })),
                ("output", .text(r.output)),
            ])
        }
        return JSONText.response(RuleOutput.object([("items", .list(items))]).json)
    }

    /// Decodes the request body by hand so that numbers keep their exact digits.
    @Sendable func calculate(req: Request) async throws -> Response {
        guard let body = req.body.data, let obj = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw RuleAPIError(field: "body", message: "expected a JSON object {\"rule\", \"date\", \"inputs\"}")
        }
        guard let name = obj["rule"] as? String, let spec = RuleCatalogue.byName[name] else {
            throw RuleAPIError(field: "rule", message: "unknown rule; GET /api/v1/rules lists them")
        }
        var date = req.jumys.store.today()
        if let d = obj["date"] {
            guard let s = d as? String, let parsed = CivilDate(iso: s), RuleInputs.dateRange.contains(parsed) else { throw RuleAPIError(field: "date", message: "expected YYYY-MM-DD between 1900-01-01 and 2200-12-31") }
            date = parsed
        }
        var inputs = RuleInputs([:])
        if let raw = obj["inputs"] {
            guard let dict = raw as? [String: Any] else { throw RuleAPIError(field: "inputs", message: "expected an object of input names to values") }
            inputs = RuleInputs(json: dict)
        }
        let env = try await req.jumys.rules.current()
        do {
            let r = try spec(inputs, env.context(on: date))
            return JSONText.response(RuleOutput.object([
                ("rule", .text(name)), ("date", .date(date)), ("result", r.value), ("explanation", RuleOutput.steps(r.steps)),
            ]).json)
        } catch let e as RuleInputError {
            throw RuleAPIError(field: "inputs." + e.input, message: e.message)
        } catch let e as ParameterMissing {
            throw RuleAPIError(field: "date", message: e.description)
        }
    }

    @Sendable func parameter(req: Request) async throws -> Response {
        let env = try await req.jumys.rules.current()
        guard let name = req.parameters.get("name"), let p = env.parameters[name] else { throw Abort(.notFound) }
        var date = req.jumys.store.today()
        if let s = try? req.query.get(String.self, at: "date") {
            guard let d = CivilDate(iso: s) else { throw RuleAPIError(field: "date", message: "expected YYYY-MM-DD") }
            date = d
        }
        let current = p.value(at: date)
        return JSONText.response(RuleOutput.object([
            ("name", .text(p.name)), ("description", .text(p.description)), ("unit", .text(p.unit.rawValue)), ("reference", .text(p.reference)),
            ("date", .date(date)),
            ("value", current.map { .number($0.value) } ?? .text("")),
            ("effective_from", current.map { .date($0.effectiveFrom) } ?? .text("")),
            ("history", .list(p.values.map(JSONText.valueOutput))),
        ]).json.replacingOccurrences(of: "\"value\":\"\",\"effective_from\":\"\"", with: "\"value\":null,\"effective_from\":null"))
    }
}

/// A 422 naming the input at fault, as problem+json.
struct RuleAPIError: AbortError {
    let field: String
    let message: String
    var status: HTTPResponseStatus { .unprocessableEntity }
    var reason: String { "\(field): \(message)" }
}

enum JSONText {
    static func response(_ json: String, status: HTTPResponseStatus = .ok) -> Response {
        Response(status: status, headers: ["Content-Type": "application/json; charset=utf-8"], body: .init(string: json))
    }

    static func valueOutput(_ v: ParameterValue) -> RuleOutput {
        var kv: [(String, RuleOutput)] = [("effective_from", .date(v.effectiveFrom)), ("value", .number(v.value))]
        if let r = v.reference { kv.append(("reference", .text(r))) }
        switch v.source {
        case .file(let f): kv.append(("source", .text(f)))
        case .administrator(let login, let at): kv.append(("source", .text("administrator \(login) at \(at)")))
        }
        return .object(kv)
    }
}
