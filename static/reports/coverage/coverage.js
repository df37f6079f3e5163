// Coverage page: draws the figures embedded in the page (tables and an SVG chart), then
// fetches them again every `refresh_seconds`. Every label comes translated from the server.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const STATES = ["present", "absent", "removed", "nobody"];

  function element(name, attributes, text) {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svgElement(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function link(url, text) {
    return url ? element("a", { href: url }, text) : document.createTextNode(text);
  }

  function share(count, whole) {
    if (!whole) return String(count);
    return `${count} (${Math.round((100 * count) / whole)} %)`;
  }

  function row(cells, attributes) {
    const tr = element("tr", attributes);
    for (const cell of cells) {
      const td = element("td");
      td.append(cell instanceof Node ? cell : document.createTextNode(String(cell)));
      tr.append(td);
    }
    return tr;
  }

  function areaCells(name, figures, checkpoints) {
    const n = figures.stations;
    return [
      name, n, share(figures.assigned, n), share(figures.present, n), share(figures.opening, n),
      ...checkpoints.map((code) => share(figures.turnout[code] || 0, n)),
      share(figures.protocol, n), figures.nobody, figures.removed, figures.silent,
    ];
  }

  // One horizontal bar per area: checked in, no observer, removed, nobody assigned.
  function drawAreas(container, areas) {
    const rowHeight = 24, left = 170, width = 720;
    const height = Math.max(rowHeight, areas.length * rowHeight);
    const maximum = Math.max(1, ...areas.map((area) => area.figures.stations));
    const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}` });
    areas.forEach((area, index) => {
      const y = index * rowHeight;
      svg.append(svgElement("text", { x: 0, y: y + 16 }, area.name.slice(0, 24)));
      let x = left;
      for (const state of STATES) {
        const count = area.figures[state];
        if (!count) continue;
        const w = ((width - left - 50) * count) / maximum;
        const bar = svgElement("rect", { x, y: y + 4, width: w, height: rowHeight - 8, class: `state-${state}` });
        bar.append(svgElement("title", {}, `${area.name}: ${count}`));
        svg.append(bar);
        x += w;
      }
      svg.append(svgElement("text", { x: x + 4, y: y + 16 }, String(area.figures.stations)));
    });
    container.replaceChildren(svg);
  }

  function stationRow(station, strings) {
    const state = element("span", { class: `state-${station.state}` }, station.state_label);
    const stateCell = element("span");
    stateCell.append(state);
    if (station.silent) stateCell.append(element("strong", { class: "silent" }, ` · ${strings.silent}`));
    return row([
      station.number, station.tik, stateCell, `${station.present} / ${station.assigned}`,
      station.checked_in, station.last_message, station.opening ? strings.yes : "",
      station.checkpoints.join(", "), station.protocol ? strings.yes : "",
    ], { "data-station": station.number, "data-state": station.state });
  }

  function fill(container, items, render, empty) {
    container.replaceChildren(...items.map(render));
    if (!items.length && empty) container.append(empty());
  }

  function render(root, figures) {
    const strings = root.dataset;
    for (const [name, value] of Object.entries({ computed_at: figures.computed_at, generated_at: figures.generated_at, stations_total: figures.stations_total, needed_total: figures.needed_total })) {
      const field = root.querySelector(`[data-field=${name}]`);
      if (field) field.textContent = value;
    }
    for (const node of root.querySelectorAll("[data-total]")) {
      node.textContent = figures.total[node.dataset.total];
    }
    const emptyRow = (columns, text) => () => {
      const tr = element("tr");
      tr.append(element("td", { colspan: columns }, text));
      return tr;
    };
    const areaColumns = 9 + figures.checkpoints.length;
    fill(root.querySelector("[data-table=areas]"), figures.areas,
      (area) => row(areaCells(link(area.url, area.name), area.figures, figures.checkpoints)),
      emptyRow(areaColumns, strings.empty));
    root.querySelector("[data-table=total]").replaceChildren(
      row(areaCells("Σ", figures.total, figures.checkpoints), { class: "total" }));
    drawAreas(root.querySelector("[data-chart=areas]"), figures.areas);
    fill(root.querySelector("[data-table=stations]"), figures.stations,
      (station) => stationRow(station, strings), emptyRow(9, strings.empty));
    root.querySelector("[data-list=nobody]").textContent = figures.nobody.join(", ") || "—";
    fill(root.querySelector("[data-list=needed]"), figures.needed, (incident) => {
      const li = element("li", { class: `severity-${incident.severity}` });
      li.append(link(incident.url, `#${incident.incident}`),
        ` · ${incident.station} · ${incident.category} ${incident.category_name} · ${incident.since}`);
      return li;
    }, () => element("li", {}, strings.noneNeeded));
    const neededMore = root.querySelector("[data-needed-more]");
    const moreCount = figures.needed_total - figures.needed.length;
    neededMore.hidden = moreCount <= 0;
    const moreLink = neededMore.querySelector("a");
    moreLink.textContent = moreLink.dataset.moreTemplate.replace("{count}", moreCount);
    fill(root.querySelector("[data-table=groups]"), figures.groups, (group) => row([
      group.name, group.okrug, group.car,
      element("span", { class: `group-${group.status}` }, group.status_label),
      group.station === null ? "—" : group.station,
      group.incident === null ? "—" : link(group.incident_url, `#${group.incident}`), group.since,
    ], { "data-group": group.name }), emptyRow(7, strings.noGroups));
  }

  function start() {
    const root = document.getElementById("coverage");
    const embedded = document.getElementById("coverage-figures");
    if (!root || !embedded) return;
    const figures = JSON.parse(embedded.textContent);
    render(root, figures);
    const stale = root.querySelector("[data-stale]");
    const refresh = async () => {
      try {
        const response = await fetch(root.dataset.source, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) throw new Error(String(response.status));
        render(root, await response.json());
        stale.hidden = true;
      } catch (error) {
        stale.hidden = false;
      }
    };
    setInterval(refresh, Math.max(1, figures.refresh_seconds) * 1000);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
