// Audits: the form shows the upload field or the gallery counts, as chosen; an audit's page
// polls its status while it runs (progress per model) and reloads once it has finished.
(function () {
  "use strict";
  const form = document.getElementById("audit-form");
  if (form) {
    const sync = () => {
      const chosen = form.querySelector('input[name="source"]:checked');
      const source = chosen ? chosen.value : "upload";
      form.querySelectorAll("[data-source]").forEach((el) => {
        el.hidden = el.dataset.source !== source;
      });
    };
    form.addEventListener("change", sync);
    sync();
  }

  const root = document.getElementById("audit-progress");
  if (!root || root.dataset.final === "1") return;
  let delay = 1000;
  const lang = document.documentElement.lang || undefined;
  const number = (n) => Number(n).toLocaleString(lang);
  async function poll() {
    try {
      const response = await fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const s = await response.json();
        if (s.final) {
          window.location.reload();
          return;
        }
        const prepared = document.getElementById("audit-prepared");
        if (prepared) prepared.textContent = number(s.prepared);
        s.runs.forEach((r, i) => {
          const bar = root.querySelector(`[data-run="${i}"]`);
          const text = root.querySelector(`[data-run-text="${i}"]`);
          if (bar) bar.value = r.percent;
          if (text) text.textContent = interpolate(gettext("%(done)s of %(total)s"), { done: number(r.done), total: number(s.images) }, true);
        });
        delay = 1000;
      }
    } catch (e) {
      delay = Math.min(delay * 1.5, 10000);
    }
    setTimeout(poll, delay);
  }
  setTimeout(poll, delay);
})();
