// The analysts' page. Report text is untrusted: every node is built with textContent and
// createElement, never innerHTML. Highlights arrive as {text, hit} segments, not markup.
"use strict";

const state = { key: "", why: "", role: "", filters: [], cursor: null, seq: 0 };

// The key is kept for this tab only (sessionStorage: gone when the tab closes, never shared
// with other tabs, never a cookie or localStorage), so a reload does not ask for it again.
const KEPT = { key: "ct-intake.key", why: "ct-intake.justification", notice: "ct-intake.notice" };

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "class") node.className = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function setStatus(message, isError) {
  const status = $("status");
  status.textContent = message || "";
  status.classList.toggle("error", Boolean(isError));
}

// Header values must be Latin-1; anything else goes as a query parameter instead.
function justificationFits() {
  return /^[\x20-\x7e]*$/.test(state.why);
}

// The URL and headers of an API request as the signed-in caller (the alerts stream uses it too).
function apiRequest(path, params, body, accept) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of params || []) url.searchParams.append(name, value);
  const headers = { "X-API-Key": state.key, "X-Audit-Channel": "web", Accept: accept || "application/json" };
  if (justificationFits()) headers["X-Justification"] = state.why;
  else if (body) body.justification = state.why;
  else url.searchParams.set("justification", state.why);
  return { url, headers };
}

// A refused request: `status` and the API's `detail` (a message, or a list of {loc, msg}).
class ApiError extends Error {
  constructor(status, detail) {
    const text = typeof detail === "string" ? detail
      : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : "request refused";
    super(`${status}: ${text}`);
    this.status = status;
    this.detail = detail;
  }
}

async function call(method, path, params, body) {
  const { url, headers } = apiRequest(path, params, body);
  const init = { method, headers };
  if (body) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && state.key && !$("workspace").hidden) {
    signOut("The API no longer accepts this key: sign in again.");
  }
  if (!response.ok) throw new ApiError(response.status, data.detail);
  return data;
}

function formatTime(value) {
  return value ? new Date(value).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "";
}

function fragmentNode(segments) {
  const p = el("p", { class: "fragment" });
  for (const segment of segments) {
    p.append(segment.hit ? el("mark", {}, segment.text) : document.createTextNode(segment.text));
  }
  return p;
}

function entityChips(entities) {
  const chips = el("div", { class: "chips" });
  for (const [type, values] of Object.entries(entities || {})) {
    for (const value of values) {
      chips.append(
        el("button", { type: "button", class: `chip chip-${type}`, title: `Open ${type} ${value}`,
          onclick: () => openEntity(type, value) }, `${type}: ${value}`)
      );
    }
  }
  return chips;
}

// A report's derived priority (pipeline/enrich/priority.py) in words: the score and its reasons.
function priorityBadge(report) {
  if (!report.priority) return null;
  const reasons = (report.priority_reasons || []).map((r) => r.replace(/_/g, " ")).join(", ");
  return el("span", { class: "report-priority", "data-priority": String(report.priority),
    title: `derived priority ${report.priority}: ${reasons}` },
  `priority ${report.priority}`, reasons ? el("span", { class: "reasons" }, ` · ${reasons}`) : null);
}

function reportCard(report, { compact } = {}) {
  const card = el("article", { class: "card", "data-id": report.id });
  const title = el("button", { type: "button", class: "title", onclick: () => openReport(report.id) },
    el("span", { class: "kind" }, report.source.replace(/_/g, " ")), ` · ${report.source_id}`);
  const meta = el("div", { class: "meta" }, title,
    el("span", {}, formatTime(report.timestamp)),
    report.region ? el("span", { class: "region" }, report.region) : null,
    priorityBadge(report));
  card.append(meta);
  if (report.highlights && report.highlights.length) {
    for (const fragment of report.highlights) card.append(fragmentNode(fragment));
  } else if (report.text) {
    card.append(el("p", { class: "fragment" }, compact ? report.text.slice(0, 240) : report.text));
  }
  if (report.shared && Object.keys(report.shared).length) {
    card.append(el("div", { class: "shared" }, "shares ", entityChips(report.shared)));
  } else if (!compact) {
    card.append(entityChips(report.entities));
  }
  if (report.similar > 0) {
    const fold = el("button", { type: "button", class: "similar",
      onclick: () => openReport(report.id) },
      `${report.similar} similar report${report.similar === 1 ? "" : "s"}`);
    card.append(fold);
  }
  return card;
}

function renderFilters() {
  const box = $("filters");
  box.replaceChildren();
  state.filters.forEach((filter, index) => {
    box.append(el("button", { type: "button", class: "chip active", title: "Remove filter",
      onclick: () => { state.filters.splice(index, 1); runSearch(); } },
      `${filter.label} ✕`));
  });
}

function renderFacets(facets) {
  const box = $("facets");
  box.replaceChildren();
  for (const [name, buckets] of Object.entries(facets || {})) {
    if (!buckets.length) continue;
    const list = el("ul", {});
    for (const bucket of buckets) {
      list.append(el("li", {}, el("button", { type: "button", class: "facet",
        onclick: () => addFilter(name, bucket.value) }, `${bucket.value} (${bucket.count})`)));
    }
    box.append(el("h3", {}, name.replace("entities.", "")), list);
  }
}

