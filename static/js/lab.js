// The lab: the class chart (Chart.js scatter, drawn from the table's data; the table has the
// same numbers for screen readers), and each waiting or training model's progress, polled
// until it finishes (then the page reloads to show its held-out numbers).
(function () {
  "use strict";
  const lang = document.documentElement.lang || undefined;
  const pct = (x) => Math.round(x * 100);
  // Numbers in the page's language: "45%" in English, "45 %" in Spanish.
  const percent = (x) => new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 }).format(x);
  const number = (n) => n.toLocaleString(lang);

  function drawChart() {
    const source = document.getElementById("lab-chart-data");
    const canvas = document.getElementById("lab-chart");
    if (!source || !canvas || !window.Chart) return;
    const points = JSON.parse(source.textContent).points;
    const kinds = [
      // Lower `order` is drawn on top: a student's own point never hides under a classmate's.
      { label: gettext("The experiment's models"), test: (p) => p.reference, color: "#5b6475", shape: "rectRot", order: 2 },
      { label: gettext("Students' models"), test: (p) => !p.reference && !p.mine, color: "#2457c5", shape: "circle", order: 1 },
      { label: gettext("Yours"), test: (p) => p.mine, color: "#c2410c", shape: "triangle", order: 0, radius: 10 },
    ];
    const choice = document.getElementById("lab-chart-y");
    const axis = {
      gap: { value: (p) => pct(p.gap), title: gettext("Gap between best and worst group (points)") },
      overall: { value: (p) => (p.overall === null ? null : pct(p.overall)), title: gettext("Overall accuracy (%)") },
    };
    const y = () => axis[choice ? choice.value : "gap"];
    const datasets = kinds
      .map((k) => ({
        label: k.label,
        data: points.filter(k.test).map((p) => ({ x: pct(p.largest_share), y: y().value(p), p })),
        backgroundColor: k.color,
        borderColor: k.color,
        pointStyle: k.shape,
        order: k.order,
        pointRadius: k.radius || 7,
        pointHoverRadius: 9,
      }))
      .filter((d) => d.data.length);
    const chart = new window.Chart(canvas, {
      type: "scatter",
      data: { datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: lang,
        scales: {
          x: { min: 0, max: 100, title: { display: true, text: gettext("Share of the largest group in training (%)") } },
          y: { min: 0, max: 100, title: { display: true, text: y().title } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const p = ctx.raw.p;
                const gap = pct(p.gap);
                // Facts side by side, each a whole phrase: "mix: gap 12 points (A 90%, B 78%), 85% right overall".
                const gapText = ngettext("%(label)s: gap %(gap)s point", "%(label)s: gap %(gap)s points", gap);
                let text = interpolate(gapText, { label: p.label, gap: number(gap) }, true);
                text += ` (${p.best.group} ${percent(p.best.accuracy)}, ${p.worst.group} ${percent(p.worst.accuracy)})`;
                if (p.overall !== null) {
                  text += ", " + interpolate(gettext("%(overall)s right overall"), { overall: percent(p.overall) }, true);
                }
                return text;
              },
            },
          },
        },
      },
    });
    if (choice) {
      // The second view: the same models, overall accuracy up the side (a fair model can still be a poor one).
      choice.addEventListener("change", () => {
        chart.data.datasets.forEach((d) => d.data.forEach((pt) => (pt.y = y().value(pt.p))));
        chart.options.scales.y.title.text = y().title;
        chart.update();
      });
    }
  }

  function follow(card) {
    const url = card.dataset.statusUrl;
    const state = card.querySelector(".lab-state");
    const bar = card.querySelector("progress");
    async function poll() {
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        const s = await response.json();
        if (s.final) {
          window.location.reload();
          return;
        }
        if (state) state.textContent = [s.waiting || s.status_display, s.stage, s.eta_text].filter(Boolean).join(": ");
        if (bar) bar.value = s.percent || 0;
      } catch (e) {
        /* the next poll tries again */
      }
      setTimeout(poll, 1500);
    }
    setTimeout(poll, 1000);
  }

  drawChart();
  document.querySelectorAll(".lab-model[data-final='0']").forEach(follow);
})();
