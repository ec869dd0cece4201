// The supervisord web GUI: state arrives over server-sent events (/events), actions go to the
// REST endpoints as same-origin POSTs, logs stream over /logstream. Everything shown is set with
// textContent: a program may be called "<script>".
"use strict";

const procs = new Map(); // "group:name" -> info
const history = new Map(); // "group:name" -> [{t, cpu (seconds), pct, rss}], the last HISTORY
const HISTORY = 150; // samples: 5 minutes at one every 2 s
let pools = []; // event listener pools, as the server last sent them
let logSource = null;
let logTarget = null;

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

function spec(p) {
  return p.group === p.name ? p.name : p.group + ":" + p.name;
}

function fullname(p) {
  return p.group + ":" + p.name;
}

function uptime(secs) {
  secs = Math.max(0, secs);
  const d = Math.floor(secs / 86400), h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60), s = secs % 60;
  const hms = `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  return d ? `${d} day${d > 1 ? "s" : ""}, ${hms}` : hms;
}

// The server's clock at the last event minus ours, so uptimes tick without asking the server.
let clockSkew = 0;

function healthText(p) {
  switch (p.health) {
    case "healthy": return ", healthy";
    case "unhealthy": return `, unhealthy: ${p.health_detail}`;
    case "unknown": return ", health unknown";
    default: return "";
  }
}

function describe(p) {
  if (p.statename === "RUNNING") {
    const now = Math.floor(Date.now() / 1000) + clockSkew;
    return `pid ${p.pid}, uptime ${uptime(now - p.start)}${healthText(p)}`;
  }
  return p.description;
}

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

const SVG = "http://www.w3.org/2000/svg";

// Two lines, each scaled to its own peak: CPU % and resident memory.
function spark(samples) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "spark");
  // The window grows from one minute to five as samples come.
  const width = Math.max(samples.length, 30) - 1;
  svg.setAttribute("viewBox", `0 0 ${width} 24`);
  svg.setAttribute("preserveAspectRatio", "none");
  for (const [key, cls] of [["pct", "cpu"], ["rss", "mem"]]) {
    const vals = samples.map((s) => s[key]);
    const peak = Math.max(...vals, 1);
    const x0 = width - (samples.length - 1);
    const pts = vals.map((v, i) => `${x0 + i},${(22 - (v / peak) * 20).toFixed(1)}`).join(" ");
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("class", cls);
    line.setAttribute("vector-effect", "non-scaling-stroke");
    line.setAttribute("points", pts);
    svg.append(line);
  }
  return svg;
}

function statCells(p) {
  const h = history.get(fullname(p)) || [];
  const last = h[h.length - 1];
  const live = p.pid > 0 && last;
  return [
    el("td", { class: "num restarts", textContent: String(Math.max(0, (p.spawns || 0) - 1)) }),
    el("td", { class: "num cpu", textContent: live ? `${last.pct.toFixed(1)} %` : "" }),
    el("td", { class: "num mem", textContent: live ? bytes(last.rss) : "" }),
    el("td", { class: "chart" }, h.length > 1 ? spark(h) : ""),
  ];
}

function onStats(data) {
  const seen = new Set();
  for (const s of data.processes) {
    seen.add(s.name);
    const h = history.get(s.name) || [];
    const prev = h[h.length - 1];
    const dt = prev ? data.now - prev.t : 0;
    // CPU time can only grow while the same process runs: a drop means a new process.
    const pct = prev && dt > 0 && s.cpu >= prev.cpu ? ((s.cpu - prev.cpu) / dt) * 100 : 0;
    h.push({ t: data.now, cpu: s.cpu, pct, rss: s.rss });
    const p = procs.get(s.name);
    if (p && (p.health !== s.health || p.health_detail !== s.health_detail)) {
      p.health = s.health;
      p.health_detail = s.health_detail;
      const tr = document.querySelector(`#procs tbody tr[data-name="${CSS.escape(s.name)}"]`);
      if (tr) {
        tr.querySelector(".desc").textContent = describe(p);
        tr.dataset.health = p.health;
      }
    }
    if (h.length > HISTORY) h.shift();
    history.set(s.name, h);
  }
  for (const [name, p] of procs) {
    const tr = document.querySelector(`#procs tbody tr[data-name="${CSS.escape(name)}"]`);
    if (!tr) continue;
    const cells = statCells(p);
    const old = tr.querySelectorAll("td.num, td.chart");
    old.forEach((td, i) => td.replaceWith(cells[i]));
  }
}

