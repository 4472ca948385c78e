// The Watchlist panel: the caller's entries (/api/watch), an add form, priority and expiry
// changes, deletion. A refused entry (422) shows each error next to the field it names.
"use strict";

// The API's own lists (pipeline.enrich.watch.entries, pipeline.ingest.sources.Source,
// pipeline.enrich.regions.REGIONS); a test keeps these equal to them.
const WATCH_TYPES = ["phone", "vehicle", "handle", "url", "email", "postcode", "person", "org"];
const WATCH_SOURCES = ["public_report", "hotline_call", "online_referral", "radicalisation_referral"];
const WATCH_REGIONS = ["London", "North East", "North West", "South East", "West Midlands",
  "Eastern", "East Midlands", "Northern Ireland", "Scotland", "South West", "Wales"];
const WATCH_PRIORITIES = ["low", "normal", "high"];

// Which form field an error's `loc` names: its last part that is one of these.
const WATCH_FIELDS = {
  type: "watch-type", value: "watch-value", target: "watch-value",
  q: "watch-q", search: "watch-q", sources: "watch-sources", regions: "watch-regions",
  justification: "watch-justification", priority: "watch-priority", expiry: "watch-expiry",
  restricted: "watch-restricted",
};

const watch = { entries: new Map(), loaded: null };

function watchKind() {
  return document.querySelector('input[name="watch-kind"]:checked').value;
}

function fillOptions(select, values) {
  select.replaceChildren(...values.map((value) => el("option", { value }, value.replace(/_/g, " "))));
}

// ---- errors next to the fields ---------------------------------------------------------

function fieldError(inputId) {
  const input = $(inputId);
  let node = $(`${inputId}-error`);
  if (!node) {
    node = el("span", { class: "field-error", id: `${inputId}-error`, role: "alert" });
    input.closest("label").append(node);
    input.setAttribute("aria-describedby", node.id);
  }
  return node;
}

function clearWatchErrors() {
  for (const inputId of new Set(Object.values(WATCH_FIELDS))) {
    fieldError(inputId).textContent = "";
    $(inputId).removeAttribute("aria-invalid");
  }
  $("watch-form-error").textContent = "";
}

function showWatchErrors(error) {
  const detail = error.detail;
  if (error.status !== 422 || !Array.isArray(detail)) {
    $("watch-form-error").textContent = error.message;
    return;
  }
  for (const item of detail) {
    const loc = (item.loc || []).map(String);
    const field = [...loc].reverse().find((part) => part in WATCH_FIELDS);
    if (!field) {
      $("watch-form-error").textContent = item.msg;
      continue;
    }
    const inputId = WATCH_FIELDS[field];
    const node = fieldError(inputId);
    node.textContent = node.textContent ? `${node.textContent}; ${item.msg}` : item.msg;
    $(inputId).setAttribute("aria-invalid", "true");
  }
}

// ---- the add form ----------------------------------------------------------------------

function endOfDay(date) {
  return date ? `${date}T23:59:59Z` : null;
}

function selected(select) {
  return [...select.selectedOptions].map((option) => option.value);
}

function watchBody() {
  const body = { justification: $("watch-justification").value, priority: $("watch-priority").value };
  if (watchKind() === "search") {
    body.search = { q: $("watch-q").value, sources: selected($("watch-sources")),
      regions: selected($("watch-regions")) };
  } else {
    body.target = { type: $("watch-type").value, value: $("watch-value").value };
  }
  const expiry = endOfDay($("watch-expiry").value);
  if (expiry) body.expiry = expiry;
  if (state.role === "restricted" && $("watch-restricted").checked) body.restricted = true;
  return body;
}

async function addEntry(event) {
  event.preventDefault();
  clearWatchErrors();
  try {
    const entry = await call("POST", "/api/watch", [], watchBody());
    $("watch-value").value = "";
    $("watch-q").value = "";
    $("watch-status").textContent = `Watching ${watchedLabel(entry.target, entry.search)}`;
    watch.entries.set(entry.id, entry);
    renderEntries();
  } catch (error) {
    showWatchErrors(error);
  }
}

// ---- the entries -----------------------------------------------------------------------

function dateValue(iso) {
  return iso ? String(iso).slice(0, 10) : "";
}

