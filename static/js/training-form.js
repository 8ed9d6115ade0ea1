// The training job form (and the student lab's): shows only the options of the chosen mix and model family,
// and draws the mix's composition live (Chart.js, vendored) from the composition
// endpoint, with a table beside the chart for screen readers. Starting is disabled
// while the mix is not achievable; the server checks again on submit.
(function () {
  "use strict";
  const form = document.getElementById("job-form");
  if (!form) return;
  // Not form.dataset: a form's named controls shadow its properties (a control is called "dataset").
  const url = form.getAttribute("data-composition-url");
  const message = document.getElementById("plan-message");
  const tbody = document.querySelector("#composition-table tbody");
  const start = document.getElementById("start-job");
  const canvas = document.getElementById("composition-chart");
  const field = (name) => form.elements.namedItem(name);
  const lang = document.documentElement.lang || undefined;
  const fmt = (n) => Number(n).toLocaleString(lang);
  let chart = null;
  let timer = null;
  let request = 0;

  function showOptions() {
    const mix = field("mix_kind").value;
    form.querySelectorAll("[data-mix]").forEach((el) => {
      el.hidden = el.dataset.mix !== mix;
      // A hidden field must not block the form (the browser cannot show its error) nor be sent.
      el.querySelectorAll("input, select").forEach((input) => (input.disabled = el.hidden));
    });
    const kind = field("kind"); // the student lab's form has no model family
    if (!kind) return;
    form.querySelectorAll("[data-family]").forEach((el) => {
      el.hidden = !kind.value.startsWith(el.dataset.family);
    });
  }

  function setGroups(groups) {
    const majority = field("majority");
    const chosen = majority.value;
    if ([...majority.options].map((o) => o.value).join("\n") !== groups.join("\n")) {
      majority.replaceChildren(...groups.map((g) => new Option(g, g, false, g === chosen)));
    }
    form.querySelectorAll("[data-count]").forEach((el) => {
      const i = Number(el.dataset.count);
      el.hidden = i >= groups.length;
      const label = el.querySelector("label");
      if (label && i < groups.length) label.textContent = groups[i] + ":";
    });
  }

  function drawTable(counts, available) {
    tbody.replaceChildren();
    for (const [group, n] of Object.entries(counts)) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = group;
      const want = document.createElement("td");
      want.className = "num";
      want.textContent = fmt(n);
      const have = document.createElement("td");
      have.className = "num";
      have.textContent = fmt(available[group] || 0);
      if (n > (available[group] || 0)) want.classList.add("error");
      tr.append(th, want, have);
      tbody.append(tr);
    }
  }

  function drawChart(counts, available) {
    if (!window.Chart || !canvas) return;
    const groups = Object.keys(counts);
    const data = {
      labels: groups,
      datasets: [
        {
          label: gettext("In this mix"),
          data: groups.map((g) => counts[g]),
          backgroundColor: groups.map((g) => (counts[g] > (available[g] || 0) ? "#c92a2a" : "#2457c5")),
        },
        { label: gettext("The dataset has"), data: groups.map((g) => available[g] || 0), backgroundColor: "rgba(91, 100, 117, 0.35)" },
      ],
    };
    if (chart) {
      chart.data = data;
      chart.update();
      return;
    }
    chart = new window.Chart(canvas, {
      type: "bar",
      data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 200 },
        locale: lang,
        scales: { y: { beginAtZero: true, title: { display: true, text: gettext("Training images") }, ticks: { precision: 0 } } },
      },
    });
  }

  function say(text, ok) {
    message.textContent = text;
    message.classList.toggle("ok", ok);
    message.classList.toggle("bad", !ok);
    start.disabled = !ok;
  }

  async function refresh() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") params.append(name, value);
    }
    const mine = ++request;
    try {
      const response = await fetch(`${url}?${params}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const data = await response.json();
      if (mine !== request) return; // a newer request is on its way
      if (data.groups) setGroups(data.groups);
      if (data.counts) {
        drawTable(data.counts, data.available || {});
        drawChart(data.counts, data.available || {});
      }
      say(data.message, response.ok && data.achievable);
    } catch (e) {
      if (mine === request) say(gettext("Could not check the composition; the server checks it again when you start."), true);
    }
  }

  function changed() {
    showOptions();
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  form.addEventListener("change", changed);
  form.addEventListener("input", changed);
  showOptions();
  refresh();
})();
