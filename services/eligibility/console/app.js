// app: the console's pages, one hash route each, over the operator API.
// The browser hides what a role cannot do; the server refuses it anyway
// (docs/operator-api.md): every page shows the API's own message when it
// refuses. Each page marks <main> with data-page and, once drawn,
// data-state="ready" (the browser test waits on it).
//
//   #/signin            sign-in
//   #/queue             my work queue, overdue first
//   #/app/AP-n          an application: decide at my level
//   #/submit            submit an application
//   #/persons           person search      #/person/ID  a person
//   #/providers         providers          #/provider/ID  a provider
//   #/catalogue         the catalogue in force, with a chart
//   #/eligible/CODE     who an item's rule admits in my area, a page at a time
//   #/training          the open 在训 pauses in my area; a district operator
//                       or an administrator records a provider's attendance report
import { call, setCsrf, ApiError } from "./api.js";
import { h, table, facts, field, yuan } from "./dom.js";
import { t, loadLang, currentLang } from "./i18n.js";

// K marks a message key chosen at run time (the catalogue test reads it).
const K = (key) => key;
const STATES = {
  submitted: K("state.submitted"),
  "village-reviewed": K("state.village-reviewed"),
  "town-reviewed": K("state.town-reviewed"),
  approved: K("state.approved"),
  rejected: K("state.rejected"),
  returned: K("state.returned"),
};
const LEVEL_OF = { submitted: "village", "village-reviewed": "town", "town-reviewed": "district" };
const ROLES = {
  village: K("role.village"),
  town: K("role.town"),
  district: K("role.district"),
  administrator: K("role.administrator"),
  finance: K("role.finance"),
  auditor: K("role.auditor"),
};
const RELATIONS = {
  guardian: K("agent.guardian"),
  family: K("agent.family"),
  "community-worker": K("agent.community-worker"),
};
const NAMES_SEEN_BY = ["village", "town", "district", "administrator"];
const ATTENDANCE_RECORDERS = ["district", "administrator"];
const SUBMITTERS = ["village", "town", "district", "administrator"];

const label = (map, v) => (v && map[v] ? t(map[v]) : v || "—");
const main = () => document.getElementById("main");
let me = null; // {id, role, area} of the signed-in operator
let ended = ""; // why the last session ended, for the sign-in page

function link(href, text) {
  return h("a", { href }, text);
}

function errorBox(id) {
  return h("div", { id, class: "error", role: "alert" });
}

function showError(box, e) {
  box.textContent = e instanceof ApiError && e.status ? e.message : t("error.network");
}

function page(name, title, ...content) {
  const m = main();
  m.replaceChildren(h("h1", {}, title), ...content);
  m.dataset.page = name;
  m.dataset.state = "loading";
  document.title = title + " · " + t("app.title");
  return m;
}

function ready() {
  main().dataset.state = "ready";
}

// ------------------------------------------------------------- the frame

function drawNav() {
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t("nav.label"));
  document.getElementById("brand").textContent = t("app.title");
  const lang = document.getElementById("lang");
  lang.textContent = t("lang.switch");
  lang.setAttribute("lang", currentLang() === "zh-CN" ? "en" : "zh-CN");
  if (!me) {
    nav.replaceChildren();
    return;
  }
  const here = location.hash.split("/")[1] || "";
  const item = (route, key) =>
    h("a", { href: "#/" + route, "aria-current": here === route ? "page" : null }, t(key));
  nav.replaceChildren(
    item("queue", K("nav.queue")),
    SUBMITTERS.includes(me.role) ? item("submit", K("nav.submit")) : null,
    item("persons", K("nav.persons")),
    item("providers", K("nav.providers")),
    item("catalogue", K("nav.catalogue")),
    item("training", K("nav.training")),
    h("span", { class: "who" }, t("nav.who", { id: me.id, role: label(ROLES, me.role), area: me.area })),
    h("button", { type: "button", id: "signout", onclick: signOut }, t("nav.signout"))
  );
}

async function signOut() {
  try {
    await call("DELETE", "/v1/session");
  } catch (e) {
    // signed out already: the session is gone either way
  }
  me = null;
  setCsrf(null);
  location.hash = "#/signin";
}

