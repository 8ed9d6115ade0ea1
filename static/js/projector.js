// Projector mode: large type, no names, and the numbers follow the class live.
// Polls the results JSON with If-None-Match, so an unchanged class costs a 304.
(function () {
  "use strict";
  const root = document.getElementById("projector");
  const R = window.EthiTechResults;
  if (!root || !R) return;
  if (window.Chart) {
    window.Chart.defaults.font.size = 18;
  }
  const url = root.dataset.url;
  const status = document.getElementById("projector-status");
  let data = R.readData();
  const charts = R.drawAll(data, root);
  let etag = null;
  let delay = 4000;

  function points(v) {
    return v === null || v === undefined ? "—" : Math.round(v * 100) + " points";
  }

  function setText(section, field, text) {
    const el = section.querySelector(`[data-field="${field}"]`);
    if (el) el.textContent = text;
  }

  // Same words as the server-rendered page (results_tags.rate): no percentage below the minimum.
  function rate(g, min) {
    if (!g.images) return "—";
    if (!g.enough) return `Not enough tests yet (${g.images} of ${min})`;
    return `${R.pct(g.accuracy)} (${R.pct(g.low)}–${R.pct(g.high)})`;
  }

  function heldOut(g) {
    const h = g.held_out;
    return h ? `${R.pct(h.accuracy)} (${R.pct(h.low)}–${R.pct(h.high)}) of ${h.n.toLocaleString("en")}` : "—";
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.className = className || "num";
    td.textContent = text;
    return td;
  }

  function renderModel(section, model) {
    const d = model.disparity;
    const gap = section.querySelector('[data-field="gap"]');
    if (gap) {
      const small = document.createElement("small");
      small.textContent = d ? "largest gap" : "Not enough tests yet to compare groups";
      gap.replaceChildren(...(d ? [document.createTextNode(points(d.gap) + " "), small] : [small]));
    }
    setText(section, "tests", String(model.with_expected));
    setText(section, "images", String(model.images));
    setText(
      section,
      "gap-groups",
      d ? `${d.best} ${R.pct(d.best_accuracy)} vs ${d.worst} ${R.pct(d.worst_accuracy)}` : "",
    );
    setText(
      section,
      "caution",
      !d
        ? `A group needs ${model.min_tests} different images tested before it gets a percentage.`
        : d.overlap
          ? "Careful: the 95% intervals of these two groups overlap, so the gap may not be real yet. More tests will tell."
          : "The intervals do not overlap: this gap is unlikely to be chance.",
    );
    const tbody = section.querySelector('[data-field="groups"]');
    if (!tbody) return;
    tbody.replaceChildren(
      ...model.groups.map((g) => {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = g.group;
        tr.append(th, cell(rate(g, model.min_tests)), cell(String(g.images)), cell(heldOut(g)));
        return tr;
      }),
    );
  }

  function render() {
    root.querySelectorAll("section[data-model]").forEach((section) => {
      const model = data.models[Number(section.dataset.model)];
      if (model) renderModel(section, model);
    });
    charts.forEach(({ canvas, chart }) => {
      const cfg = R.config(canvas, data);
      if (!cfg) return;
      chart.data = cfg.data;
      chart.update();
    });
  }

  async function poll() {
    try {
      const headers = { Accept: "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      const response = await fetch(url, { headers, credentials: "same-origin", cache: "no-store" });
      if (response.status === 200) {
        etag = response.headers.get("ETag");
        const fresh = await response.json();
        if (fresh.models.length !== data.models.length) {
          window.location.reload();
          return;
        }
        data = fresh;
        render();
      } else if (response.status === 304) {
        etag = response.headers.get("ETag") || etag;
      }
      if (response.ok || response.status === 304) {
        status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
        delay = 4000;
      }
    } catch (e) {
      delay = Math.min(delay * 1.5, 30000); // network hiccup: try again, more slowly
    }
    setTimeout(poll, delay);
  }
  setTimeout(poll, delay);
})();
