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

  function renderModel(section, model) {
    const d = model.disparity;
    setText(section, "gap", d ? points(d.gap) : "—");
    setText(section, "tests", String(model.with_expected));
    setText(
      section,
      "gap-groups",
      d ? `${d.best} ${R.pct(d.best_accuracy)} vs ${d.worst} ${R.pct(d.worst_accuracy)}` : "",
    );
    const tbody = section.querySelector('[data-field="groups"]');
    if (!tbody) return;
    tbody.replaceChildren(
      ...model.groups.map((g) => {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = g.group;
        const acc = document.createElement("td");
        acc.className = "num";
        acc.textContent = R.pct(g.accuracy);
        const n = document.createElement("td");
        n.className = "num";
        n.textContent = String(g.total);
        tr.append(th, acc, n);
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
