// The map: the 11 regional units as a schematic SVG the page draws itself (no tiles, nothing
// from the internet), each with its name and its count for the current search (the `region`
// facet), shaded by count but never by colour alone. Each unit is a button (Tab, Enter or
// Space): it adds or removes that unit as a filter of the search and shows the results.
// Like app.js, every node is built with createElement(NS), never innerHTML.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
// A tile per unit, roughly where it lies: [name, column, row, columns wide, rows high].
// The names are pipeline.enrich.regions.REGIONS (a test keeps them equal).
const MAP_UNITS = [
  ["Scotland", 1, 0, 2, 1],
  ["Northern Ireland", 0, 1, 1, 1],
  ["North West", 1, 1, 1, 1],
  ["North East", 2, 1, 1, 1],
  ["Wales", 0, 2, 1, 1],
  ["West Midlands", 1, 2, 1, 1],
  ["East Midlands", 2, 2, 1, 1],
  ["Eastern", 3, 2, 1, 2],
  ["South West", 0, 3, 2, 1],
  ["London", 2, 3, 1, 1],
  ["South East", 2, 4, 2, 1],
];
const TILE = { w: 132, h: 72, gap: 8 };
// Light to mid blue: dark text stays above 7:1 on every shade (WCAG AA needs 4.5:1).
const SHADES = ["#f4f7fb", "#dde8f5", "#c3d7ee", "#a9c5e6"];

const mapState = { seq: 0 };

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function shade(count, most) {
  if (!count) return SHADES[0];
  return SHADES[Math.min(SHADES.length - 1, 1 + Math.floor((count / most) * (SHADES.length - 1.01)))];
}

function regionFiltered(region) {
  return state.filters.some((f) => f.param === "region" && f.value === region);
}

function toggleRegion(region) {
  const at = state.filters.findIndex((f) => f.param === "region" && f.value === region);
  if (at >= 0) state.filters.splice(at, 1);
  else state.filters.push({ param: "region", value: region, label: `region: ${region}` });
  showView("search");
  runSearch();
}

function mapUnit(name, col, row, wide, high, count, most) {
  const x = col * (TILE.w + TILE.gap), y = row * (TILE.h + TILE.gap);
  const w = wide * TILE.w + (wide - 1) * TILE.gap, h = high * TILE.h + (high - 1) * TILE.gap;
  const chosen = regionFiltered(name);
  const reports = `${count} report${count === 1 ? "" : "s"}`;
  // the name and the count in one <text>, so what is read out starts with what is shown
  const unit = svg("g", { class: "map-unit", role: "button", tabindex: "0", "data-region": name,
    "aria-pressed": String(chosen), "aria-label": `${name} ${reports}` },
  svg("rect", { x, y, width: w, height: h, rx: 8, fill: shade(count, most),
    class: chosen ? "chosen" : "" }),
  svg("text", { x: x + w / 2, y: y + h / 2 - 6, "text-anchor": "middle" },
    svg("tspan", { class: "unit-name" }, name),
    svg("tspan", { class: "unit-count", x: x + w / 2, dy: 22 }, ` ${count}`)));
  unit.addEventListener("click", () => toggleRegion(name));
  unit.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    toggleRegion(name);
  });
  return unit;
}

// The current search (its words, sources, entities, dates) without its region filters, so every
// unit shows what it would add; units already filtered on are marked.
function mapSearchBody() {
  const body = searchBody(null);
  body.region = [];
  body.collapse = false;
  body.mode = "keyword"; // counts are facets, which a semantic page does not have
  body.size = 1;
  return body;
}

async function loadMap() {
  const seq = ++mapState.seq;
  const status = $("map-status");
  status.textContent = "Counting…";
  try {
    const page = await call("POST", "/api/search", [], mapSearchBody());
    if (seq !== mapState.seq) return;
    const counts = new Map((page.facets.region || []).map((b) => [b.value, b.count]));
    const most = Math.max(1, ...counts.values());
    const cols = 4, rows = 5;
    const width = cols * TILE.w + (cols - 1) * TILE.gap, height = rows * TILE.h + (rows - 1) * TILE.gap;
    const q = $("q").value.trim();
    const title = q ? `Reports matching "${q}" by regional unit` : "All reports by regional unit";
    const edge = 6; // room for the thickest border (a chosen or focused tile)
    const drawing = svg("svg", { id: "region-map",
      viewBox: `${-edge} ${-edge} ${width + 2 * edge} ${height + 2 * edge}`,
      role: "group", "aria-labelledby": "map-svg-title" },
    svg("title", { id: "map-svg-title" }, title),
    ...MAP_UNITS.map(([name, col, row, wide, high]) =>
      mapUnit(name, col, row, wide, high, counts.get(name) || 0, most)));
    $("map-drawing").replaceChildren(drawing);
    const placed = [...counts.values()].reduce((sum, n) => sum + n, 0);
    const unplaced = page.total - placed;
    status.textContent = `${title}: ${page.total} report${page.total === 1 ? "" : "s"}`
      + (unplaced > 0 ? `, ${unplaced} with no regional unit` : "");
  } catch (error) {
    if (seq === mapState.seq) status.textContent = error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("map-refresh").addEventListener("click", loadMap);
  document.querySelector("#views button[data-view=map]").addEventListener("click", loadMap);
});
