// The workbench: entities marked in a report's text (each a link to its entity view), the
// cluster view with its timeline, a queue per regional unit, export of the current search, and
// the keyboard (Escape closes the detail, Back returns to the view it replaced).
// Like app.js, every node is built with createElement and text nodes, never innerHTML.
"use strict";

// The 11 regional units (pipeline.enrich.regions.REGIONS); a test keeps this equal to it.
const QUEUE_REGIONS = ["London", "North East", "North West", "South East", "West Midlands",
  "Eastern", "East Midlands", "Northern Ireland", "Scotland", "South West", "Wales"];
const EXPORT_PAGE = 1000; // /api/export's limit per request
const EXPORT_MAX = 10000; // reports in one download, at most
const QUEUE_PAGE = 20;
const CLUSTER_PAGE = 100;

const bench = { queue: null, queueSeq: 0 };

// ---- a report's text with its entities marked --------------------------------------------

function entityLink(type, value, surface) {
  return el("a", { class: `entity entity-${type}`, href: `#entity/${type}/${encodeURIComponent(value)}`,
    title: `${type} ${value}: open its entity view`, "data-type": type, "data-value": value,
    onclick: (event) => { event.preventDefault(); openEntity(type, value); } }, surface);
}

// `entity_mentions` offsets count code points (Python string indices), so the text is cut by
// code point, not by UTF-16 unit. A mention that overlaps an earlier one, or whose offsets do
// not fit the text, is left unmarked (its chip below the text still opens it).
function markedText(text, mentions, attrs) {
  const chars = Array.from(text || "");
  const node = el("pre", attrs);
  const sorted = [...(mentions || [])].sort((a, b) => a.start - b.start || b.end - a.end);
  let at = 0;
  for (const mention of sorted) {
    if (mention.start < at || mention.end <= mention.start || mention.end > chars.length) continue;
    const surface = chars.slice(mention.start, mention.end).join("");
    if (mention.text && surface !== mention.text) continue;
    if (mention.start > at) node.append(chars.slice(at, mention.start).join(""));
    node.append(entityLink(mention.type, mention.value, surface));
    at = mention.end;
  }
  if (at < chars.length) node.append(chars.slice(at).join(""));
  return node;
}

// ---- the cluster view ----------------------------------------------------------------------

function gapText(fromValue, toValue) {
  const minutes = Math.round((new Date(toValue) - new Date(fromValue)) / 60000);
  if (!(minutes > 0)) return "same time";
  if (minutes < 120) return `+${minutes} min`;
  if (minutes < 72 * 60) return `+${Math.round(minutes / 60)} h`;
  return `+${Math.round(minutes / 1440)} days`;
}

function timelineItems(reports, previous) {
  const items = [];
  let before = previous;
  for (const report of reports) {
    items.push(el("li", { class: "tick" },
      el("div", { class: "when" },
        el("time", { datetime: report.timestamp || "" }, formatTime(report.timestamp)),
        before ? el("span", { class: "gap" }, gapText(before.timestamp, report.timestamp)) : null),
      reportCard(report, { compact: true })));
    before = report;
  }
  return items;
}

function clusterBody(clusterId, cursor) {
  const body = { q: "", cluster: [clusterId], sort: "oldest", collapse: false, size: CLUSTER_PAGE };
  if (cursor) body.cursor = cursor;
  return body;
}

// A cluster's reports on a timeline, oldest first (the report that started it leads).
async function openClusterView(clusterId) {
  try {
    const page = await call("POST", "/api/search", [], clusterBody(clusterId));
    const reports = page.results;
    const first = reports[0];
    const sources = (page.facets.source || []).map((b) => `${b.value.replace(/_/g, " ")} ${b.count}`);
    const regions = (page.facets.region || []).map((b) => `${b.value} ${b.count}`);
    const timeline = el("ol", { class: "timeline", id: "cluster-timeline",
      "aria-label": "The cluster's reports by time" }, ...timelineItems(reports, null));
    const shown = page.next_cursor ? ` (the first ${reports.length} shown)` : "";
    const parts = [
      el("h2", {}, `Cluster of ${page.total} report${page.total === 1 ? "" : "s"}`),
      el("p", { class: "meta" }, el("span", {}, `first ${formatTime(first && first.timestamp)}`),
        el("span", {}, `latest ${formatTime(reports.length
          ? reports[reports.length - 1].timestamp : null)}${shown}`)),
      el("p", {}, `sources: ${sources.join(", ") || "none"}`),
      el("p", {}, `regions: ${regions.join(", ") || "none recorded"}`),
      timeline,
    ];
    let cursor = page.next_cursor;
    let latest = reports[reports.length - 1];
    if (cursor) {
      const more = el("button", { type: "button", class: "more-cluster", onclick: async () => {
        try {
          const next = await call("POST", "/api/search", [], clusterBody(clusterId, cursor));
          timeline.append(...timelineItems(next.results, latest));
          latest = next.results[next.results.length - 1] || latest;
          cursor = next.next_cursor;
          if (!cursor) more.remove();
        } catch (error) {
          setStatus(error.message, true);
        }
      } }, "Later reports");
      parts.push(more);
    }
    detailPanel(...parts);
  } catch (error) {
    setStatus(error.message, true);
  }
}

