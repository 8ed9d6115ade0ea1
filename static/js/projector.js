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
  const lang = document.documentElement.lang || undefined;
  const number = (n) => Number(n).toLocaleString(lang);
  const url = root.dataset.url;
  const status = document.getElementById("projector-status");
  let data = R.readData();
  const charts = R.drawAll(data, root);
  let etag = null;
  let delay = 4000;

  function points(v) {
    if (v === null || v === undefined) return "—";
    const n = Math.round(v * 100);
    return interpolate(ngettext("%(n)s point", "%(n)s points", n), { n: number(n) }, true);
  }

  function setText(section, field, text) {
    const el = section.querySelector(`[data-field="${field}"]`);
    if (el) el.textContent = text;
  }

  // Same words as the server-rendered page (results_tags.rate): no percentage below the minimum.
  function rate(g, min) {
    if (!g.images) return "—";
    if (!g.enough) {
      return interpolate(gettext("Not enough tests yet (%(images)s of %(min)s)"), { images: number(g.images), min: number(min) }, true);
    }
    return `${R.pct(g.accuracy)} (${R.pct(g.low)}–${R.pct(g.high)})`;
  }

  function heldOut(g) {
    const h = g.held_out;
    if (!h) return "—";
    const values = { accuracy: R.pct(h.accuracy), low: R.pct(h.low), high: R.pct(h.high), n: number(h.n) };
    return interpolate(gettext("%(accuracy)s (%(low)s–%(high)s) of %(n)s"), values, true);
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
      small.textContent = d ? gettext("largest gap") : gettext("Not enough tests yet to compare groups");
      gap.replaceChildren(...(d ? [document.createTextNode(points(d.gap) + " "), small] : [small]));
    }
    setText(section, "tests", number(model.with_expected));
    setText(section, "images", number(model.images));
    setText(
      section,
      "gap-groups",
      d
        ? interpolate(
            gettext("%(best)s %(best_accuracy)s vs %(worst)s %(worst_accuracy)s"),
            { best: d.best, best_accuracy: R.pct(d.best_accuracy), worst: d.worst, worst_accuracy: R.pct(d.worst_accuracy) },
            true,
          )
        : "",
    );
    setText(
      section,
      "caution",
      !d
        ? interpolate(
            gettext("A group needs %(min_tests)s different images tested before it gets a percentage."),
            { min_tests: number(model.min_tests) },
            true,
          )
        : d.overlap
          ? gettext("Careful: the 95% intervals of these two groups overlap, so the gap may not be real yet. More tests will tell.")
          : gettext("The intervals do not overlap: this gap is unlikely to be chance."),
    );
    const tbody = section.querySelector('[data-field="groups"]');
    if (!tbody) return;
    tbody.replaceChildren(
      ...model.groups.map((g) => {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = g.group;
        tr.append(th, cell(rate(g, model.min_tests)), cell(number(g.images)), cell(heldOut(g)));
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
        status.textContent = interpolate(gettext("Updated %(time)s"), { time: new Date().toLocaleTimeString(lang) }, true);
        delay = 4000;
      }
    } catch (e) {
      delay = Math.min(delay * 1.5, 30000); // network hiccup: try again, more slowly
    }
    setTimeout(poll, delay);
  }
  setTimeout(poll, delay);
})();
