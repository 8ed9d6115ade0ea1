// Model card charts (Chart.js, vendored): training images per group, and held-out
// accuracy per group with its 95% interval. The numbers come from the page's
// <script type="application/json" id="model-card-data">; each chart has a table beside it.
(function () {
  "use strict";
  const source = document.getElementById("model-card-data");
  if (!source || !window.Chart) return;
  const card = JSON.parse(source.textContent);
  const asPct = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
  const base = { responsive: true, maintainAspectRatio: false, animation: { duration: 250 } };

  const composition = document.querySelector('canvas[data-chart="composition"]');
  if (composition) {
    new window.Chart(composition, {
      type: "bar",
      data: { labels: card.groups, datasets: [{ label: "Training images", data: card.train, backgroundColor: "#2457c5" }] },
      options: { ...base, scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Training images" } } } },
    });
  }

  const accuracy = document.querySelector('canvas[data-chart="accuracy"]');
  if (accuracy) {
    new window.Chart(accuracy, {
      type: "bar",
      data: {
        labels: card.groups,
        datasets: [
          {
            type: "bar",
            label: "95% interval",
            data: card.low.map((low, i) => (low === null ? null : [asPct(low), asPct(card.high[i])])),
            backgroundColor: "rgba(36, 87, 197, 0.25)",
            borderColor: "rgba(36, 87, 197, 0.7)",
            borderWidth: 1,
            barPercentage: 0.5,
          },
          {
            type: "line",
            label: "Accuracy",
            data: card.accuracy.map(asPct),
            showLine: false,
            pointRadius: 7,
            pointStyle: "rectRot",
            backgroundColor: "#1d2330",
            borderColor: "#1d2330",
          },
        ],
      },
      options: {
        ...base,
        scales: { y: { min: 0, max: 100, title: { display: true, text: "Held-out accuracy" }, ticks: { callback: (v) => v + "%" } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const i = ctx.dataIndex;
                if (ctx.datasetIndex === 0) return `95% interval ${asPct(card.low[i])}–${asPct(card.high[i])}%`;
                return `Accuracy ${asPct(card.accuracy[i])}% of ${card.n[i]} images`;
              },
            },
          },
        },
      },
    });
  }
})();
