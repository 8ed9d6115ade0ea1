// A training job's page: polls the job's status and moves the progress bar
// (stage, percent, time left) until the job is done, failed or cancelled.
(function () {
  "use strict";
  const root = document.getElementById("job-progress");
  if (!root || root.dataset.final === "1") return;
  const url = root.dataset.statusUrl;
  const $ = (id) => document.getElementById(id);
  let delay = 1000;

  function render(s) {
    $("job-status").textContent = s.status_display;
    $("job-stage").textContent = s.stage || "Waiting for a worker";
    $("job-bar").value = s.percent;
    $("job-bar").textContent = Math.round(s.percent) + "%";
    $("job-percent").textContent = Math.round(s.percent) + "%";
    $("job-eta").textContent = s.eta_text;
    $("job-message").textContent = s.message;
    if (s.error) {
      $("job-error-text").textContent = s.error;
      $("job-error").hidden = false;
    }
    if (s.result) {
      const link = $("job-result-link");
      link.href = s.result.url;
      link.textContent = "model card of " + s.result.name;
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