// ---- the queues: one per regional unit, highest priority first, newest among equals ---------

// `priority` is derived at enrich time (pipeline/enrich/priority.py); the API sorts on it.
function queueSearch(region, cursor) {
  const body = { q: "", region: [region], sort: "priority", collapse: false, size: QUEUE_PAGE };
  if (cursor) body.cursor = cursor;
  return body;
}

async function loadQueueCounts() {
  const list = $("queue-units");
  try {
    const page = await call("POST", "/api/search", [], { q: "", collapse: false, size: 1, sort: "newest" });
    const counts = new Map((page.facets.region || []).map((b) => [b.value, b.count]));
    list.replaceChildren(...QUEUE_REGIONS.map((region) => el("li", {},
      el("button", { type: "button", class: "queue-unit", "data-region": region,
        "aria-label": `${region} ${counts.get(region) || 0} reports`,
        "aria-pressed": String(bench.queue === region), onclick: () => openQueue(region) },
      el("span", { class: "unit-name" }, region), " ",
      el("span", { class: "unit-count" }, String(counts.get(region) || 0))))));
    const placed = [...counts.values()].reduce((sum, n) => sum + n, 0);
    $("queue-unplaced").textContent = page.total > placed
      ? `${page.total - placed} report${page.total - placed === 1 ? "" : "s"} with no regional unit` : "";
  } catch (error) {
    $("queue-status").textContent = error.message;
  }
}

async function openQueue(region, cursor) {
  const box = $("queue-list");
  if (!cursor) {
    bench.queue = region;
    bench.queueSeq += 1;
    box.replaceChildren();
    for (const button of document.querySelectorAll("#queue-units button")) {
      button.setAttribute("aria-pressed", String(button.dataset.region === region));
    }
  }
  const seq = bench.queueSeq;
  const old = $("queue-more");
  if (old) old.remove();
  $("queue-status").textContent = `Loading the ${region} queue…`;
  try {
    const page = await call("POST", "/api/search", [], queueSearch(region, cursor));
    if (seq !== bench.queueSeq) return;
    if (!cursor) {
      box.append(el("h3", { id: "queue-title", tabindex: "-1" },
        `${region}: highest priority first, then newest`));
    }
    for (const report of page.results) box.append(reportCard(report, { compact: true }));
    $("queue-status").textContent = `${region}: ${page.total} report${page.total === 1 ? "" : "s"}`;
    if (page.next_cursor) {
      box.append(el("button", { type: "button", id: "queue-more",
        onclick: () => openQueue(region, page.next_cursor) }, "More of this queue"));
    }
    if (!cursor) $("queue-title").focus();
  } catch (error) {
    if (seq === bench.queueSeq) $("queue-status").textContent = error.message;
  }
}

// ---- export of the current search ------------------------------------------------------------

// The current search as /api/export's query parameters (uncollapsed: every matching report).
function exportParams(body) {
  const params = [["q", body.q], ["sort", body.sort], ["limit", String(EXPORT_PAGE)]];
  for (const name of ["source", "region", "entity"]) {
    for (const value of body[name]) params.push([name, value]);
  }
  return params;
}

async function exportPage(params) {
  const { url, headers } = apiRequest("/api/export", params, null, "application/x-ndjson");
  const response = await fetch(url, { headers });
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) signOut("The API no longer accepts this key: sign in again.");
    throw new ApiError(response.status, data.detail);
  }
  return { text: await response.text(), next: response.headers.get("X-Next-Cursor") };
}

// Each page of the export is audited as `export`; the file is built here and saved locally.
async function exportResults() {
  const status = $("export-status");
  const params = exportParams(searchBody(null));
  const chunks = [];
  let count = 0;
  status.textContent = "Exporting…";
  try {
    let cursor = null;
    do {
      const page = await exportPage(cursor ? [...params, ["cursor", cursor]] : params);
      chunks.push(page.text);
      count += page.text.split("\n").filter((line) => line).length;
      cursor = page.next;
    } while (cursor && count < EXPORT_MAX);
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
    const link = el("a", { href: URL.createObjectURL(new Blob(chunks, { type: "application/x-ndjson" })),
      download: `reports-${stamp}.ndjson` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    const capped = cursor ? ` (the first ${EXPORT_MAX}: narrow the search for the rest)` : "";
    status.textContent = `Exported ${count} report${count === 1 ? "" : "s"} as NDJSON${capped}`;
  } catch (error) {
    status.textContent = `Export failed: ${error.message}`;
  }
}

// ---- keyboard ----------------------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || $("detail").hidden) return;
  event.preventDefault();
  closeDetail();
});

document.addEventListener("DOMContentLoaded", () => {
  $("export").addEventListener("click", exportResults);
  $("queues-refresh").addEventListener("click", loadQueueCounts);
  document.querySelector("#views button[data-view=queues]").addEventListener("click", loadQueueCounts);
});
