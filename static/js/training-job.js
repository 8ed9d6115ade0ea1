// A training job's page: polls the job's status and moves the progress bar
// (stage, percent, time left) until the job is done, failed or cancelled.
(function () {
  "use strict";
  const root = document.getElementById("job-progress");
  if (!root || root.dataset.final === "1") return;
  const url = root.dataset.statusUrl;
  const $ = (id) => document.getElementById(id);
  let delay = 1000;
  const lang = document.documentElement.lang || undefined;
  // The job's percent (0-100) as the page's language writes it: "42%" in English, "42 %" in Spanish.
  const percent = (v) => new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 }).format(Math.round(v) / 100);

  function render(s) {
    $("job-status").textContent = s.status_display;
    $("job-stage").textContent = s.stage || gettext("Waiting for a worker");
    $("job-bar").value = s.percent;
    $("job-bar").textContent = percent(s.percent);
    $("job-percent").textContent = percent(s.percent);
    $("job-eta").textContent = s.eta_text;
    $("job-message").textContent = s.message;
    if (s.error) {
      $("job-error-text").textContent = s.error;
      $("job-error").hidden = false;
    }
    if (s.result) {
      const link = $("job-result-link");
      link.href = s.result.url;
      link.textContent = interpolate(gettext("model card of %(name)s"), { name: s.result.name }, true);
      $("job-result").hidden = false;
    }
    if (s.final) $("cancel-form").hidden = true;
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const state = await response.json();
        render(state);
        if (state.final) return;
        delay = 1000;
      }
    } catch (e) {
      delay = Math.min(delay * 1.5, 10000); // network hiccup: keep trying, a little slower
    }
    setTimeout(poll, delay);
  }
  setTimeout(poll, delay);
})();
