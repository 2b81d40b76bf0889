// The class grid: loaded once from /api/classes/NAME/board, then kept current by the
// server-sent events of /api/classes/NAME/events (one "row" event per accepted report).
"use strict";
const room = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const key = new URLSearchParams(location.search).get("key") || "";
const api = (path) => `/api/classes/${encodeURIComponent(room)}/${path}?key=${encodeURIComponent(key)}`;
const labs = new Map(); // lab -> {chapter, columns: [{id, name, number}], rows: Map(student -> row)}
window.kubelabLoadedAt = Date.now(); // a reload would reset it (the browser test checks it does not)

const SYMBOL = { "passed": "✓", "failed": "✗", "skipped": "s", "not reached": "·" };
const cls = (outcome) => outcome.replace(" ", "-");

function minutes(since) {
  const m = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 60000));
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function stuck(row, columns) {
  if (row.passed) return "done";
  const column = columns.find((c) => c.id === row.position);
  return `at #${column ? column.number : "?"} ${row.position_name} for ${minutes(row.since)}`;
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function render() {
  const main = document.getElementById("labs");
  main.replaceChildren();
  if (labs.size === 0) {
    main.append(el("p", { id: "empty" }, "No reports yet: students run a lab with --report-to URL --class-token TOKEN."));
    return;
  }
  const ordered = [...labs.entries()].sort((a, b) => a[1].chapter - b[1].chapter || a[0].localeCompare(b[0]));
  for (const [name, lab] of ordered) {
    const section = el("section", { "data-lab": name });
    section.append(el("h2", {}, `lab ${name} (chapter ${lab.chapter})`));
    section.append(el("p", { class: "summary" }, summary(lab)));
    const table = el("table");
    const head = el("tr");
    head.append(el("th", {}, "student"), el("th", {}, "stuck"));
    for (const c of lab.columns) head.append(el("th", { title: c.name }, String(c.number)));
    head.append(el("th", {}, "runs"), el("th", {}, "last report"));
    table.append(head);
    const rows = [...lab.rows.values()].sort((a, b) => a.student.localeCompare(b.student));
    for (const row of rows) table.append(line(row, lab.columns));
    section.append(table);
    main.append(section);
  }
}

function line(row, columns) {
  const tr = el("tr", { "data-student": row.student, "data-lab": row.lab });
  if (row.fresh) tr.classList.add("fresh");
  tr.append(el("td", { class: "student", title: `${row.graded} ${row.commit}${row.dirty ? " (uncommitted changes)" : ""}` }, row.student));
  tr.append(el("td", { class: "stuck", title: (row.hints || []).join("\n") }, stuck(row, columns)));
  for (const c of columns) {
    const outcome = row.cells[c.id] || "not reached";
    const td = el("td", { "data-checkpoint": String(c.number), "data-outcome": outcome, title: row.titles[c.id] || c.name });
    td.append(el("span", { class: `cell ${cls(outcome)}` }, SYMBOL[outcome] || "?"));
    tr.append(td);
  }
  tr.append(el("td", {}, String(row.runs)), el("td", { class: "when" }, new Date(row.received).toLocaleTimeString()));
  return tr;
}

function summary(lab) {
  const rows = [...lab.rows.values()];
  const done = rows.filter((r) => r.passed).length;
  const at = new Map();
  for (const r of rows.filter((r) => !r.passed)) {
    const n = (lab.columns.find((c) => c.id === r.position) || { number: "?" }).number;
    const since = at.has(n) ? Math.min(at.get(n).since, Date.parse(r.since)) : Date.parse(r.since);
    at.set(n, { count: (at.get(n)?.count || 0) + 1, since });
  }
  const parts = [...at.entries()].sort((a, b) => a[0] - b[0])
    .map(([n, v]) => `#${n}: ${v.count} (longest ${minutes(new Date(v.since).toISOString())})`);
  return `${rows.length} students, ${done} done` + (parts.length ? `; stuck at ${parts.join(", ")}` : "");
}

function upsert(row, columns, fresh) {
  if (!labs.has(row.lab)) labs.set(row.lab, { chapter: row.chapter, columns, rows: new Map() });
  const lab = labs.get(row.lab);
  lab.columns = columns;
  for (const r of lab.rows.values()) r.fresh = false;
  lab.rows.set(row.student, { ...row, fresh });
}

async function start() {
  document.getElementById("class-name").textContent = room;
  document.getElementById("export").href = `/classes/${encodeURIComponent(room)}/export.csv?key=${encodeURIComponent(key)}`;
  const response = await fetch(api("board"));
  const data = await response.json();
  for (const lab of data.labs) for (const row of lab.rows) upsert(row, lab.columns, false);
  render();
  const status = document.getElementById("status");
  const events = new EventSource(api("events"));
  events.addEventListener("hello", () => { status.dataset.state = "live"; status.textContent = "live"; });
  events.addEventListener("row", (event) => {
    const message = JSON.parse(event.data);
    upsert(message.row, message.columns, true);
    render();
  });
  events.onerror = () => { status.dataset.state = "lost"; status.textContent = "reconnecting…"; };
  setInterval(render, 30000); // the "for N min" figures move on
}

start();