// ------------------------------------------------------------- sign-in

function signIn() {
  const err = errorBox("signin-error");
  const oid = h("input", { type: "text", name: "operator", autocomplete: "username", required: true });
  const pw = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { class: "card", id: "signin-form", novalidate: true },
    err,
    field("signin-operator", t("signin.operator"), oid),
    field("signin-password", t("signin.password"), pw),
    h("button", { type: "submit", class: "primary" }, t("signin.submit"))
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    if (!oid.value || !pw.value) {
      err.textContent = t("signin.missing");
      return;
    }
    try {
      const doc = await call("POST", "/v1/session", { operator: oid.value, password: pw.value });
      me = doc.operator;
      setCsrf(doc.csrf_token);
      location.hash = "#/queue";
    } catch (e) {
      showError(err, e);
      pw.value = "";
    }
  });
  if (ended) err.textContent = t("signin.ended", { why: ended });
  ended = "";
  page("signin", t("signin.title"), h("p", {}, t("signin.intro")), form);
  ready();
}

// ------------------------------------------------------------- the queue

async function queue() {
  const err = errorBox("queue-error");
  const m = page("queue", t("queue.title"), err);
  try {
    const q = await call("GET", "/v1/applications?limit=200");
    m.append(
      h("p", {}, t("queue.summary", { level: label(ROLES, q.level), area: q.area, total: q.total, overdue: q.overdue })),
      q.applications.length === 0
        ? h("p", {}, t("queue.empty"))
        : table(t("queue.caption"), [
            { label: t("app.id"), value: (a) => link("#/app/" + a.application_id, a.application_id) },
            { label: t("app.person"), value: (a) => h("span", { class: "mono" }, a.person) },
            { label: t("app.items"), value: (a) => (a.items || []).join(", ") },
            { label: t("queue.since"), value: (a) => a.stage_since },
            { label: t("queue.due"), value: (a) => a.due },
            {
              label: t("queue.days_left"),
              num: true,
              value: (a) =>
                a.overdue
                  ? h("span", { class: "overdue" }, t("queue.overdue_by", { n: -a.days_left }))
                  : t("queue.days", { n: a.days_left }),
            },
            { label: t("queue.by_agent"), value: (a) => (a.by_agent ? t("common.yes") : t("common.no")) },
          ], q.applications)
    );
  } catch (e) {
    showError(err, e);
  }
  ready();
}

// ------------------------------------------------------------- an application

async function application(id) {
  const err = errorBox("app-error");
  const ok = h("div", { id: "app-ok", class: "ok", role: "status" });
  const m = page("application", t("application.title", { id }), err, ok);
  let a;
  try {
    a = await call("GET", "/v1/applications/" + encodeURIComponent(id));
  } catch (e) {
    showError(err, e);
    ready();
    return;
  }
  const area = a.area ? [a.area.district, a.area.town, a.area.village].filter(Boolean).join(" / ") : "";
  m.append(
    facts([
      [t("app.state"), h("span", { id: "app-state", "data-state": a.state }, label(STATES, a.state))],
      [t("app.person"), link("#/person/" + a.person_id, a.person_id)],
      [t("app.items"), (a.items || []).join(", ")],
      [t("app.area"), area],
      [t("app.agent"), a.agent ? label(RELATIONS, a.agent.relation) : t("app.no_agent")],
      [t("app.submitted"), (a.submitted_at || "") + " · " + (a.submitted_by || "")],
      [t("app.stage_since"), a.stage_since],
      [t("app.reason"), a.reason],
      [t("app.effective_from"), a.effective_from],
    ])
  );
  const level = LEVEL_OF[a.state];
  if (me && level && me.role === level) m.append(decisionForm(a, err, ok));
  m.append(h("h2", {}, t("app.materials")));
  m.append(
    (a.materials || []).length === 0
      ? h("p", {}, t("app.no_materials"))
      : table(t("app.materials"), [
          {
            label: t("material.kind"),
            value: (x) =>
              h("a", { href: "/v1/applications/" + a.application_id + "/materials/" + x.kind, download: x.kind }, t("material.download", { kind: x.kind })),
          },
          { label: t("material.type"), value: (x) => x.content_type },
          { label: t("material.size"), num: true, value: (x) => String(x.size_bytes) },
          { label: t("material.uploaded"), value: (x) => x.uploaded },
          { label: t("material.this"), value: (x) => (x.this_application ? t("common.yes") : t("common.no")) },
        ], a.materials)
  );
  m.append(h("h2", {}, t("app.history")));
  m.append(
    table(t("app.history"), [
      { label: t("history.at"), value: (x) => x.at },
      { label: t("history.operator"), value: (x) => x.operator },
      { label: t("history.role"), value: (x) => label(ROLES, x.role) },
      { label: t("history.from"), value: (x) => label(STATES, x.from) },
      { label: t("history.to"), value: (x) => label(STATES, x.to) },
      { label: t("history.reason"), value: (x) => x.reason || "" },
    ], a.history || [])
  );
  ready();
}

