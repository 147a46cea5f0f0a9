import JumysDomain
import JumysStore
import Plot

/// Small form helpers in the GOV.UK manner: label above the field, hint, the error next to the field.
struct FormKit {
    let ctx: PageContext
    let errors: [(field: String, message: String)]
    let values: [String: String]

    func has(_ f: String) -> Bool { errors.contains { $0.field == f } }

    func error<C: HTML.BodyContext>(_ f: String) -> Node<C> {
        guard let e = errors.first(where: { $0.field == f }) else { return .empty }
        return .p(.class("field-error"), .id("\(f)-error"), .text(e.message))
    }

    /// A field's hint, tied to its control by `aria-describedby`.
    func hint<C: HTML.BodyContext>(_ name: String, _ text: String?) -> Node<C> {
        text.map { .p(.class("hint"), .id("\(name)-hint"), .text($0)) } ?? .empty
    }

    /// What a screen reader reads with the control besides its label: its hint and its error; and that it is invalid.
    func described<C>(_ name: String, hint: Bool) -> Attribute<C> {
        .attribute(named: "aria-describedby", value: ((hint ? ["\(name)-hint"] : []) + (has(name) ? ["\(name)-error"] : [])).joined(separator: " "))
    }
    func invalid<C>(_ name: String) -> Attribute<C> { .attribute(named: "aria-invalid", value: has(name) ? "true" : "") }

    func text<C: HTML.BodyContext>(_ name: String, _ label: String, hint: String? = nil, type: HTMLInputType = .text, width: String? = nil) -> Node<C> {
        .div(.class(has(name) ? "field has-error" : "field"),
             .label(.for(name), .text(label)),
             self.hint(name, hint),
             error(name),
             .input(.type(type), .id(name), .name(name), .value(attr(values[name] ?? "")), width.map { .class($0) } ?? .class(""), described(name, hint: hint != nil), invalid(name)))
    }

    func textarea<C: HTML.BodyContext>(_ name: String, _ label: String, hint: String? = nil, rows: Int = 6) -> Node<C> {
        .div(.class(has(name) ? "field has-error" : "field"),
             .label(.for(name), .text(label)),
             self.hint(name, hint),
             error(name),
             .textarea(.id(name), .name(name), .attribute(named: "rows", value: String(rows)), .attribute(described(name, hint: hint != nil)), .attribute(invalid(name)), .text(values[name] ?? "")))
    }

    func select<C: HTML.BodyContext>(_ name: String, _ label: String, options: [(String, String)], blank: Bool = true) -> Node<C> {
        .div(.class(has(name) ? "field has-error" : "field"),
             .label(.for(name), .text(label)), error(name),
             .select(.id(name), .attribute(named: "name", value: name), .attribute(described(name, hint: false)), .attribute(invalid(name)),
                     blank ? .element(named: "option", nodes: [.attribute(named: "value", value: "", ignoreIfValueIsEmpty: false), .text("—")]) : .empty,
                     .forEach(options) { o in
                        .element(named: "option", nodes: [.attribute(named: "value", value: o.0, ignoreIfValueIsEmpty: false), values[name] == o.0 ? .attribute(named: "selected", value: "selected") : .empty, .text(o.1)])
                     }))
    }

    func checkboxes<C: HTML.BodyContext>(_ name: String, _ legend: String, options: [(String, String)], checked: Set<String>) -> Node<C> {
        .fieldset(.class(has(name) ? "field has-error" : "field"),
                  .element(named: "legend", nodes: [.text(legend)]), error(name),
                  .forEach(options) { o in
                    .div(.class("choice"),
                         .input(.type(.checkbox), .id("\(name)-\(o.0)"), .name("\(name)[]"), .value(o.0), checked.contains(o.0) ? .attribute(named: "checked", value: "checked") : .class("")),
                         .label(.for("\(name)-\(o.0)"), .class("inline-label"), .text(o.1)))
                  })
    }

    func checkbox<C: HTML.BodyContext>(_ name: String, _ label: String, checked: Bool) -> Node<C> {
        .div(.class(has(name) ? "field choice has-error" : "field choice"), error(name),
             .input(.type(.checkbox), .id(name), .name(name), .value("true"), checked ? .attribute(named: "checked", value: "checked") : .class("")),
             .label(.for(name), .class("inline-label"), .text(label)))
    }

    func radios<C: HTML.BodyContext>(_ name: String, _ legend: String, options: [(String, String)]) -> Node<C> {
        .fieldset(.class(has(name) ? "field has-error" : "field"),
                  .element(named: "legend", nodes: [.text(legend)]), error(name),
                  .forEach(options) { o in
                    .div(.class("choice"),
                         .input(.type(.radio), .id("\(name)-\(o.0)"), .name(name), .value(o.0), values[name] == o.0 ? .attribute(named: "checked", value: "checked") : .class("")),
                         .label(.for("\(name)-\(o.0)"), .class("inline-label"), .text(o.1)))
                  })
    }
}

extension PageContext {
    /// Translations of the field errors the store reports.
    func messages(_ e: FieldErrors) -> [(field: String, message: String)] {
        e.errors.map { err in
            var args = err.args
            if let d = args["district_\(lang.rawValue)"] { args["district"] = d }
            if let a = args["action"] { args["action"] = t("action.\(a)") }
            if let f = args["from"] { args["from"] = t("state.\(f)") }
            if let r = args["reasons"] { args["reasons"] = r.split(separator: ",").map { t("reason.\($0.trimmingCharacters(in: .whitespaces))") }.joined(separator: ", ") }
            return (err.field, t("error.field.\(err.code)", args))
        }
    }

    func date(_ iso: String?) -> String { iso ?? "—" }
}