function addFilter(name, value) {
  if (name === "source") state.filters.push({ param: "source", value, label: `source: ${value}` });
  else if (name === "region") state.filters.push({ param: "region", value, label: `region: ${value}` });
  else {
    const type = name.replace("entities.", "");
    state.filters.push({ param: "entity", value: `${type}:${value}`, label: `${type}: ${value}` });
  }
  runSearch();
}

function searchBody(cursor) {
  const body = { q: $("q").value, sort: $("sort").value, collapse: $("collapse").checked,
    fold: $("fold").value, mode: $("mode").value, size: 20, source: [], region: [], entity: [] };
  for (const filter of state.filters) body[filter.param].push(filter.value);
  if (cursor) body.cursor = cursor;
  return body;
}

// Forget what is on the list: a response to any request made before this is dropped.
function clearResults() {
  state.seq += 1;
  state.cursor = null;
  $("results").replaceChildren();
  $("facets").replaceChildren();
  $("notice").hidden = true;
}

async function runSearch(more) {
  const results = $("results");
  if (!more) clearResults();
  // Only the answer to the latest request may reach the list (responses can come out of order).
  const seq = state.seq;
  renderFilters();
  setStatus("Searching…");
  try {
    const page = await call("POST", "/api/search", [], searchBody(more ? state.cursor : null));
    if (seq !== state.seq) return;
    if (!more) renderFacets(page.facets);
    for (const report of page.results) results.append(reportCard(report));
    state.cursor = page.next_cursor;
    const old = $("more");
    if (old) old.remove();
    if (state.cursor) {
      results.append(el("button", { type: "button", id: "more", onclick: () => runSearch(true) },
        "More results"));
    }
    const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
    const clusters = page.clusters ? ` in ${plural(page.clusters, $("fold").value)}` : "";
    if (page.partial_match) {
      $("notice").textContent = "No report has every word of this search: "
        + "these reports have most of them.";
      $("notice").hidden = false;
      setStatus(`${plural(page.total, "report")}${clusters} with most of the words`);
    } else {
      setStatus(`${plural(page.total, "matching report")}${clusters}`);
    }
  } catch (error) {
    if (seq === state.seq) setStatus(error.message, true);
  }
}

// The detail panel: a report, entity or cluster view beside the current view. Opening one from
// inside the panel (a pivot) keeps the one it replaces for Back; Close (or Escape) returns the
// focus to the control that opened the panel.
const detailState = { history: [], opener: null };

function detailPanel(...children) {
  const panel = $("detail");
  if (!panel.hidden && panel.contains(document.activeElement)) {
    detailState.history.push([...panel.children].filter((node) => !node.classList.contains("detail-controls")));
  } else {
    detailState.history.length = 0;
    detailState.opener = document.activeElement;
  }
  showDetail(children.filter((child) => child));
}

