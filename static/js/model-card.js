// Model card charts (Chart.js, vendored): training images per group, and held-out
// accuracy per group with its 95% interval. The numbers come from the page's
// <script type="application/json" id="model-card-data">; each chart has a table beside it.
(function () {
  "use strict";
  const source = document.getElementById("model-card-data");
  if (!source || !window.Chart) return;
  const card = JSON.parse(source.textContent);
  const lang = document.documentElement.lang || undefined;
  const asPct = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
  // A percentage (0-100) as the page's language writes it: "87.5%" in English, "87,5 %" in Spanish.
  const percent = (v) => new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(v / 100);
  const base = { responsive: true, maintainAspectRatio: false, animation: { duration: 250 }, locale: lang };

  const composition = document.querySelector('canvas[data-chart="composition"]');
  if (composition) {
    new window.Chart(composition, {
      type: "bar",
      data: { labels: card.groups, datasets: [{ label: gettext("Training images"), data: card.train, backgroundColor: "#2457c5" }] },
      options: { ...base, scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: gettext("Training images") } } } },
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
            label: gettext("95% interval"),
            data: card.low.map((low, i) => (low === null ? null : [asPct(low), asPct(card.high[i])])),
            backgroundColor: "rgba(36, 87, 197, 0.25)",
            borderColor: "rgba(36, 87, 197, 0.7)",
            borderWidth: 1,
            barPercentage: 0.5,
          },
          {
            type: "line",
            label: gettext("Accuracy"),
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
        scales: { y: { min: 0, max: 100, title: { display: true, text: gettext("Held-out accuracy") }, ticks: { callback: (v) => percent(v) } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const i = ctx.dataIndex;
                if (ctx.datasetIndex === 0) {
                  return interpolate(
                    gettext("95% interval %(low)s–%(high)s"),
                    { low: asPct(card.low[i]).toLocaleString(lang), high: percent(asPct(card.high[i])) },
                    true,
                  );
                }
                const n = card.n[i];
                return interpolate(
                  ngettext("Accuracy %(accuracy)s of %(n)s image", "Accuracy %(accuracy)s of %(n)s images", n),
                  { accuracy: percent(asPct(card.accuracy[i])), n: n.toLocaleString(lang) },
                  true,
                );
              },
            },
          },
        },
      },
    });
  }
})();
