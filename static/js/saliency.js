// Saliency maps ("what the model looked at"): a small grid of numbers drawn as a heat overlay on
// a canvas laid over the tested image (or a plain face outline), with a see-through slider.
// The grid is drawn at its own size and scaled by the browser, which smooths it.
(function () {
  "use strict";

  // Little effect: transparent; most effect: opaque red, through yellow and orange.
  function colour(v) {
    const t = Math.max(0, Math.min(1, v));
    const r = 255;
    const g = Math.round(230 * (1 - t));
    const b = Math.round(60 * (1 - t));
    return [r, g, b, Math.round(255 * Math.min(1, t * 1.4))];
  }

  // Positive evidence only, scaled so the strongest cell is 1 (occlusion drops can be negative:
  // hiding a cell made the model surer, which the map does not paint).
  function normalise(grid) {
    let peak = 0;
    grid.forEach((row) => row.forEach((v) => (peak = Math.max(peak, v))));
    return grid.map((row) => row.map((v) => (peak > 0 ? Math.max(0, v) / peak : 0)));
  }

  function draw(canvas, grid) {
    const rows = grid.length;
    const cols = rows ? grid[0].length : 0;
    if (!rows || !cols) return;
    canvas.width = cols;
    canvas.height = rows;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    normalise(grid).forEach((row, y) =>
      row.forEach((v, x) => image.data.set(colour(v), (y * cols + x) * 4)),
    );
    ctx.putImageData(image, 0, 0);
  }

  // Lay the canvas over the part of the photo the model saw: the face crop (a square around
  // the face found, with a margin), or the whole square image (gallery crops, the outline).
  function place(figure) {
    const img = figure.querySelector("img.saliency-base");
    const canvas = figure.querySelector("canvas.saliency-overlay");
    const box = figure.dataset.box ? figure.dataset.box.split(",").map(Number) : null;
    const margin = Number(figure.dataset.margin || 0);
    const fit = () => {
      const w = img.naturalWidth || img.width;
      const h = img.naturalHeight || img.height;
      let cx = w / 2;
      let cy = h / 2;
      let side = Math.min(w, h);
      if (box && box.length === 4) {
        cx = box[0] + box[2] / 2;
        cy = box[1] + box[3] / 2;
        side = Math.max(box[2], box[3]) * (1 + 2 * margin);
      }
      canvas.style.left = ((cx - side / 2) / w) * 100 + "%";
      canvas.style.top = ((cy - side / 2) / h) * 100 + "%";
      canvas.style.width = (side / w) * 100 + "%";
      canvas.style.height = (side / h) * 100 + "%";
    };
    if (img.complete) fit();
    else img.addEventListener("load", fit);
  }

  function show(figure, saliency) {
    if (!figure || !saliency || !saliency.grid || figure.dataset.shown) return;
    figure.dataset.shown = "1";
    const canvas = figure.querySelector("canvas.saliency-overlay");
    draw(canvas, saliency.grid);
    place(figure);
    const method = figure.querySelector(".saliency-method");
    if (method) method.textContent = figure.dataset[saliency.method] || saliency.method;
    const slider = figure.querySelector("input.saliency-opacity");
    if (slider) {
      const apply = () => (canvas.style.opacity = String(Number(slider.value) / 100));
      slider.addEventListener("input", apply);
      apply();
    }
    figure.hidden = false;
  }

  window.EthiTechSaliency = { draw, show };

  // Maps written into the page (the results page's mean maps per group).
  document.querySelectorAll("figure.saliency[data-grid-id]").forEach((figure) => {
    const source = document.getElementById(figure.dataset.gridId);
    if (source) show(figure, JSON.parse(source.textContent));
  });
})();
