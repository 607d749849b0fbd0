// dom: building the pages' elements. Text is always set as text (never
// as HTML), so nothing the API answers can become markup or script.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A table of rows: columns [{label, value(row) -> text or Node, num}].
export function table(caption, columns, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", { class: "muted" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h(
            "tr",
            {},
            columns.map((c) => h("td", { class: c.num ? "num" : null }, c.value(r)))
          )
        )
      )
    )
  );
}

// A definition list of [label, value] pairs.
export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v === null || v === undefined || v === "" ? "—" : v)])
  );
}

// A labelled input: {id, label, type, value, required, ...attrs}.
export function field(id, label, control) {
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

export function yuan(fen) {
  if (fen === null || fen === undefined) return "—";
  const neg = fen < 0;
  const a = Math.abs(fen);
  return (neg ? "-" : "") + Math.floor(a / 100).toLocaleString("en") + "." + String(a % 100).padStart(2, "0");
}