function entryCard(entry) {
  const card = el("article", { class: `card entry entry-${entry.priority}`, "data-entry-id": entry.id,
    tabindex: "-1" });
  const priority = el("select", { class: "entry-priority", "aria-label": "Priority" });
  fillOptions(priority, WATCH_PRIORITIES);
  priority.value = entry.priority;
  const expiry = el("input", { class: "entry-expiry", type: "date", "aria-label": "Expires",
    value: dateValue(entry.expiry) });
  const error = el("span", { class: "field-error", role: "alert" });
  const save = el("button", { type: "button", class: "entry-save" }, "Save");
  save.addEventListener("click", () => changeEntry(entry, priority.value, expiry.value, error));
  const remove = el("button", { type: "button", class: "entry-delete" }, "Delete");
  remove.addEventListener("click", () => deleteEntry(entry, remove, error));
  card.append(
    el("div", { class: "meta" },
      el("span", { class: `priority priority-${entry.priority}` }, entry.priority),
      el("strong", { class: "watched" }, watchedLabel(entry.target, entry.search)),
      entry.restricted ? el("span", { class: "restricted-flag" }, "restricted") : null,
      el("span", {}, entry.live ? `expires ${formatTime(entry.expiry)}` : "expired"),
      el("span", {}, `created ${formatTime(entry.created)}`)),
    el("p", { class: "justification" }, entry.justification),
    el("div", { class: "entry-controls" }, priority, expiry, save, remove, error),
  );
  return card;
}

function renderEntries() {
  const list = $("watch-entries");
  const entries = [...watch.entries.values()].sort((a, b) =>
    String(b.created).localeCompare(String(a.created)) || a.id.localeCompare(b.id));
  list.replaceChildren(...entries.map(entryCard));
  if (!entries.length) list.append(el("p", { class: "status" }, "Nothing watched yet."));
}

async function changeEntry(entry, priority, expiryDate, error) {
  error.textContent = "";
  const body = {};
  if (priority !== entry.priority) body.priority = priority;
  if (expiryDate && expiryDate !== dateValue(entry.expiry)) body.expiry = endOfDay(expiryDate);
  if (!Object.keys(body).length) return;
  try {
    const updated = await call("PATCH", `/api/watch/${encodeURIComponent(entry.id)}`, [], body);
    watch.entries.set(updated.id, updated);
    renderEntries();
    $("watch-status").textContent = `Changed ${watchedLabel(updated.target, updated.search)}`;
  } catch (failure) {
    error.textContent = failure.message;
  }
}

// Two clicks: the first asks, the second deletes (no window.confirm, which blocks the page).
async function deleteEntry(entry, button, error) {
  if (!button.classList.contains("confirm")) {
    button.classList.add("confirm");
    button.textContent = "Really delete?";
    setTimeout(() => { button.classList.remove("confirm"); button.textContent = "Delete"; }, 5000);
    return;
  }
  try {
    await call("DELETE", `/api/watch/${encodeURIComponent(entry.id)}`);
    watch.entries.delete(entry.id);
    renderEntries();
    $("watch-status").textContent = `No longer watching ${watchedLabel(entry.target, entry.search)}`;
  } catch (failure) {
    error.textContent = failure.message;
  }
}

async function loadEntries() {
  try {
    const page = await call("GET", "/api/watch");
    watch.entries = new Map((page.entries || []).map((entry) => [entry.id, entry]));
    renderEntries();
  } catch (error) {
    $("watch-status").textContent = error.message;
  }
}

// The entry an alert came from, shown in the watchlist.
async function showEntry(entryId) {
  showView("watchlist");
  await watch.loaded;
  const card = document.querySelector(`#watch-entries article[data-entry-id="${CSS.escape(entryId)}"]`);
  if (!card) {
    $("watch-status").textContent = "That entry is no longer on your watchlist.";
    return;
  }
  card.classList.add("flash");
  card.scrollIntoView({ block: "center" });
  card.focus();
}

function showWatchKind() {
  const search = watchKind() === "search";
  document.querySelector("#watch-form .watch-target").hidden = search;
  document.querySelector("#watch-form .watch-search").hidden = !search;
}

document.addEventListener("DOMContentLoaded", () => {
  fillOptions($("watch-type"), WATCH_TYPES);
  fillOptions($("watch-sources"), WATCH_SOURCES);
  fillOptions($("watch-regions"), WATCH_REGIONS);
  for (const radio of document.querySelectorAll('input[name="watch-kind"]')) {
    radio.addEventListener("change", showWatchKind);
  }
  $("watch-form").addEventListener("submit", addEntry);
});

document.addEventListener("signed-in", (event) => {
  // Only the restricted role may watch reporters', callers' and subjects' own details.
  $("watch-restricted-label").hidden = event.detail.role !== "restricted";
  $("watch-justification").value = state.why;
  watch.loaded = loadEntries();
});
