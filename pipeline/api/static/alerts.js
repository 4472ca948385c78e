// The Alerts panel: the caller's alerts, kept live by /api/alerts/stream (server-sent events).
// EventSource cannot send the X-API-Key header, so the stream is read with fetch() and a
// ReadableStream and parsed here. Alert text is untrusted like report text: built with
// textContent only; a saved search's highlight arrives as {text, hit} segments, never markup.
"use strict";

const OUTCOMES = [
  ["relevant", "Relevant"],
  ["not_relevant", "Not relevant"],
  ["duplicate", "Duplicate"],
];
const RETRY_MAX_MS = 30000;

const alerts = {
  byId: new Map(),
  lastEventId: null,
  retryMs: 2000,
  delayMs: 2000,
  controller: null,
  timer: null,
};

// ---- reading the stream ----------------------------------------------------------------

// Server-sent events: blocks end with a blank line; `field: value` lines; `:` starts a comment.
function parseEventBlocks(buffer) {
  const text = buffer.replace(/\r\n?/g, "\n");
  const blocks = text.split("\n\n");
  const rest = blocks.pop();
  const events = [];
  for (const block of blocks) {
    const event = { type: "message", data: [], id: null, retry: null };
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event.type = value;
      else if (field === "data") event.data.push(value);
      else if (field === "id") event.id = value;
      else if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
    }
    events.push({ ...event, data: event.data.join("\n") });
  }
  return { events, rest };
}

function setStreamState(text, isError) {
  const node = $("stream-state");
  node.textContent = text;
  node.classList.toggle("error", Boolean(isError));
}

function handleStreamEvent(event) {
  if (event.id !== null) alerts.lastEventId = event.id;
  if (event.retry !== null) alerts.retryMs = event.retry;
  if (event.type === "alert" && event.data) {
    upsertAlert(JSON.parse(event.data), { live: true });
  } else if (event.type === "error") {
    setStreamState("Alerts: interrupted, reconnecting", true);
  }
}

async function readAlertStream() {
  alerts.controller = new AbortController();
  const params = [];
  const { url, headers } = apiRequest("/api/alerts/stream", params, null, "text/event-stream");
  if (alerts.lastEventId) headers["Last-Event-ID"] = alerts.lastEventId;
  const response = await fetch(url, { headers, signal: alerts.controller.signal, cache: "no-store" });
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    throw new ApiError(response.status, data.detail);
  }
  setStreamState("Alerts: live");
  alerts.delayMs = alerts.retryMs;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const parsed = parseEventBlocks(buffer + value);
    buffer = parsed.rest;
    for (const event of parsed.events) handleStreamEvent(event);
  }
}

// Runs until the page goes: a stream that ends or fails is opened again from its last id.
async function keepAlertStream() {
  alerts.timer = null;
  try {
    await readAlertStream();
    setStreamState("Alerts: reconnecting");
  } catch (error) {
    if (error.name === "AbortError") return;
    if (error.status === 401) {
      signOut("The API no longer accepts this key: sign in again.");
      return;
    }
    if (error.status === 403) {
      setStreamState(`Alerts: ${error.message}`, true);
      return;
    }
    if (error.status === 422) alerts.lastEventId = null;
    setStreamState(`Alerts: reconnecting (${error.message})`, true);
    alerts.delayMs = Math.min(alerts.delayMs * 2, RETRY_MAX_MS);
  }
  alerts.timer = setTimeout(keepAlertStream, alerts.delayMs);
}

// ---- rendering -------------------------------------------------------------------------

// An entry's target carries the value as written; an alert's, its normal form (`key`).
function watchedLabel(target, search) {
  if (target) return `${target.type}: ${target.value || target.key}`;
  if (search) {
    const narrowed = [...(search.sources || []), ...(search.regions || [])];
    return `search "${search.q}"${narrowed.length ? ` in ${narrowed.join(", ")}` : ""}`;
  }
  return "";
}

function matchedNode(alert) {
  if (alert.highlight) {
    const node = fragmentNode(alert.highlight);
    node.classList.add("matched");
    return node;
  }
  if (alert.mention) {
    const { type, text, value } = alert.mention;
    return el("p", { class: "fragment matched" }, `${type} `, el("mark", {}, text),
      value && value !== text ? ` (${value})` : null);
  }
  return null;
}

function acknowledgedNode(ack) {
  const note = ack.note ? ` · ${ack.note}` : "";
  return el("p", { class: "acknowledged" },
    `Acknowledged ${ack.outcome.replace(/_/g, " ")} by ${ack.by}, ${formatTime(ack.at)}${note}`);
}