function decisionForm(a, err, ok) {
  const reason = h("textarea", { rows: 3, maxlength: 1000, "aria-describedby": "decide-hint" });
  const hint = h("p", { id: "decide-hint", class: "muted" }, t("decide.hint"));
  const decide = async (decision) => {
    err.textContent = "";
    ok.textContent = "";
    reason.removeAttribute("aria-invalid");
    const body = { decision };
    if (reason.value.trim()) body.reason = reason.value.trim();
    if (decision !== "pass" && !body.reason) {
      reason.setAttribute("aria-invalid", "true");
      err.textContent = t("decide.reason_required");
      reason.focus();
      return;
    }
    try {
      const r = await call("POST", "/v1/applications/" + a.application_id + "/decisions", body);
      await application(a.application_id);
      document.getElementById("app-ok").textContent = t("decide.done", { state: label(STATES, r.state) });
    } catch (e) {
      showError(err, e);
    }
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": "decide-title" },
    h("h2", { id: "decide-title" }, t("decide.title", { level: label(ROLES, LEVEL_OF[a.state]) })),
    field("decide-reason", t("decide.reason"), reason),
    hint,
    h("button", { type: "button", class: "primary", id: "decide-pass", onclick: () => decide("pass") }, t("decide.pass")),
    h("button", { type: "button", class: "secondary", id: "decide-return", onclick: () => decide("return") }, t("decide.return")),
    h("button", { type: "button", class: "danger", id: "decide-reject", onclick: () => decide("reject") }, t("decide.reject"))
  );
}

// ------------------------------------------------------------- submit

async function submit() {
  const err = errorBox("submit-error");
  const ok = h("div", { id: "submit-ok", class: "ok", role: "status" });
  const m = page("submit", t("submit.title"), err, ok);
  let cat;
  try {
    cat = await call("GET", "/v1/catalogue");
  } catch (e) {
    showError(err, e);
    ready();
    return;
  }
  const person = h("input", { type: "text", class: "mono", autocomplete: "off", pattern: "[0-9a-f]{64}", "aria-describedby": "submit-person-hint" });
  const items = cat.items.filter((i) => i.application);
  const boxes = items.map((i) => h("input", { type: "checkbox", name: "items", value: i.code, id: "item-" + i.code }));
  const relation = h(
    "select",
    {},
    h("option", { value: "" }, t("agent.none")),
    Object.keys(RELATIONS).map((r) => h("option", { value: r }, label(RELATIONS, r)))
  );
  const agentId = h("input", { type: "text", autocomplete: "off", maxlength: 18, "aria-describedby": "submit-agent-hint" });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    field("submit-person", t("submit.person"), person),
    h("p", { id: "submit-person-hint", class: "muted" }, t("submit.person_hint")),
    h(
      "fieldset",
      {},
      h("legend", {}, t("submit.items")),
      items.map((i, n) =>
        h("label", { for: "item-" + i.code }, boxes[n], " ", i.code + " " + (currentLang() === "en" ? i.name_en : i.name_zh))
      )
    ),
    field("submit-relation", t("submit.agent_relation"), relation),
    field("submit-agent", t("submit.agent_id"), agentId),
    h("p", { id: "submit-agent-hint", class: "muted" }, t("submit.agent_hint")),
    h("button", { type: "submit", class: "primary" }, t("submit.submit"))
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    ok.textContent = "";
    const body = { person_id: person.value.trim(), items: boxes.filter((b) => b.checked).map((b) => b.value) };
    if (relation.value) body.agent_relation = relation.value;
    if (agentId.value.trim()) body.agent_id = agentId.value.trim();
    try {
      const r = await call("POST", "/v1/applications", body);
      ok.replaceChildren(t("submit.done") + " ", link("#/app/" + r.application_id, r.application_id));
    } catch (e) {
      showError(err, e);
    }
  });
  m.append(form);
  ready();
}

