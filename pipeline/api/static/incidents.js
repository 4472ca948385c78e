// Incidents (pipeline/enrich/incidents): reports that tell the same event in different words.
// The Incidents view lists the current search folded by incident; an incident's detail shows its
// reports on a timeline, its sources, regions and merged entities, and lets an analyst correct
// it (merge into another incident, undo); a report's detail links its incident, lists "more like
// this" and moves it out of its incident. Corrections are applied by a worker within seconds.
// Like app.js, every node is built with createElement and text nodes, never innerHTML.
"use strict";

const INCIDENT_PAGE = 20;
const incidentsState = { seq: 0 };

function reportsWord(n) {
  return `${n} report${n === 1 ? "" : "s"}`;
}

// The current search's words and filters, one result per incident, newest first.
async function loadIncidents() {
  const seq = ++incidentsState.seq;
  const list = $("incident-list");
  const status = $("incidents-status");
  list.replaceChildren();
  status.textContent = "Loading incidents…";
  const body = { ...searchBody(null), fold: "incident", collapse: true, sort: "newest",
    mode: "keyword", size: INCIDENT_PAGE };
  try {
    const page = await call("POST", "/api/search", [], body);
    if (seq !== incidentsState.seq) return;
    status.textContent = `${page.clusters || 0} incidents among ${reportsWord(page.total)}`
      + (page.clusters > page.results.length ? ` (the newest ${page.results.length} shown)` : "");
    for (const report of page.results) {
      if (!report.incident_id) continue;
      const size = (report.similar || 0) + 1;
      list.append(el("li", { class: "incident-row" },
        el("button", { type: "button", class: "incident-open",
          onclick: () => openIncidentView(report.incident_id) },
        `Incident of ${reportsWord(size)} matching, latest ${formatTime(report.timestamp)}`
          + (report.region ? ` · ${report.region}` : "")),
        reportCard(report, { compact: true })));
    }
  } catch (error) {
    if (seq === incidentsState.seq) status.textContent = error.message;
  }
}

function seenText(seen) {
  const span = seen.first_seen === seen.last_seen ? formatTime(seen.first_seen)
    : `${formatTime(seen.first_seen)} to ${formatTime(seen.last_seen)}`;
  return ` ×${seen.count} (${span})`;
}

function incidentEntities(entities) {
  const list = el("dl", { class: "incident-entities", id: "incident-entities" });
  for (const [type, seen] of Object.entries(entities || {})) {
    const values = el("dd", {});
    seen.forEach((item, index) => {
      if (index) values.append("; ");
      values.append(entityLink(type, item.value, item.value), seenText(item));
    });
    list.append(el("dt", {}, type), values);
  }
  return list;
}

function correctionNote(correction) {
  return `${correction.kind} ${correction.status}: ${correction.why}`
    + (correction.outcome ? ` (${correction.outcome})` : "");
}

async function postCorrection(path, body, done) {
  try {
    const correction = await call("POST", path, [], body);
    done.textContent = `${correction.kind} recorded (${correction.status}): a worker applies it`
      + " within seconds; open the incident again to see it.";
  } catch (error) {
    done.textContent = error.message;
  }
}

function mergeForm(incidentId) {
  const done = el("p", { class: "status", role: "status", id: "merge-status" });
  const input = el("input", { type: "text", id: "merge-into", required: "",
    "aria-label": "Incident to merge this one into", placeholder: "incident id" });
  const form = el("form", { class: "merge-form", id: "merge-form" },
    el("label", { for: "merge-into" }, "Merge into incident "), input,
    el("button", { type: "submit" }, "Merge"), done);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const into = input.value.trim();
    if (into) postCorrection(`/api/incidents/${encodeURIComponent(incidentId)}/merge`, { into }, done);
  });
  return form;
}