function showDetail(children) {
  const panel = $("detail");
  const controls = el("div", { class: "detail-controls" },
    detailState.history.length ? el("button", { type: "button", class: "back", onclick: detailBack }, "Back")
      : null,
    el("button", { type: "button", class: "close", "aria-keyshortcuts": "Escape",
      onclick: closeDetail }, "Close"));
  panel.replaceChildren(controls, ...children);
  panel.hidden = false;
  panel.scrollTop = 0;
  const heading = panel.querySelector("h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

function detailBack() {
  const previous = detailState.history.pop();
  if (previous) showDetail(previous);
}

function closeDetail() {
  const panel = $("detail");
  panel.hidden = true;
  panel.replaceChildren();
  detailState.history.length = 0;
  const opener = detailState.opener;
  detailState.opener = null;
  if (opener && opener.isConnected && opener.offsetParent !== null) opener.focus();
}

function listSection(title, reports) {
  const section = el("section", { "data-list": title }, el("h3", {}, `${title} (${reports.length})`));
  for (const report of reports) section.append(reportCard(report, { compact: true }));
  return section;
}

async function openReport(id) {
  try {
    const view = await call("GET", `/api/reports/${encodeURIComponent(id)}`);
    const report = view.report;
    const parts = [
      el("h2", {}, el("span", { class: "kind" }, report.source.replace(/_/g, " ")),
        ` · ${report.source_id}`),
      el("div", { class: "meta" }, el("span", {}, formatTime(report.timestamp)),
        report.region ? el("span", { class: "region" }, report.region) : null,
        priorityBadge(report),
        el("span", {}, `cluster of ${view.cluster_size}`),
        report.cluster_id ? el("button", { type: "button", id: "open-cluster-view",
          onclick: () => openClusterView(report.cluster_id) }, "Cluster view") : null),
      // its entities marked in the text, each a link to its entity view (workbench.js)
      incidentControls(report), // incidents.js
      markedText(report.text, report.entity_mentions, { class: "text", id: "report-text" }),
      report.url ? el("p", { class: "url" }, report.url) : null,
      entityChips(report.entities),
    ];
    if (report.restricted && Object.keys(report.restricted).length) {
      parts.push(el("h3", {}, "Restricted details"),
        el("pre", { class: "restricted" }, JSON.stringify(report.restricted, null, 2)));
    }
    // Only the restricted role gets these: the narrative as written and what was masked in it.
    if (report.restricted_text) {
      parts.push(el("h3", {}, "Narrative as written (restricted)"),
        el("pre", { class: "text restricted", id: "report-restricted-text" }, report.restricted_text));
    }
    if (report.restricted_entities && Object.keys(report.restricted_entities).length) {
      const masked = Object.entries(report.restricted_entities)
        .map(([kind, values]) => `${kind}: ${values.join(", ")}`).join("\n");
      parts.push(el("pre", { class: "restricted", id: "report-restricted-entities" }, masked));
    }
    parts.push(listSection("Same cluster", view.cluster), listSection("Linked reports", view.linked));
    // Selectors in too many unrelated reports (a hotline's own number) link nothing: say which.
    if (view.common_selectors && Object.keys(view.common_selectors).length) {
      parts.push(el("div", { class: "shared common", id: "report-common" },
        "not linked by common selectors ", entityChips(view.common_selectors)));
    }
    detailPanel(...parts);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function openEntity(type, value) {
  try {
    const view = await call("GET", `/api/entities/${encodeURIComponent(type)}`, [["value", value]]);
    const sources = view.sources.map((b) => `${b.value} ${b.count}`).join(", ");
    const clusters = `${view.clusters} cluster${view.clusters === 1 ? "" : "s"}`;
    detailPanel(
      el("h2", {}, `${view.type}: ${view.value}`),
      el("p", {}, `${view.total} reports in ${clusters} · first seen ` +
        `${formatTime(view.first_seen)} · last seen ${formatTime(view.last_seen)}`),
      view.common ? el("p", { class: "common", id: "entity-common" },
        "common selector: it is in too many unrelated reports to link them") : null,
      el("p", {}, `sources: ${sources || "none"}`),
      listSection("Reports", view.reports),
    );
  } catch (error) {
    setStatus(error.message, true);
  }
}

function showSignIn(message) {
  $("workspace").hidden = true;
  $("signout").hidden = true;
  $("who").textContent = "";
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("key").focus();
}

// Ask the API who the key belongs to; on success keep it for the tab and open the workspace.
async function enter() {
  const me = await call("GET", "/api/whoami");
  sessionStorage.setItem(KEPT.key, state.key);
  sessionStorage.setItem(KEPT.why, state.why);
  state.role = me.role;
  $("who").textContent = `Signed in as ${me.user} (${me.role}) · ${state.why}`;
  $("login").hidden = true;
  $("login-error").textContent = "";
  $("key").value = "";
  $("signout").hidden = false;
  $("workspace").hidden = false;
  $("q").focus();
  runSearch();
  // The other panels (alerts, watchlist) start on this.
  document.dispatchEvent(new CustomEvent("signed-in", { detail: me }));
}

async function start(event) {
  event.preventDefault();
  state.key = $("key").value.trim();
  state.why = $("justification").value.trim();
  try {
    await enter();
  } catch (error) {
    state.key = "";
    $("login-error").textContent = error.status === 401
      ? "This key is not accepted: check it and try again." : error.message;
  }
}

// Forget the key and start the page afresh (so no panel keeps a list, a stream or a timer).
function signOut(message) {
  sessionStorage.removeItem(KEPT.key);
  sessionStorage.removeItem(KEPT.why);
  if (message) sessionStorage.setItem(KEPT.notice, message);
  state.key = "";
  window.location.reload();
}

async function resume() {
  const notice = sessionStorage.getItem(KEPT.notice);
  sessionStorage.removeItem(KEPT.notice);
  state.key = sessionStorage.getItem(KEPT.key) || "";
  state.why = sessionStorage.getItem(KEPT.why) || "";
  if (!state.key) {
    showSignIn(notice);
    return;
  }
  $("justification").value = state.why;
  try {
    await enter();
  } catch (error) {
    if (error.status === 401) {
      sessionStorage.removeItem(KEPT.key);
      state.key = "";
      showSignIn("The key kept for this tab is no longer accepted: sign in again.");
    } else {
      showSignIn(error.message);
    }
  }
}

// Views: one of the workspace's sections is shown at a time; the detail panel stays beside it.
function showView(name) {
  for (const button of document.querySelectorAll("#views button[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === name));
  }
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== `view-${name}`;
}

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", start);
  $("signout").addEventListener("click", () => signOut());
  // A new query makes the list stale at once: clear it rather than show the old results.
  $("q").addEventListener("input", () => {
    clearResults();
    setStatus("Press Enter to search");
  });
  for (const id of ["sort", "collapse", "fold", "mode"]) {
    $(id).addEventListener("change", () => runSearch());
  }
  for (const button of document.querySelectorAll("#views button[data-view]")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
  $("search").addEventListener("submit", (event) => { event.preventDefault(); runSearch(); });
  resume();
});
