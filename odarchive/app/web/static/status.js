// The status page: polls GET /api/status and renders it; starts jobs with POST /api/jobs.
// Every piece of data reaches the DOM through textContent or element properties (el(),
// text nodes), never as HTML: names from sources, discs and labels are shown as text.
"use strict";
(() => {
  const POLL_MS = 2000;
  const ARCHIVE_MS = 15000;
  const TOKEN_KEY = "odarchive.token";
  const SLOT_STATES = ["recorded", "blank", "empty", "drive", "faulty", "full"];
  const $ = (id) => document.getElementById(id);

  // An element with properties (class, text, title, value, ...) and children (nodes or text).
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = String(v);
      else e[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const str = (v) => (v === null || v === undefined ? "" : String(v));
  function age(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "";
    const s = Math.max(0, Math.round(seconds));
    if (s < 90) return `${s} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  }
  function bytes(n) {
    if (!n) return "0 B";
    const units = ["B", "kB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return `${i ? n.toFixed(1) : n} ${units[i]}`;
  }
  function since(ts, now) { return ts ? age(now - ts) : ""; }
  function clientText(c) { return typeof c === "string" ? c : (c && (c.client || c.name)) || JSON.stringify(c); }

  // ---- the token: asked for once, kept in this browser's localStorage ----
  const token = {
    get: () => localStorage.getItem(TOKEN_KEY) || "",
    set: (t) => localStorage.setItem(TOKEN_KEY, t),
    forget: () => localStorage.removeItem(TOKEN_KEY),
  };
  function askToken(why) {
    $("token-box").hidden = false;
    say(why, true);
    $("token").focus();
  }
  function say(text, bad) {
    const out = $("action-result");
    out.textContent = text;
    out.className = bad ? "bad" : "";
  }

  // ---- rendering ----
  function renderHeader(s) {
    const svc = s.service || {};
    $("home").textContent = [svc.home, svc.pid ? `pid ${svc.pid}` : ""].filter(Boolean).join(" · ");
  }

  function renderDrives(drives, now) {
    const box = $("drives");
    box.replaceChildren();
    if (!drives || !drives.length) { box.append(el("p", { class: "muted", text: "No drives." })); return; }
    for (const d of drives) {
      const state = str(d.state || "idle");
      const cls = d.fault || state === "faulty" ? "bad" : state === "idle" ? "ok" : "busy";
      const lease = d.lease;
      box.append(el("div", { class: "card drive" },
        el("h3", {}, `Drive ${str(d.drive)} `, el("span", { class: `badge ${cls}`, text: state })),
        el("div", { text: d.disc !== null && d.disc !== undefined
          ? `disc ${d.disc}${d.label ? ` (${d.label})` : ""}`
          : d.medium ? `${d.medium} medium${d.label ? ` (${d.label})` : ""}` : "no disc" }),
        lease ? el("div", { text: `lease: ${str(lease.kind)} by ${clientText(lease.client)}` }) : null,
        d.since ? el("div", { class: "muted", text: `since ${since(d.since, now)}` }) : null,
        d.fault ? el("div", { class: "fault", text: `fault: ${d.fault}` }) : null));
    }
  }

  let slotCells = [];
  let lastSlots = [];
  let pickedSlot = null;
  function slotText(s) {
    let t = `slot ${s.slot}: ${str(s.state)}`;
    if (s.disc !== null && s.disc !== undefined) t += `, disc ${s.disc}`;
    if (s.label) t += ` (${s.label})`;
    return t;
  }
  function renderSlots(changer) {
    const slots = (changer && changer.slots) || [];
    const map = $("slots");
    if (slotCells.length !== slots.length) {
      map.replaceChildren();
      slotCells = slots.map((_, i) => {
        const b = el("button", { type: "button", class: "slot" });
        b.addEventListener("click", () => { pickedSlot = i; showSlot(); });
        map.append(b);
        return b;
      });
    }
    const counts = {};
    slots.forEach((s, i) => {
      const state = SLOT_STATES.includes(s.state) ? s.state : "unknown";
      counts[state] = (counts[state] || 0) + 1;
      const cell = slotCells[i];
      cell.className = `slot s-${state}${pickedSlot === i ? " picked" : ""}`;
      cell.title = slotText(s);
      cell.dataset.state = state;
    });
    $("slot-total").textContent = changer && changer.driver ? `${slots.length} · ${changer.driver}` : `${slots.length}`;
    const legend = $("legend");
    legend.replaceChildren();
    for (const state of [...SLOT_STATES, "unknown"]) {
      if ((state === "unknown" || state === "full") && !counts[state]) continue;  // rare states: only when present
      legend.append(el("span", {}, el("i", { class: `s-${state}` }), `${state} ${counts[state] || 0}`));
    }
    lastSlots = slots;
    showSlot();
    const faults = (changer && changer.faults) || [];
    $("faults").textContent = faults.map((f) => `fault: ${typeof f === "string" ? f : str(f.message)}`).join("\n");
  }
  function showSlot() {
    if (pickedSlot === null || !lastSlots[pickedSlot]) return;
    slotCells.forEach((c, i) => c.classList.toggle("picked", i === pickedSlot));
    $("slot-detail").textContent = slotText(lastSlots[pickedSlot]);
  }

  function renderQueue(queue) {
    const body = $("queue").tBodies[0];
    body.replaceChildren();
    for (const q of queue || []) {
      body.append(el("tr", {},
        el("td", { text: str(q.disc) }), el("td", { text: str(q.kind) }), el("td", { text: str(q.waiting) }),
        el("td", { text: age(q.oldest_age_s) }), el("td", { class: "name", text: (q.clients || []).map(clientText).join(", ") })));
    }
    $("queue").hidden = !(queue && queue.length);
    $("queue-empty").hidden = !!(queue && queue.length);
  }

  function jobTitle(j) {
    const p = j.params || {};
    if (j.kind === "burn") return `#${j.id} burn discs ${str(p.segments)}`;
    if (j.kind === "rescan") return `#${j.id} rescan ${str(p.source)}`;
    return `#${j.id} ${str(j.kind)}`;
  }
  function jobLine(j, now) {
    if (j.state === "failed") return `failed: ${str(j.error)}`;
    if (j.state === "finished") {
      const r = j.result || {};
      const burn = j.kind === "burn" ? r : r.burn;
      const burned = burn && burn.burned ? `, ${burn.burned.length} disc(s) burned` : "";
      const planned = r.planned ? `, ${r.planned.length} new disc(s) planned` : "";
      return `finished ${since(j.finished, now)} ago${planned}${burned}`;
    }
    if (j.state === "queued") return "waiting for the job before it";
    let t = `${str(j.step)}${j.phase && j.phase !== j.step ? ` (${j.phase})` : ""}`;
    if (j.percent !== null && j.percent !== undefined) t += ` ${j.percent.toFixed(1)}%`;
    if (j.eta_s !== null && j.eta_s !== undefined) t += `, ETA ${age(j.eta_s)}`;
    if (j.disc !== null && j.disc !== undefined) t += ` · disc ${j.disc}`;
    if (j.drive !== null && j.drive !== undefined) t += ` on drive ${j.drive}`;
    return t;
  }
  let jobStates = {};
  function renderJobs(jobs, now) {
    const box = $("jobs");
    box.replaceChildren();
    let changed = false;
    for (const j of jobs || []) {
      if (jobStates[j.id] && jobStates[j.id] !== j.state) changed = true;
      jobStates[j.id] = j.state;
      const discs = (j.discs || []).map((d) => el("li", {
        text: `disc ${d.disc}${d.drive !== null && d.drive !== undefined ? ` · drive ${d.drive}` : ""} · ${str(d.phase)}`
          + `${d.phase === "burn" || d.phase === "verify" ? ` ${Number(d.percent || 0).toFixed(0)}%` : ""}`
          + `${d.reason ? `: ${d.reason}` : ""}`,
      }));
      box.append(el("div", { class: `job ${str(j.state)}`, id: `job-${j.id}` },
        el("div", {}, el("strong", { text: jobTitle(j) }), " ",
          el("span", { class: "badge", text: str(j.state) }), " ",
          el("span", { class: "muted", text: j.client ? `by ${j.client}` : "" })),
        el("div", { class: "line", text: jobLine(j, now) }),
        j.state === "running" ? el("progress", { max: 100, value: j.percent || 0 }) : null,
        discs.length ? el("ul", { class: "discs" }, ...discs) : null));
    }
    $("jobs-empty").hidden = !!(jobs && jobs.length);
    if (changed) loadArchive();
  }

  function renderMounts(mounts) {
    const body = $("mounts").tBodies[0];
    body.replaceChildren();
    for (const m of mounts || []) {
      const c = m.cache || {};
      const ratio = typeof c.hit_ratio === "number" ? c.hit_ratio.toFixed(2) : "";
      body.append(el("tr", {},
        el("td", { class: "name", text: str(m.mountpoint) }), el("td", { text: ratio }), el("td", { text: str(m.disc_loads) }),
        el("td", { text: str(m.disc_failures) }),
        el("td", { text: `${bytes(c.bytes_cached)}${c.max_bytes ? ` of ${bytes(c.max_bytes)}` : ""}` })));
    }
    $("mounts").hidden = !(mounts && mounts.length);
    $("mounts-empty").hidden = !!(mounts && mounts.length);
  }

  function renderOffline(discs) {
    const list = $("offline");
    list.replaceChildren(...(discs || []).map((d) => el("li", { class: "name", text: str(d.text) })));
    $("offline-empty").hidden = !!(discs && discs.length);
  }

  // The same words as `odarchive status` (odarchive/cli/service_status.py).
  function renderScrub(sc, now) {
    let t = sc && sc.why ? `off (${str(sc.why)})` : "off";
    if (sc && sc.every && sc.every !== "off") {
      t = `every ${str(sc.every)}, ${sc.scrubbed || 0} disc(s) scrubbed, gave way ${sc.gave_way || 0} time(s)`;
      const c = sc.current;
      if (c) t += `; scrubbing disc ${c.disc} (set ${str(c.set)}) on drive ${c.drive} for ${since(c.since, now)}`;
      const l = sc.last;
      if (l) t += `; last: disc ${l.disc} (set ${str(l.set)}) ${str(l.result)} ${since(l.at, now)} ago`;
      for (const k of sc.skipped || []) t += `; skipped disc ${k.disc} copy ${k.copy}: ${str(k.reason)}`;
      for (const h of sc.attention || []) t += `; needs attention: disc ${h.disc} (set ${str(h.set)}) ${str(h.result)}`;
    }
    $("scrub").textContent = t;
  }

  function render(s) {
    const now = s.now || Date.now() / 1000;
    renderHeader(s);
    renderDrives(s.drives, now);
    renderSlots(s.changer);
    renderQueue(s.queue);
    renderJobs(s.jobs, now);
    renderMounts(s.mounts);
    renderOffline(s.offline_discs);
    renderScrub(s.scrub, now);
    document.body.dataset.rendered = String((Number(document.body.dataset.rendered) || 0) + 1);
  }

  // ---- polling ----
  let timer = null;
  async function poll() {
    clearTimeout(timer);
    const conn = $("conn");
    try {
      const r = await fetch("/api/status", { cache: "no-store" });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      render(await r.json());
      conn.textContent = `updated ${new Date().toLocaleTimeString()}`;
      conn.classList.remove("lost");
    } catch (e) {
      conn.textContent = `no answer from the service (${e.message}); retrying`;
      conn.classList.add("lost");
    }
    timer = setTimeout(poll, POLL_MS);
  }

  async function loadArchive() {
    try {
      const r = await fetch("/api/archive", { cache: "no-store" });
      if (!r.ok) return;
      const a = await r.json();
      const select = $("source");
      const keep = select.value;
      select.replaceChildren(...(a.sources || []).map((s) => el("option", { value: s.name, text: s.name, title: s.path })));
      if (keep) select.value = keep;
      const waiting = (a.discs && a.discs.not_burned) || [];
      $("planned").textContent = waiting.length ? `not burned yet: ${waiting.length} disc(s)` : "every planned disc is burned";
    } catch (e) { /* the status line already says the service is unreachable */ }
  }

  // ---- jobs ----
  async function startJob(body) {
    const t = token.get();
    if (!t) { askToken("This needs the home's token once."); return; }
    say("asking…", false);
    let r;
    try {
      r = await fetch("/api/jobs", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${t}`, "X-Odarchive-Client": "page" },
        body: JSON.stringify(body),
      });
    } catch (e) { say(`no answer from the service: ${e.message}`, true); return; }
    const answer = await r.json().catch(() => ({}));
    if (r.status === 401) { token.forget(); askToken("The service refused the token: paste the current one."); return; }
    if (!r.ok) { say(`${str(answer.error) || `HTTP ${r.status}`}${answer.hint ? ` (${answer.hint})` : ""}`, true); return; }
    say(`job #${answer.job.id} queued: ${jobTitle(answer.job)}`, false);
    poll();
  }

  function wire() {
    $("token-save").addEventListener("click", () => {
      const t = $("token").value.trim();
      if (!t) return;
      token.set(t);
      $("token").value = "";
      $("token-box").hidden = true;
      say("token kept in this browser", false);
    });
    $("token-forget").addEventListener("click", () => { token.forget(); askToken("Token forgotten."); });
    $("burn").addEventListener("click", () => startJob({ kind: "burn", segments: $("segments").value.trim() || "all" }));
    $("rescan").addEventListener("click", () => {
      const source = $("source").value;
      if (!source) { say("no source in the catalogue yet", true); return; }
      const body = { kind: "rescan", source };
      const size = $("size").value.trim();
      if (size) body.size = size;
      startJob(body);
    });
    if (!token.get()) $("token-box").hidden = false;
  }

  wire();
  poll();
  loadArchive();
  setInterval(loadArchive, ARCHIVE_MS);
})();