// ------------------------------------------------------------- persons

function persons(params) {
  const err = errorBox("persons-error");
  const results = h("div", { id: "persons-results" });
  const tail = h("input", { type: "text", inputmode: "numeric", maxlength: 6, autocomplete: "off" });
  const name = h("input", { type: "text", autocomplete: "off" });
  const pid = h("input", { type: "text", class: "mono", autocomplete: "off" });
  const names = me && NAMES_SEEN_BY.includes(me.role);
  const form = h(
    "form",
    { class: "card", role: "search", novalidate: true },
    field("persons-tail", t("persons.card_tail"), tail),
    names ? field("persons-name", t("persons.name"), name) : null,
    field("persons-id", t("persons.person_id"), pid),
    h("button", { type: "submit", class: "primary" }, t("persons.search"))
  );
  const m = page("persons", t("persons.title"), form, err, results);
  const search = async () => {
    err.textContent = "";
    results.replaceChildren();
    if (pid.value.trim()) {
      location.hash = "#/person/" + pid.value.trim().toLowerCase();
      return;
    }
    let qs;
    if (tail.value.trim()) qs = "card_tail=" + encodeURIComponent(tail.value.trim());
    else if (names && name.value.trim()) qs = "name=" + encodeURIComponent(name.value.trim());
    else {
      err.textContent = t("persons.need_one");
      return;
    }
    try {
      const r = await call("GET", "/v1/persons?" + qs);
      results.append(
        r.persons.length === 0
          ? h("p", {}, t("persons.none"))
          : table(t("persons.caption"), [
              { label: t("persons.person_id"), value: (p) => link("#/person/" + p.person_id, p.person_id.slice(0, 12) + "…") },
              names ? { label: t("persons.name"), value: (p) => p.name || "" } : null,
              { label: t("person.card"), value: (p) => h("span", { class: "mono" }, p.card || "—") },
              { label: t("app.area"), value: (p) => [p.district, p.town, p.village].join(" / ") },
              { label: t("person.status"), value: (p) => p.status },
              { label: t("person.category"), value: (p) => p.category + (p.grade ? " " + p.grade : "") },
            ].filter(Boolean), r.persons),
        r.more ? h("p", {}, t("persons.more")) : null
      );
    } catch (e) {
      showError(err, e);
    }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    search();
  });
  if (params.get("card_tail")) {
    tail.value = params.get("card_tail");
    search().then(ready);
    return m;
  }
  ready();
  return m;
}

