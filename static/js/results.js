// Class results charts (Chart.js, vendored). The numbers come from the page's
// <script type="application/json" id="results-data"> (Django's json_script);
// every chart has a table beside it with the same numbers for screen readers.
(function () {
  "use strict";
  const PALETTE = ["#2457c5", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#0b7285", "#5c940d", "#e67700"];
  // Numbers and percentages in the page's language ("81%" in English, "81 %" in Spanish).
  const lang = document.documentElement.lang || undefined;
  const percent = (share, digits) => share.toLocaleString(lang, { style: "percent", maximumFractionDigits: digits });
  const num = (n) => (typeof n === "number" ? n.toLocaleString(lang) : n);
  const pct = (v) => (v === null || v === undefined ? "—" : percent(v, 0));
  const asPct = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
  const axisPct = (v) => percent(v / 100, 1); // axis values and asPct() are already 0..100
  const percentAxis = (title) => ({ min: 0, max: 100, title: { display: true, text: title }, ticks: { callback: axisPct } });
  const base = () => ({ responsive: true, maintainAspectRatio: false, animation: { duration: 250 }, locale: lang });

  function accuracy(model) {
    const groups = model.groups;
    return {
      type: "bar",
      data: {
        labels: groups.map((g) => g.group),
        datasets: [
          {
            type: "bar",
            label: interpolate(gettext("%(level)s interval"), { level: pct(0.95) }, true),
            data: groups.map((g) => (g.low === null ? null : [asPct(g.low), asPct(g.high)])),
            backgroundColor: "rgba(36, 87, 197, 0.25)",
            borderColor: "rgba(36, 87, 197, 0.7)",
            borderWidth: 1,
            barPercentage: 0.5,
          },
          {
            type: "line",
            label: gettext("Accuracy"),
            data: groups.map((g) => asPct(g.accuracy)),
            showLine: false,
            clip: false, // a point at 0% or 100% is drawn whole
            pointRadius: 7,
            pointHoverRadius: 9,
            pointStyle: "rectRot",
            backgroundColor: "#1d2330",
            borderColor: "#1d2330",
          },
        ],
      },
      options: {
        ...base(),
        scales: { y: percentAxis(gettext("Accuracy")) },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const g = groups[ctx.dataIndex];
                const values = { level: pct(0.95), low: pct(g.low), high: pct(g.high), rate: pct(g.accuracy) };
                Object.assign(values, { right: num(g.images_correct), n: num(g.images) });
                if (ctx.datasetIndex === 0) return interpolate(gettext("%(level)s interval %(low)s–%(high)s"), values, true);
                const format = g.enough
                  ? ngettext("Accuracy %(rate)s (%(right)s of %(n)s image)", "Accuracy %(rate)s (%(right)s of %(n)s images)", g.images)
                  : ngettext("Not enough tests yet (%(n)s image)", "Not enough tests yet (%(n)s images)", g.images);
                return interpolate(format, values, true);
              },
            },
          },
        },
      },
    };
  }

  function distribution(model) {
    const rows = model.distribution;
    const share = (n, total) => (total ? asPct(n / total) : null);
    return {
      type: "bar",
      data: {
        labels: rows.map((r) => r.group),
        datasets: [
          { label: gettext("Share of guesses"), data: rows.map((r) => share(r.predicted, model.done)), backgroundColor: PALETTE[0] },
          { label: gettext("Share expected"), data: rows.map((r) => share(r.expected, model.with_expected)), backgroundColor: PALETTE[1] },
        ],
      },
      options: { ...base(), scales: { y: percentAxis(gettext("Share of tests")) } },
    };
  }

  function trend(model) {
    return {
      type: "line",
      data: {
        datasets: model.labels.map((label, i) => ({
          label,
          data: model.trend
            .filter((p) => p.accuracy[i] !== null)
            .map((p) => ({ x: p.tests, y: asPct(p.accuracy[i]), start: p.start })),
          borderColor: PALETTE[i % PALETTE.length],
          backgroundColor: PALETTE[i % PALETTE.length],
          tension: 0.15,
          pointRadius: 2,
        })),
      },
      options: {
        ...base(),
        scales: {
          x: { type: "linear", min: 0, title: { display: true, text: gettext("Tests with an expected group so far") } },
          y: percentAxis(gettext("Accuracy so far")),
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: (items) =>
                items.length
                  ? interpolate(gettext("Up to %(time)s"), { time: new Date(items[0].raw.start).toLocaleString(lang) }, true)
                  : "",
              label: (ctx) =>
                interpolate(
                  ngettext("%(group)s: %(rate)s after %(n)s test", "%(group)s: %(rate)s after %(n)s tests", ctx.raw.x),
                  { group: ctx.dataset.label, rate: axisPct(ctx.raw.y), n: num(ctx.raw.x) },
                  true,
                ),
            },
          },
        },
      },
    };
  }

  function pair(p, models) {
    const name = (key) => (models.find((m) => m.key === key) || { name: key }).name;
    const guessesIt = (model) => interpolate(gettext("%(model)s guesses it, the other does not"), { model }, true);
    return {
      type: "bar",
      data: {
        labels: p.groups.map((g) => (g.group === p.highlight ? `${g.group} ★` : g.group)),
        datasets: [
          { label: guessesIt(name(p.a)), data: p.groups.map((g) => g.a_only), backgroundColor: PALETTE[0] },
          { label: guessesIt(name(p.b)), data: p.groups.map((g) => g.b_only), backgroundColor: PALETTE[1] },
        ],
      },
      options: { ...base(), scales: { y: { beginAtZero: true, title: { display: true, text: gettext("Photos") }, ticks: { precision: 0 } } } },
    };
  }

  function config(canvas, data) {
    const kind = canvas.dataset.chart;
    if (kind === "pair") return pair(data.pairs[Number(canvas.dataset.pair)], data.models);
    const model = data.models[Number(canvas.dataset.model)];
    if (!model) return null;
    return { accuracy, distribution, trend }[kind]?.(model) || null;
  }

  function readData() {
    const el = document.getElementById("results-data");
    return el ? JSON.parse(el.textContent) : null;
  }

  // Draws every canvas[data-chart] under root; returns [{canvas, chart}].
  function drawAll(data, root) {
    if (!window.Chart || !data) return [];
    const drawn = [];
    (root || document).querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const cfg = config(canvas, data);
      if (cfg) drawn.push({ canvas, chart: new window.Chart(canvas, cfg) });
    });
    return drawn;
  }

  window.EthiTechResults = { readData, drawAll, config, pct };
  if (!document.getElementById("projector")) drawAll(readData());
})();