function toast(msg) {
  const t = $("#toast");
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

async function post(path, body) {
  const r = await fetch(path, { method: "POST", body: body ? JSON.stringify(body) : undefined,
    headers: body ? { "Content-Type": "application/json" } : {} });
  let data = null;
  try { data = await r.json(); } catch (_) { /* not JSON */ }
  if (!r.ok) toast((data && data.error) || `${path}: HTTP ${r.status}`);
  return data;
}

function act(action, p) {
  return post(`/program/${action}/${encodeURIComponent(fullname(p))}`);
}

function render() {
  const tbody = $("#procs tbody");
  const rows = [];
  const sorted = [...procs.values()].sort((a, b) =>
    a.group === b.group ? a.name.localeCompare(b.name) : a.group.localeCompare(b.group));
  let lastGroup = null;
  for (const p of sorted) {
    // A group gets a heading when it is one: several processes, or a name of its own.
    const members = sorted.filter((q) => q.group === p.group);
    if (p.group !== lastGroup && (members.length > 1 || p.group !== p.name)) {
      rows.push(el("tr", { class: "group" }, el("td", { colSpan: 9, textContent: p.group })));
    }
    lastGroup = p.group;
    const check = el("input", { type: "checkbox", className: "sel" });
    check.dataset.name = fullname(p);
    const buttons = el("td", { class: "actions" });
    for (const a of ["start", "stop", "restart"]) {
      const b = el("button", { textContent: a });
      b.onclick = () => act(a, p);
      buttons.append(b, " ");
    }
    const logb = el("button", { textContent: "log" });
    logb.onclick = () => openLog(p, "stdout");
    buttons.append(logb);
    const tr = el("tr", {},
      el("td", {}, check),
      el("td", { class: "name", textContent: spec(p) }),
      el("td", {}, el("span", { class: `state s-${p.statename}`, textContent: p.statename })),
      el("td", { class: "desc", textContent: describe(p) }),
      ...statCells(p),
      buttons);
    tr.dataset.name = fullname(p);
    tr.dataset.state = p.statename;
    tr.dataset.health = p.health || "";
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
  $("#empty").hidden = procs.size > 0;
}

function renderPools() {
  const rows = [];
  for (const pool of pools) {
    rows.push(el("tr", { class: "pool" },
      el("td", { class: "name", textContent: pool.name }),
      el("td", {}),
      el("td", { class: "events", textContent: pool.events.join(", ") }),
      el("td", { textContent: `${pool.buffered}/${pool.buffer_size}` }),
      ...["emitted", "delivered", "processed", "rejected", "dropped"].map((k) =>
        el("td", { class: `count c-${k}`, textContent: String(pool[k]) }))));
    for (const l of pool.listeners) {
      const tr = el("tr", { class: "listener" },
        el("td", { class: "name", textContent: l.name }),
        el("td", {}, el("span", { class: `state l-${l.state}`, textContent: l.state })),
        el("td", { colSpan: 7, class: "desc", textContent: l.event === null ? "" : `event ${l.event}` }));
      tr.dataset.pool = pool.name;
      tr.dataset.listener = l.name;
      rows.push(tr);
    }
  }
  $("#pools tbody").replaceChildren(...rows);
  $("#pools").hidden = pools.length === 0;
}

function selected() {
  return [...document.querySelectorAll("input.sel:checked")].map((c) => c.dataset.name);
}

function openLog(p, channel) {
  if (logSource) logSource.close();
  logTarget = p;
  $("#logview").hidden = false;
  $("#logname").textContent = spec(p);
  const text = $("#logtext");
  text.textContent = "";
  for (const b of document.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.channel === channel);
  logSource = new EventSource(`/logstream/${encodeURIComponent(fullname(p))}/${channel}`);
  logSource.onmessage = (e) => {
    text.append(JSON.parse(e.data));
    // Keep the page light: the newest 200 KB are enough to read.
    if (text.textContent.length > 400000) text.textContent = text.textContent.slice(-200000);
    if ($("#follow").checked) text.scrollTop = text.scrollHeight;
  };
}

function connect() {
  const es = new EventSource("/events");
  es.addEventListener("snapshot", (e) => {
    const data = JSON.parse(e.data);
    procs.clear();
    clockSkew = data.now - Math.floor(Date.now() / 1000);
    $("#ident").textContent = data.identification;
    $("#version").textContent = data.version;
    for (const p of data.processes) procs.set(fullname(p), p);
    pools = data.pools || [];
    $("#conn").textContent = "live";
    $("#conn").classList.add("live");
    render();
    renderPools();
  });
  es.addEventListener("stats", (e) => onStats(JSON.parse(e.data)));
  es.addEventListener("pools", (e) => {
    pools = JSON.parse(e.data);
    renderPools();
  });
  es.addEventListener("process", (e) => {
    const p = JSON.parse(e.data);
    clockSkew = p.now - Math.floor(Date.now() / 1000);
    procs.set(fullname(p), p);
    render();
  });
  es.onerror = () => {
    $("#conn").textContent = "disconnected, retrying…";
    $("#conn").classList.remove("live");
  };
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("[data-bulk]")) {
    b.onclick = () => {
      const names = selected();
      if (!names.length) return toast("Select programs first");
      const action = b.dataset.bulk;
      if (action === "restart") {
        for (const n of names) post(`/program/restart/${encodeURIComponent(n)}`);
      } else {
        post(`/program/${action}Programs`, names);
      }
    };
  }
  for (const b of document.querySelectorAll("[data-all]")) {
    b.onclick = () => post(`/program/${b.dataset.all}Programs`, [...procs.keys()]);
  }
  $("#selectall").onchange = (e) => {
    for (const c of document.querySelectorAll("input.sel")) c.checked = e.target.checked;
  };
  $("#reload").onclick = () => {
    if (confirm("Restart supervisord: stop every program, re-read the config, start again?")) post("/supervisor/reload");
  };
  $("#shutdown").onclick = () => {
    if (confirm("Shut supervisord down, stopping every program?")) post("/supervisor/shutdown");
  };
  for (const b of document.querySelectorAll(".tab")) {
    b.onclick = () => logTarget && openLog(logTarget, b.dataset.channel);
  }
  $("#logclear").onclick = async () => {
    if (!logTarget) return;
    if (!confirm(`Empty the logs of ${spec(logTarget)} (stdout, stderr and their backups)?`)) return;
    const r = await post(`/program/clearlog/${encodeURIComponent(fullname(logTarget))}`);
    if (r && r.success) {
      $("#logtext").textContent = "";
      toast(`Logs of ${spec(logTarget)} cleared`);
    }
  };
  $("#logclose").onclick = () => {
    if (logSource) logSource.close();
    logSource = null;
    $("#logview").hidden = true;
  };
  setInterval(() => {
    for (const tr of document.querySelectorAll("#procs tbody tr[data-state=RUNNING]")) {
      const p = procs.get(tr.dataset.name);
      if (p) tr.querySelector(".desc").textContent = describe(p);
    }
  }, 1000);
  connect();
});