async function person(id) {
  const err = errorBox("person-error");
  const m = page("person", t("person.title"), err);
  let p;
  try {
    p = await call("GET", "/v1/persons/" + encodeURIComponent(id));
  } catch (e) {
    showError(err, e);
    ready();
    return;
  }
  const area = p.area ? [p.area.district, p.area.town, p.area.village].join(" / ") : "";
  m.append(
    facts([
      [t("persons.person_id"), h("span", { class: "mono" }, p.person_id)],
      p.name !== undefined ? [t("persons.name"), p.name] : null,
      p.phone !== undefined ? [t("person.phone"), p.phone] : null,
      [t("person.status"), p.status],
      [t("person.category"), p.category],
      [t("person.grade"), p.grade === null ? t("person.no_grade") : String(p.grade)],
      [t("person.evidence"), p.evidence],
      [t("person.care_level"), p.care_level === undefined ? "" : String(p.care_level)],
      [t("person.household"), p.household],
      [t("person.birth_year"), p.birth_year === undefined ? "" : String(p.birth_year)],
      [t("app.area"), area],
      [t("person.registered"), p.registered],
      [t("person.granted"), (p.granted_by_application || []).join(", ")],
    ].filter(Boolean)),
    h("h2", {}, t("person.cards")),
    table(t("person.cards"), [
      { label: t("person.card"), value: (c) => h("span", { class: "mono" }, c.card) },
      { label: t("person.status"), value: (c) => c.status },
      { label: t("person.issued"), value: (c) => c.issued },
    ], p.cards || []),
    h("h2", {}, t("person.applications")),
    table(t("person.applications"), [
      { label: t("app.id"), value: (x) => link("#/app/" + x.application_id, x.application_id) },
      { label: t("app.state"), value: (x) => label(STATES, x.state) },
      { label: t("app.submitted"), value: (x) => x.submitted },
    ], p.applications || []),
    h("h2", {}, t("person.issuances")),
    table(t("person.issuances"), [
      { label: t("person.period"), value: (x) => x.period },
      { label: t("person.item"), value: (x) => x.item },
      { label: t("person.amount"), num: true, value: (x) => yuan(x.amount_fen) },
    ], p.issuances || []),
    h("h2", {}, t("person.changes")),
    table(t("person.changes"), [
      { label: t("person.attr"), value: (x) => x.attr },
      { label: t("person.value"), value: (x) => x.value },
      { label: t("app.effective_from"), value: (x) => x.effective_from },
      { label: t("person.source"), value: (x) => x.source },
      { label: t("person.recorded"), value: (x) => x.recorded_at },
    ], p.changes || [])
  );
  ready();
}

// ------------------------------------------------------------- providers

async function providers() {
  const err = errorBox("providers-error");
  const m = page("providers", t("providers.title"), err);
  try {
    const r = await call("GET", "/v1/providers");
    m.append(
      table(t("providers.caption", { n: r.providers.length }), [
        { label: t("provider.id"), value: (p) => link("#/provider/" + p.provider_id, p.provider_id) },
        { label: t("provider.name"), value: (p) => p.name },
        { label: t("provider.district"), value: (p) => p.district },
        { label: t("provider.category"), value: (p) => p.category },
        { label: t("provider.status"), value: (p) => p.status },
        { label: t("provider.items"), value: (p) => (p.items || []).join(", ") },
        { label: t("provider.terminals"), num: true, value: (p) => String(p.terminals) },
      ], r.providers),
      r.more ? h("p", {}, t("providers.more")) : null
    );
  } catch (e) {
    showError(err, e);
  }
  ready();
}

async function provider(id) {
  const err = errorBox("provider-error");
  const m = page("provider", t("provider.title", { id }), err);
  try {
    const p = await call("GET", "/v1/providers/" + encodeURIComponent(id));
    m.append(
      facts([
        [t("provider.name"), p.name],
        [t("provider.district"), p.district],
        [t("provider.category"), p.category],
        [t("provider.status"), p.status],
        [t("provider.reason"), p.reason],
        [t("provider.items"), (p.items || []).join(", ")],
        [t("provider.updated"), p.updated_at],
      ]),
      h("h2", {}, t("provider.terminal_list")),
      table(t("provider.terminal_list"), [
        { label: t("provider.terminal"), value: (x) => x.terminal_id },
        { label: t("provider.status"), value: (x) => x.status },
        { label: t("provider.updated"), value: (x) => x.updated_at },
      ], p.terminal_list || [])
    );
  } catch (e) {
    showError(err, e);
  }
  ready();
}

// ------------------------------------------------------------- catalogue

