// Class results charts (Chart.js, vendored). The numbers come from the page's
// <script type="application/json" id="results-data"> (Django's json_script);
// every chart has a table beside it with the same numbers for screen readers.
(function () {
  "use strict";
  const PALETTE = ["#2457c5", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#0b7285", "#5c940d", "#e67700"];
  const pct = (v) => (v === null || v === undefined ? "—" : Math.round(v * 100) + "%");
  const asPct = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
  const percentAxis = (title) => ({ min: 0, max: 100, title: { display: true, text: title }, ticks: { callback: (v) => v + "%" } });
  const base = () => ({ responsive: true, maintainAspectRatio: false, animation: { duration: 250 } });

  function accuracy(model) {
    const groups = model.groups;
    return {
      type: "bar",
      data: {
        labels: groups.map((g) => g.group),
        datasets: [
          {
            type: "bar",
            label: "95% interval",
            data: groups.map((g) => (g.low === null ? null : [asPct(g.low), asPct(g.high)])),
            backgroundColor: "rgba(36, 87, 197, 0.25)",
            borderColor: "rgba(36, 87, 197, 0.7)",
            borderWidth: 1,
            barPercentage: 0.5,
          },
          {
            type: "line",
            label: "Accuracy",
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
        scales: { y: percentAxis("Accuracy") },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const g = groups[ctx.dataIndex];
                return ctx.datasetIndex === 0
                  ? `95% interval ${pct(g.low)}–${pct(g.high)}`
                  : g.enough
                    ? `Accuracy ${pct(g.accuracy)} (${g.images_correct} of ${g.images} images)`
                    : `Not enough tests yet (${g.images} images)`;
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
          { label: "Share of guesses", data: rows.map((r) => share(r.predicted, model.done)), backgroundColor: PALETTE[0] },
          { label: "Share expected", data: rows.map((r) => share(r.expected, model.with_expected)), backgroundColor: PALETTE[1] },
        ],
      },
      options: { ...base(), scales: { y: percentAxis("Share of tests") } },
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
          x: { type: "linear", min: 0, title: { display: true, text: "Tests with an expected group so far" } },
          y: percentAxis("Accuracy so far"),
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? `Up to ${new Date(items[0].raw.start).toLocaleString()}` : ""),
              label: (ctx) => `${ctx.dataset.label}: ${ctx.raw.y}% after ${ctx.raw.x} tests`,
            },
          },
        },
      },
    };
  }

  function pair(p, models) {
    const name = (key) => (models.find((m) => m.key === key) || { name: key }).name;
    return {
      type: "bar",
      data: {
        labels: p.groups.map((g) => (g.group === p.highlight ? `${g.group} ★` : g.group)),
        datasets: [
          { label: `${name(p.a)} guesses it, the other does not`, data: p.groups.map((g) => g.a_only), backgroundColor: PALETTE[0] },
          { label: `${name(p.b)} guesses it, the other does not`, data: p.groups.map((g) => g.b_only), backgroundColor: PALETTE[1] },
        ],
      },
      options: { ...base(), scales: { y: { beginAtZero: true, title: { display: true, text: "Photos" }, ticks: { precision: 0 } } } },
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
