// A table (or .scroll wrapper) wider than the screen scrolls inside itself; keyboard users must be
// able to reach it too, so a region that actually scrolls becomes focusable and is named after its
// table's caption. Runs on load and when the window is resized.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("main table, main .scroll").forEach((el) => {
      const scrolls = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible";
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        if (el.tagName !== "TABLE") {
          el.setAttribute("role", "region");
          const caption = el.querySelector("caption");
          if (!el.hasAttribute("aria-label")) el.setAttribute("aria-label", caption ? caption.textContent.trim() : gettext("Table"));
        }
      }
    });
  }
  window.addEventListener("load", mark);
  window.addEventListener("resize", mark);
})();