async function catalogue() {
  const err = errorBox("catalogue-error");
  const m = page("catalogue", t("catalogue.title"), err);
  let c;
  try {
    c = await call("GET", "/v1/catalogue");
  } catch (e) {
    showError(err, e);
    ready();
    return;
  }
  // per category: how many items, and the sum of their annual caps (yuan)
  const cats = new Map();
  for (const i of c.items) {
    const s = cats.get(i.category) || { n: 0, cap: 0 };
    s.n += 1;
    s.cap += i.annual_cap_fen || 0;
    cats.set(i.category, s);
  }
  const names = [...cats.keys()].sort();
  const chartBox = h("div", {
    id: "catalogue-chart",
    class: "chart",
    role: "img",
    "aria-label": t("catalogue.chart_label", { n: names.length }),
  });
  m.append(
    h("p", {}, t("catalogue.summary", { total: c.total })),
    h("h2", {}, t("catalogue.chart_title")),
    chartBox,
    table(t("catalogue.by_category"), [
      { label: t("catalogue.category"), value: (k) => k },
      { label: t("catalogue.count"), num: true, value: (k) => String(cats.get(k).n) },
      { label: t("catalogue.cap_sum"), num: true, value: (k) => yuan(cats.get(k).cap) },
    ], names),
    h("h2", {}, t("catalogue.items")),
    table(t("catalogue.items"), [
      { label: t("catalogue.code"), value: (i) => (i.application ? link("#/eligible/" + i.code, i.code) : i.code) },
      { label: t("catalogue.name"), value: (i) => (currentLang() === "en" ? i.name_en : i.name_zh) },
      { label: t("catalogue.category"), value: (i) => i.category },
      { label: t("catalogue.standard"), num: true, value: (i) => yuan(i.standard_fen) },
      { label: t("catalogue.cap"), num: true, value: (i) => yuan(i.annual_cap_fen) },
      { label: t("catalogue.application"), value: (i) => (i.application ? t("common.yes") : t("common.no")) },
      { label: t("catalogue.effective"), value: (i) => i.effective_from + (i.effective_to ? " – " + i.effective_to : "") },
    ], c.items)
  );
  if (window.echarts) {
    const chart = window.echarts.init(chartBox, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      aria: { enabled: false },
      textStyle: { color: "#1a1a1a" },
      tooltip: { trigger: "axis" },
      legend: { data: [t("catalogue.count"), t("catalogue.cap_sum")] },
      grid: { left: 60, right: 70, bottom: 90 },
      xAxis: { type: "category", data: names, axisLabel: { rotate: 30 } },
      yAxis: [
        { type: "value", name: t("catalogue.count"), minInterval: 1 },
        { type: "value", name: t("catalogue.cap_sum") },
      ],
      series: [
        { name: t("catalogue.count"), type: "bar", data: names.map((k) => cats.get(k).n), itemStyle: { color: "#0a4b8c" } },
        {
          name: t("catalogue.cap_sum"),
          type: "line",
          yAxisIndex: 1,
          data: names.map((k) => Math.round(cats.get(k).cap / 100)),
          itemStyle: { color: "#b35900" },
        },
      ],
    });
    // the chart follows its box (a rotated tablet, a narrowed window)
    new ResizeObserver(() => chart.resize()).observe(chartBox);
  } else {
    chartBox.replaceChildren(h("p", {}, t("catalogue.no_chart")));
  }
  ready();
}

// ------------------------------------------------------------- eligible

async function eligible(code, params) {
  const err = errorBox("eligible-error");
  const m = page("eligible", t("eligible.title", { code }), err);
  const after = params.get("after");
  const path =
    "/v1/items/" + encodeURIComponent(code) + "/eligible?limit=100" + (after ? "&after=" + encodeURIComponent(after) : "");
  try {
    const r = await call("GET", path);
    const cols = [
      { label: t("eligible.person"), value: (p) => link("#/person/" + p.person_id, p.person_id.slice(0, 12) + "…") },
      { label: t("eligible.village"), value: (p) => p.village },
      { label: t("eligible.town"), value: (p) => p.town },
      { label: t("eligible.district"), value: (p) => p.district },
      { label: t("eligible.birth"), value: (p) => p.birth_date },
    ];
    if (NAMES_SEEN_BY.includes(me.role)) cols.push({ label: t("eligible.name"), value: (p) => p.name || "—" });
    m.append(
      h("p", {}, t("eligible.summary", { area: r.area === "*" ? t("common.all_areas") : r.area })),
      table(t("eligible.caption", { n: r.persons.length }), cols, r.persons),
      r.next_after
        ? h("p", {}, link("#/eligible/" + code + "?after=" + encodeURIComponent(r.next_after), t("eligible.next")))
        : null
    );
  } catch (e) {
    showError(err, e);
  }
  ready();
}

