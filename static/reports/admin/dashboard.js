// Headquarters dashboard: draws the figures embedded in the page as SVG and tables, then
// fetches them again every `refresh_seconds`. Every label comes translated from the server.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";

  function svgElement(name, attributes, text) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function htmlElement(name, attributes, text) {
    const element = document.createElement(name);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function link(url, text) {
    if (!url) return document.createTextNode(text);
    return htmlElement("a", { href: url }, text);
  }

  // Stacked columns: one per hour, one coloured segment per phase.
  function drawHours(container, hours, phases) {
    const width = 640, height = 240, left = 40, bottom = 24, top = 8;
    const totals = hours.map((h) => Object.values(h.counts).reduce((a, b) => a + b, 0));
    const maximum = Math.max(1, ...totals);
    const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}` });
    const plotHeight = height - bottom - top;
    const step = (width - left) / Math.max(1, hours.length);
    svg.append(svgElement("text", { x: 0, y: top + 10 }, String(maximum)));
    svg.append(svgElement("text", { x: 0, y: height - bottom }, "0"));
    hours.forEach((hour, index) => {
      let y = height - bottom;
      for (const phase of phases) {
        const count = hour.counts[phase.key] || 0;
        if (!count) continue;
        const h = (count / maximum) * plotHeight;
        y -= h;
        const bar = svgElement("rect", {
          x: left + index * step + 1, y, width: Math.max(1, step - 2), height: h,
          class: `phase-${phase.key}`,
        });
        bar.append(svgElement("title", {}, `${hour.label} ${phase.label}: ${count}`));
        svg.append(bar);
      }
      if (hours.length <= 24 || index % 2 === 0) {
        svg.append(svgElement("text", { x: left + index * step, y: height - 6 }, hour.label));
      }
    });
    container.replaceChildren(svg);
  }

  // Horizontal bars, largest first.
  function drawCategories(container, categories) {
    const row = 22, left = 40, width = 640;
    const height = Math.max(row, categories.length * row);
    const maximum = Math.max(1, ...categories.map((c) => c.count));
    const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}` });
    categories.forEach((category, index) => {
      const y = index * row;
      const barWidth = ((width - left - 60) * category.count) / maximum;
      svg.append(svgElement("text", { x: 0, y: y + 15 }, category.code));
      const bar = svgElement("rect", { x: left, y: y + 3, width: barWidth, height: row - 6, class: "bar" });
      bar.append(svgElement("title", {}, `${category.name}: ${category.count}`));
      svg.append(bar);
      svg.append(svgElement("text", { x: left + barWidth + 4, y: y + 15 }, String(category.count)));
    });
    container.replaceChildren(svg);
  }

  function fillList(list, items, render) {
    list.replaceChildren();
    for (const item of items) list.append(render(item));
    if (!items.length && list.dataset.empty) list.append(htmlElement("li", {}, list.dataset.empty));
  }

  function emptyRow(body, columns) {
    const row = htmlElement("tr");
    row.append(htmlElement("td", { colspan: columns }, body.dataset.empty));
    body.append(row);
  }

  function drawWaiting(body, incidents) {
    body.replaceChildren();
    for (const incident of incidents) {
      const row = htmlElement("tr");
      const number = htmlElement("td");
      number.append(link(incident.url, `#${incident.id}`));
      row.append(number);
      row.append(htmlElement("td", {}, String(incident.station)));
      row.append(htmlElement("td", { title: incident.category_name }, incident.category));
      row.append(htmlElement("td", { class: `severity-${incident.severity}` }, incident.severity));
      row.append(htmlElement("td", {}, String(incident.minutes)));
      row.append(htmlElement("td", {}, incident.holder || "—"));
      body.append(row);
    }
    if (!incidents.length) emptyRow(body, 6);
  }

  function heat(count, maximum) {
    return count ? `heat-${Math.min(4, 1 + Math.floor((4 * count) / (maximum + 1)))}` : "heat-0";
  }

  function drawOkrugCategory(table, figures) {
    table.replaceChildren();
    const { okrugs, categories, cells } = figures;
    if (!categories.length) {
      const body = htmlElement("tbody", { "data-empty": table.dataset.empty });
      emptyRow(body, 1);
      table.append(body);
      return;
    }
    const maximum = Math.max(1, ...okrugs.flatMap((o) => Object.values(cells[o.id] || {})));
    const head = htmlElement("tr");
    head.append(htmlElement("th"));
    for (const category of categories) {
      head.append(htmlElement("th", { scope: "col", title: category.name }, category.code));
    }
    const thead = htmlElement("thead");
    thead.append(head);
    const tbody = htmlElement("tbody");
    for (const okrug of okrugs) {
      const row = htmlElement("tr");
      row.append(htmlElement("th", { scope: "row" }, okrug.name));
      for (const category of categories) {
        const count = (cells[okrug.id] || {})[category.code] || 0;
        row.append(htmlElement("td", { class: heat(count, maximum) }, count ? String(count) : ""));
      }
      tbody.append(row);
    }
    table.append(thead, tbody);
  }

  function draw(root, figures) {
    root.querySelector("[data-field=generated_at]").textContent = figures.generated_at;
    root.querySelector("[data-field=reports]").textContent = String(figures.totals.reports);
    const labelled = (item) => htmlElement("li", {}, `${item.label}: ${item.count}`);
    fillList(root.querySelector("[data-list=status]"), figures.totals.status, labelled);
    fillList(root.querySelector("[data-list=severity]"), figures.totals.severity, labelled);
    fillList(root.querySelector("[data-legend=phases]"), figures.phases, (phase) =>
      htmlElement("li", { class: `phase-${phase.key}` }, phase.label));
    drawHours(root.querySelector("[data-chart=hours]"), figures.hours, figures.phases);
    drawCategories(root.querySelector("[data-chart=categories]"), figures.top_categories);
    fillList(root.querySelector("[data-list=alerts]"), figures.alerts, (alert) => {
      const item = htmlElement("li", {}, `${alert.raised_at} · ${alert.okrug} · `);
      item.append(link(alert.url, alert.message));
      return item;
    });
    drawWaiting(root.querySelector("[data-table=waiting]"), figures.waiting);
    drawOkrugCategory(root.querySelector("[data-table=okrug_category]"), figures.okrug_category);
  }

  async function refresh(root) {
    const stale = root.querySelector("[data-stale]");
    try {
      const response = await fetch(root.dataset.source, {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(String(response.status));
      draw(root, await response.json());
      stale.hidden = true;
    } catch (error) {
      stale.hidden = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("dashboard");
    const embedded = document.getElementById("dashboard-figures");
    if (!root || !embedded) return;
    const figures = JSON.parse(embedded.textContent);
    draw(root, figures);
    root.dataset.drawn = "true";
    setInterval(() => refresh(root), 1000 * (figures.refresh_seconds || 15));
  });
})();
