// The spiced dashboard: polls /v1/status and /v1/queries and renders them.
// Plain DOM and inline SVG; no libraries, no build step. `?refresh=MS` sets the interval.
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const INTERVAL = Math.max(250, Number(params.get("refresh")) || 1000);
  const SVG = "http://www.w3.org/2000/svg";
  let apiKey = sessionStorage.getItem("spiced-api-key") || "";
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") e.className = v;
      else if (k.startsWith("data-") || k === "title") e.setAttribute(k, String(v));
      else e[k] = v;
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined) return "";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
    const m = Math.floor(ms / 60_000);
    return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
  }

  function fmtUptime(s) {
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${sec}s` : `${sec}s`;
  }

  function fmtBytes(n) {
    if (typeof n !== "number") return "";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${i ? n.toFixed(1) : n} ${units[i]}`;
  }

  function fmtNum(n) {
    return typeof n === "number" ? n.toLocaleString("en-US") : "";
  }

  async function getJson(path) {
    const r = await fetch(path, {
      headers: apiKey ? { "x-api-key": apiKey } : {},
      cache: "no-store",
    });
    if (r.status === 401) {
      $("auth").hidden = false;
      throw new Error("this runtime requires an API key");
    }
    if (!r.ok) throw new Error(`${path} answered HTTP ${r.status}`);
    return await r.json();
  }

  function renderNode(st) {
    $("role").textContent = st.role;
    $("version").textContent = st.version;
    $("uptime").textContent = fmtUptime(st.uptime_seconds);
    $("ready").textContent = st.ready ? "yes" : "no";
    $("ready").className = st.ready ? "state-ready" : "state-loading";
    $("insecure").hidden = !st.insecure;
    $("insecure").textContent = st.warning || "insecure mode";
    document.title = `spiced (${st.role})`;
  }

  function renderExecutors(executors) {
    const body = $("executors").tBodies[0];
    body.replaceChildren(
      ...executors.map((e) => {
        const c = e.counters || {};
        return el(
          "tr",
          { "data-executor-id": e.id },
          el("td", { class: "id" }, e.id),
          el("td", { class: "id" }, e.address),
          el("td", { class: `state-${e.state}` }, e.state),
          el("td", { class: "num" }, `${e.running_tasks} / ${e.slots}`),
          el(
            "td",
            { class: "num", title: e.last_heartbeat },
            `${fmtMs(e.last_heartbeat_age_ms)} ago`,
          ),
          el("td", { class: "num" }, fmtNum(e.tasks_launched)),
          el(
            "td",
            { class: "num" },
            `${fmtNum(c.tasksSucceeded ?? 0)} / ${fmtNum(c.tasksFailed ?? 0)}`,
          ),
          el("td", { class: "num" }, fmtMs((c.taskSeconds ?? 0) * 1000)),
          el("td", { class: "num" }, fmtBytes(c.shuffleBytesWritten ?? 0)),
        );
      }),
    );
    $("executor-count").textContent = `(${executors.length})`;
    $("no-executors").hidden = executors.length > 0;
  }

  /** A horizontal bar per executor: tasks distributed to it, with its task time. */
  function renderChart(executors) {
    const box = $("distribution");
    const rowH = 26, labelW = 230, barMax = 520, width = labelW + barMax + 150;
    const max = Math.max(1, ...executors.map((e) => e.tasks_launched || 0));
    const total = executors.reduce((s, e) => s + (e.tasks_launched || 0), 0);
    const chart = svg("svg", {
      id: "distribution-chart",
      width,
      height: Math.max(1, executors.length) * rowH + 8,
      viewBox: `0 0 ${width} ${Math.max(1, executors.length) * rowH + 8}`,
      role: "img",
      "aria-label": "tasks per executor",
    });
    executors.forEach((e, i) => {
      const n = e.tasks_launched || 0;
      const y = i * rowH + 4;
      const w = Math.max(n ? 2 : 0, Math.round((n / max) * barMax));
      const g = svg("g", { "data-executor-id": e.id, "data-tasks": n });
      g.append(
        svg("text", { x: 0, y: y + 15 }, e.id.length > 32 ? e.id.slice(0, 31) + "…" : e.id),
        svg("rect", {
          class: "bar-launched",
          x: labelW,
          y: y + 3,
          width: w,
          height: rowH - 10,
          rx: 3,
        }),
        svg(
          "text",
          { x: labelW + w + 6, y: y + 15 },
          `${n} tasks${total ? ` (${Math.round((100 * n) / total)}%)` : ""} · ${
            fmtMs(((e.counters || {}).taskSeconds ?? 0) * 1000)
          }`,
        ),
      );
      chart.append(g);
    });
    if (!executors.length) chart.append(svg("text", { x: 0, y: 18 }, "no executors"));
    box.replaceChildren(chart);
  }

  function stageProgress(stages) {
    if (!Array.isArray(stages) || !stages.length) return el("span", { class: "empty" }, "—");
    const wrap = el("span", { class: "stages" });
    for (const s of stages) {
      const pct = s.tasks ? Math.round((100 * s.succeeded) / s.tasks) : 100;
      const fill = el("span");
      fill.style.width = `${pct}%`;
      const bar = el("span", { class: "bar" }, fill);
      wrap.append(
        el(
          "span",
          {
            class: "stage",
            "data-stage": s.stage,
            title:
              `stage ${s.stage}: ${s.succeeded} of ${s.tasks} tasks done, ${s.running} running, ${s.pending} pending`,
          },
          `stage ${s.stage}`,
          bar,
          `${s.succeeded}/${s.tasks}`,
        ),
      );
    }
    return wrap;
  }

  function perExecutor(executors) {
    const entries = Object.entries(executors || {});
    if (!entries.length) return "";
    return entries.map(([id, v]) => `${id}: ${v.tasks} (${fmtMs(v.ms)})`).join(", ");
  }

  function sqlCell(sql) {
    return el("td", { class: "sql", title: sql }, sql);
  }

  function renderRunning(list) {
    $("running").tBodies[0].replaceChildren(
      ...list.map((q) =>
        el(
          "tr",
          { "data-query-id": q.id, "data-state": q.state },
          el("td", { class: "id" }, q.id.slice(0, 8)),
          sqlCell(q.sql),
          el("td", { class: "num" }, fmtMs(q.duration_ms)),
          el("td", {}, stageProgress(q.stages)),
        )
      ),
    );
    $("running-count").textContent = `(${list.length})`;
  }

  function renderRecent(list) {
    $("recent").tBodies[0].replaceChildren(
      ...list.slice(0, 50).map((q) => {
        const stages = Array.isArray(q.stages) ? q.stages : [];
        const tasks = stages.reduce((s, st) => s + st.tasks, 0);
        return el(
          "tr",
          { "data-query-id": q.id, "data-state": q.state },
          el("td", { class: "id", title: q.id }, q.id.slice(0, 8)),
          sqlCell(q.sql),
          el(
            "td",
            {
              class: `state-${q.state}`,
              title: q.error ? `${q.error.code}: ${q.error.message}` : null,
            },
            q.state,
          ),
          el("td", { class: "num" }, fmtMs(q.duration_ms)),
          el("td", { class: "num" }, fmtNum(q.rows)),
          el("td", {}, stages.length ? `${stages.length} stages · ${tasks} tasks` : "—"),
          el("td", {}, perExecutor(q.executors)),
        );
      }),
    );
  }

  async function refresh() {
    try {
      const [st, qs] = await Promise.all([getJson("/v1/status"), getJson("/v1/queries")]);
      renderNode(st);
      const cluster = Array.isArray(st.executors);
      $("executors-section").hidden = !cluster;
      $("distribution-section").hidden = !cluster;
      if (cluster) {
        renderExecutors(st.executors);
        renderChart(st.executors);
      }
      renderRunning(qs.running || []);
      renderRecent(qs.recent || []);
      $("error").hidden = true;
      $("updated").textContent = new Date().toLocaleTimeString();
      document.body.dataset.updated = String(Date.now());
    } catch (e) {
      $("error").hidden = false;
      $("error").textContent = `cannot refresh: ${e.message}`;
    } finally {
      setTimeout(refresh, INTERVAL);
    }
  }

  $("auth").addEventListener("submit", (ev) => {
    ev.preventDefault();
    apiKey = $("api-key").value;
    sessionStorage.setItem("spiced-api-key", apiKey);
    $("auth").hidden = true;
  });
  $("interval").textContent = fmtMs(INTERVAL);
  refresh();
})();
