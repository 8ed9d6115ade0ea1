// Polls the submission's status until every model has answered, and draws
// each answer as bars (<progress> elements: no inline styles, screen-reader friendly).
(function () {
  const root = document.getElementById("predictions");
  if (!root) return;
  const url = root.dataset.statusUrl;
  const lang = document.documentElement.lang || undefined;
  let delay = 700;
  // Keyboard and screen-reader users: the first answer to arrive takes the focus, unless the
  // person is already busy with something else on the page (the live regions announce the rest).
  const waiting = new Set(
    [...root.querySelectorAll("[data-model]")].filter((s) => s.dataset.status !== "done").map((s) => s.dataset.model),
  );
  let focusMoved = false;

  function focusFirstAnswer(section) {
    const idle = !document.activeElement || [document.body, document.getElementById("main")].includes(document.activeElement);
    if (focusMoved || !idle) return;
    section.tabIndex = -1;
    section.focus();
    focusMoved = true;
  }

  // Appends a translated message to el, filling each %(name)s with a text or an element
  // (the message stays one sentence for translators; nothing is parsed as HTML).
  function appendMessage(el, format, values) {
    for (const part of format.split(/(%\(\w+\)s)/)) {
      const name = /^%\((\w+)\)s$/.exec(part);
      if (name) el.append(values[name[1]] ?? "");
      else if (part) el.append(part);
    }
  }

  function renderBars(section, probabilities) {
    const tbody = section.querySelector("table.bars tbody");
    tbody.replaceChildren();
    for (const [label, prob] of Object.entries(probabilities)) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = label;
      const bar = document.createElement("td");
      const progress = document.createElement("progress");
      progress.max = 1;
      progress.value = prob;
      bar.append(progress);
      const pct = document.createElement("td");
      pct.className = "num";
      pct.textContent = prob.toLocaleString(lang, { style: "percent", maximumFractionDigits: 0 });
      tr.append(th, bar, pct);
      tbody.append(tr);
    }
  }

  function render(p) {
    const section = root.querySelector(`[data-model="${CSS.escape(p.model)}"]`);
    if (!section) return;
    const state = section.querySelector(".state");
    state.replaceChildren();
    if (p.status === "done") {
      const strong = document.createElement("strong");
      strong.className = "label";
      strong.textContent = p.label;
      appendMessage(state, gettext("This model guesses: %(label)s"), { label: strong });
      renderBars(section, p.probabilities);
      // Server-written sentences (lessons/answers.py): right or wrong, the training mix, the face finder.
      const verdict = section.querySelector(".verdict");
      verdict.replaceChildren();
      if (p.verdict) {
        const mark = document.createElement("span");
        mark.className = p.correct ? "mark right" : "mark wrong";
        mark.textContent = p.correct ? gettext("✓ Right") : gettext("✗ Wrong");
        const label = document.getElementById("true-label")?.querySelector("strong")?.textContent || "";
        if (label) appendMessage(verdict, gettext("%(mark)s: the image's label is %(label)s."), { mark, label });
        else verdict.append(mark);
      }
      section.querySelector(".mix").textContent = p.mix || "";
      section.querySelector(".face").textContent = p.face_note || "";
      if (p.saliency && window.EthiTechSaliency) {
        window.EthiTechSaliency.show(section.querySelector("figure.saliency"), p.saliency);
      }
    } else if (p.status === "failed") {
      const span = document.createElement("span");
      span.className = "error";
      span.textContent = p.error;
      state.append(span);
    } else {
      state.append(p.status_display + "…");
    }
    if (p.status === "done" && section.dataset.status !== "done" && waiting.has(p.model)) focusFirstAnswer(section);
    section.dataset.status = p.status;
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        data.predictions.forEach(render);
        if (data.done) return;
      }
    } catch (e) {
      // Network hiccup: keep trying, a little slower.
    }
    delay = Math.min(delay * 1.3, 5000);
    setTimeout(poll, delay);
  }
  poll();
})();