async function correctionsSection(incidentId) {
  const section = el("section", { id: "incident-corrections" }, el("h3", {}, "Corrections"));
  try {
    const found = await call("GET", "/api/incident-corrections", [["incident", incidentId]]);
    if (!found.length) section.append(el("p", { class: "note" }, "None."));
    for (const correction of found) {
      const done = el("span", { class: "status", role: "status" });
      const row = el("p", {}, `${formatTime(correction.at)} · ${correction.by} · `,
        correctionNote(correction));
      if (correction.status === "applied" && correction.kind !== "undo") {
        row.append(" ", el("button", { type: "button", class: "undo",
          onclick: () => postCorrection(
            `/api/incident-corrections/${encodeURIComponent(correction.id)}/undo`, {}, done) },
        "Undo"), done);
      }
      section.append(row);
    }
  } catch (error) {
    section.append(el("p", { class: "status" }, error.message));
  }
  return section;
}

// One incident: its reports oldest first on a timeline, sources, regions, merged entities.
async function openIncidentView(incidentId) {
  try {
    const view = await call("GET", `/api/incidents/${encodeURIComponent(incidentId)}`);
    const sources = view.sources.map((b) => `${b.value.replace(/_/g, " ")} ${b.count}`);
    const regions = view.regions.map((b) => `${b.value} ${b.count}`);
    const shown = view.total > view.reports.length ? ` (the first ${view.reports.length} shown)` : "";
    detailPanel(
      el("h2", {}, `Incident of ${reportsWord(view.total)}`),
      el("p", { class: "meta" }, el("span", {}, `first ${formatTime(view.first_seen)}`),
        el("span", {}, `latest ${formatTime(view.last_seen)}${shown}`),
        el("span", {}, `${view.clusters} cluster${view.clusters === 1 ? "" : "s"}`),
        el("span", { class: "incident-id" }, `id ${view.id}`)),
      el("p", {}, `sources: ${sources.join(", ") || "none"}`),
      el("p", {}, `regions: ${regions.join(", ") || "none recorded"}`),
      el("h3", {}, "Entities named"), incidentEntities(view.entities),
      el("h3", {}, "Timeline"),
      el("ol", { class: "timeline", id: "incident-timeline",
        "aria-label": "The incident's reports by time" }, ...timelineItems(view.reports, null)),
      mergeForm(view.id),
      await correctionsSection(view.id),
    );
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function openSimilar(reportId) {
  try {
    const view = await call("GET", `/api/reports/${encodeURIComponent(reportId)}/similar`);
    const section = el("section", { "data-list": "More like this" },
      el("h2", {}, `More like this (${view.results.length})`),
      el("p", { class: "note" }, "Reports told most like it, in any words, most alike first."));
    for (const report of view.results) {
      const card = reportCard(report, { compact: true });
      card.append(el("span", { class: "likeness" }, `likeness ${report.likeness}`));
      section.append(card);
    }
    detailPanel(section);
  } catch (error) {
    setStatus(error.message, true);
  }
}

// What a report's detail offers about incidents (openReport in app.js).
function incidentControls(report) {
  const done = el("span", { class: "status", role: "status", id: "move-status" });
  return el("div", { class: "incident-controls" },
    report.incident_id ? el("button", { type: "button", id: "open-incident-view",
      onclick: () => openIncidentView(report.incident_id) }, "Incident view") : null,
    el("button", { type: "button", id: "more-like-this", onclick: () => openSimilar(report.id) },
      "More like this"),
    report.incident_id ? el("button", { type: "button", id: "move-out",
      onclick: () => postCorrection(`/api/reports/${encodeURIComponent(report.id)}/move-out`, {},
        done) }, "Move out of its incident") : null,
    done);
}

document.addEventListener("DOMContentLoaded", () => {
  $("incidents-refresh").addEventListener("click", () => loadIncidents());
  const button = document.querySelector('#views button[data-view="incidents"]');
  button.addEventListener("click", () => loadIncidents());
});