function ackForm(alert) {
  const outcome = el("select", { name: "outcome", "aria-label": "Outcome" });
  for (const [value, label] of OUTCOMES) outcome.append(el("option", { value }, label));
  const note = el("input", { name: "note", type: "text", placeholder: "note (optional)",
    "aria-label": "Note", maxlength: "2000" });
  const error = el("span", { class: "field-error", role: "alert" });
  const form = el("form", { class: "ack" }, outcome, note,
    el("button", { type: "submit" }, "Acknowledge"), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const body = { outcome: outcome.value };
    if (note.value.trim()) body.note = note.value.trim();
    try {
      const updated = await call("POST", `/api/alerts/${encodeURIComponent(alert.id)}/ack`, [], body);
      if (updated && updated.id) upsertAlert(updated, { live: false });
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  return form;
}

function alertCard(alert) {
  const card = el("article", { class: `card alert alert-${alert.priority}`, "data-alert-id": alert.id });
  const plural = alert.count === 1 ? "report" : "reports";
  card.append(
    el("div", { class: "meta" },
      el("span", { class: `priority priority-${alert.priority}` }, alert.priority),
      el("strong", { class: "watched" }, watchedLabel(alert.target, alert.search)),
      alert.restricted ? el("span", { class: "restricted-flag" }, "restricted") : null,
      el("span", { class: "count" }, `${alert.count} ${plural}`),
      el("span", {}, `first seen ${formatTime(alert.first_seen)}`),
      el("span", {}, `last seen ${formatTime(alert.last_seen)}`)),
    matchedNode(alert),
    el("div", { class: "links" },
      el("button", { type: "button", class: "open-report", onclick: () => openReport(alert.report_id) },
        `Open report (${alert.source.replace(/_/g, " ")})`),
      el("button", { type: "button", class: "open-cluster", onclick: () => openCluster(alert.report_id) },
        "Open cluster"),
      el("button", { type: "button", class: "open-entry", onclick: () => showEntry(alert.entry_id) },
        "Open watch entry")),
    alert.acknowledged ? acknowledgedNode(alert.acknowledged) : ackForm(alert),
  );
  return card;
}

// The report view, scrolled to its cluster (until the workbench has a cluster view of its own).
async function openCluster(reportId) {
  await openReport(reportId);
  const section = document.querySelector('#detail section[data-list="Same cluster"]');
  if (section) section.scrollIntoView({ block: "start" });
}

function newestFirst(a, b) {
  return String(b.last_seen).localeCompare(String(a.last_seen)) || a.id.localeCompare(b.id);
}

function renderAlertCounts() {
  const open = [...alerts.byId.values()].filter((a) => !a.acknowledged).length;
  const badge = $("alerts-badge");
  badge.textContent = String(open);
  badge.hidden = open === 0;
  if (!alerts.byId.size) $("alerts-status").textContent = "No alerts yet.";
}

// Put an alert in its place (newest first), replacing its earlier card if it had one.
function upsertAlert(alert, { live }) {
  const before = alerts.byId.get(alert.id);
  alerts.byId.set(alert.id, alert);
  const list = $("alerts");
  const old = list.querySelector(`article[data-alert-id="${CSS.escape(alert.id)}"]`);
  const card = alertCard(alert);
  if (old) old.remove();
  const next = [...list.children].find((node) => {
    const other = alerts.byId.get(node.dataset.alertId);
    return other && newestFirst(alert, other) < 0;
  });
  list.insertBefore(card, next || null);
  renderAlertCounts();
  if (live) {
    const what = watchedLabel(alert.target, alert.search);
    $("alerts-status").textContent = before
      ? `Alert updated: ${what}, ${alert.count} reports`
      : `New ${alert.priority} alert: ${what}`;
    if (!before || (old && old.classList.contains("fresh"))) card.classList.add("fresh");
  }
}

// A page of earlier alerts (the stream brings the new ones), with a button for the next.
async function loadAlerts(cursor) {
  const old = $("alerts-more");
  if (old) old.remove();
  try {
    const params = [["size", "100"]];
    if (cursor) params.push(["cursor", cursor]);
    const page = await call("GET", "/api/alerts", params);
    for (const alert of page.alerts || []) upsertAlert(alert, { live: false });
    renderAlertCounts();
    if (page.next_cursor) {
      $("view-alerts").append(el("button", { type: "button", id: "alerts-more",
        onclick: () => loadAlerts(page.next_cursor) }, "Earlier alerts"));
    }
  } catch (error) {
    $("alerts-status").textContent = error.message;
  }
}

document.addEventListener("signed-in", async () => {
  setStreamState("Alerts: connecting");
  await loadAlerts();
  keepAlertStream();
});