// ------------------------------------------------------------- 在训

async function training() {
  const err = errorBox("training-error");
  const m = page("training", t("training.title"), err);
  if (ATTENDANCE_RECORDERS.includes(me.role)) {
    const result = h("p", { id: "training-result", role: "status" });
    const file = h("input", { type: "file", name: "report", accept: ".csv,text/csv", required: true });
    const form = h(
      "form",
      {
        id: "training-report",
        onsubmit: async (ev) => {
          ev.preventDefault();
          err.textContent = "";
          result.textContent = "";
          const f = file.files && file.files[0];
          if (!f) {
            err.textContent = t("training.no_file");
            return;
          }
          try {
            const r = await call("POST", "/v1/attendance/reports", await f.text(), "text/csv");
            result.textContent = t("training.result", { rows: r.rows, fresh: r.new, resumed: r.resumed });
            await drawPauses();
          } catch (e) {
            showError(err, e);
          }
        },
      },
      h("h2", {}, t("training.upload_title")),
      h("p", { class: "muted" }, t("training.upload_help")),
      field("training-file", t("training.file"), file),
      h("button", { type: "submit", id: "training-upload" }, t("training.upload")),
      result
    );
    m.append(form);
  }
  const list = h("div", { id: "training-pauses" });
  m.append(h("h2", {}, t("training.pauses")), list);
  async function drawPauses() {
    const r = await call("GET", "/v1/attendance/pauses");
    list.replaceChildren(
      r.total === 0
        ? h("p", {}, t("training.none"))
        : table(t("training.caption", { n: r.total }), [
            { label: t("training.person"), value: (p) => link("#/person/" + p.person_id, p.person_id.slice(0, 12) + "…") },
            { label: t("training.card"), value: (p) => p.card || "—" },
            { label: t("training.item"), value: (p) => p.item },
            { label: t("training.paused_on"), value: (p) => p.paused_on },
            { label: t("training.since"), value: (p) => p.no_attendance_since },
            { label: t("training.village"), value: (p) => p.village },
          ], r.pauses)
    );
  }
  try {
    await drawPauses();
  } catch (e) {
    showError(err, e);
  }
  ready();
}

// ------------------------------------------------------------- the router

async function route() {
  const [path, query] = (location.hash || "#/").slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  const params = new URLSearchParams(query || "");
  if (!me && parts[0] !== "signin") {
    try {
      const doc = await call("GET", "/v1/me");
      me = doc.operator;
      setCsrf(doc.csrf_token);
    } catch (e) {
      me = null;
    }
  }
  if (!me) {
    drawNav();
    signIn();
    return;
  }
  if (parts[0] === "signin" || parts.length === 0) {
    location.hash = "#/queue";
    return;
  }
  drawNav();
  try {
    switch (parts[0]) {
      case "queue":
        await queue();
        break;
      case "app":
        await application(parts[1] || "");
        break;
      case "submit":
        await submit();
        break;
      case "persons":
        persons(params);
        break;
      case "person":
        await person(parts[1] || "");
        break;
      case "providers":
        await providers();
        break;
      case "provider":
        await provider(parts[1] || "");
        break;
      case "catalogue":
        await catalogue();
        break;
      case "eligible":
        await eligible(parts[1] || "", params);
        break;
      case "training":
        await training();
        break;
      default:
        page("notfound", t("notfound.title"), h("p", {}, t("notfound.text")), link("#/queue", t("nav.queue")));
        ready();
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      me = null;
      location.hash = "#/signin";
      return;
    }
    throw e;
  }
  main().focus({ preventScroll: true });
}

document.getElementById("lang").addEventListener("click", async () => {
  await loadLang(currentLang() === "zh-CN" ? "en" : "zh-CN");
  await route();
});
window.addEventListener("onecard:unauthorized", (ev) => {
  if (!me) return; // not signed in yet: the sign-in page is on its way
  me = null;
  setCsrf(null);
  ended = ev.detail || "";
  if (location.hash === "#/signin") route();
  else location.hash = "#/signin";
});
window.addEventListener("hashchange", route);
loadLang().then(route);
