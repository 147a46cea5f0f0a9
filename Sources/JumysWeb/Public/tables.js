// Progressive enhancement of the data tables: every page works without this script (the lists filter on the
// server through their forms). With it, a table's column headings become buttons that sort its rows, and a table of
// eight rows or more gets a box that filters the rows shown. Nothing is sent anywhere; no inline script is needed.
(function () {
  "use strict";
  var words = {
    kk: { filter: "Кестені сүзу", shown: "{n} / {m} жол көрсетілген", sort: "сұрыптау" },
    ru: { filter: "Фильтр по таблице", shown: "Показано строк: {n} из {m}", sort: "сортировать" },
    en: { filter: "Filter this table", shown: "{n} of {m} rows shown", sort: "sort" }
  };
  var lang = (document.documentElement.lang || "en").slice(0, 2);
  var t = words[lang] || words.en;

  function text(cell) { return (cell && cell.textContent || "").trim(); }

  // "1 234 567,89", "26 000,00 ₸", "12", "45 %" read as numbers; anything else compares as text.
  function number(s) {
    var c = s.replace(/[\s\u00a0\u202f₸%]/g, "").replace(",", ".");
    return /^-?\d+(\.\d+)?$/.test(c) ? parseFloat(c) : null;
  }

  function sortable(table, body) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, index) {
      if (th.colSpan > 1 || !text(th) || th.querySelector(".visually-hidden")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = text(th);
      button.setAttribute("aria-label", text(th) + " — " + t.sort);
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = rows.every(function (r) { var s = text(r.cells[index]); return s === "" || s === "—" || number(s) !== null; });
        rows.sort(function (a, b) {
          var x = text(a.cells[index]), y = text(b.cells[index]), d;
          if (numeric) { d = (number(x) || 0) - (number(y) || 0); } else { d = x.localeCompare(y, lang, { numeric: true }); }
          return ascending ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  var counter = 0;
  function filterable(table, body) {
    counter += 1;
    var id = "table-filter-" + counter;
    var box = document.createElement("div");
    box.className = "field table-filter";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = t.filter;
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    var status = document.createElement("p");
    status.className = "hint";
    status.setAttribute("role", "status");
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(status);
    table.parentNode.insertBefore(box, table);
    input.addEventListener("input", function () {
      var q = input.value.trim().toLocaleLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(body.rows, function (r) {
        var hit = !q || r.textContent.toLocaleLowerCase().indexOf(q) >= 0;
        r.hidden = !hit;
        if (hit) { shown += 1; }
      });
      status.textContent = q ? t.shown.replace("{n}", shown).replace("{m}", body.rows.length) : "";
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.data"), function (table) {
    var body = table.tBodies[0];
    if (!table.tHead || !body || body.rows.length < 2 || table.classList.contains("no-sort")) { return; }
    sortable(table, body);
    if (body.rows.length >= 8) { filterable(table, body); }
  });
}());
