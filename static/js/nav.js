// Phones: the header's links fold behind a Menu button so the page starts near the top.
// Without this script the links simply show (the button stays hidden).
(function () {
  "use strict";
  const button = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (!button || !nav) return;
  const phone = window.matchMedia("(max-width: 640px)");
  function set(open) {
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("folded", !open);
  }
  function layout() {
    button.hidden = !phone.matches;
    set(!phone.matches);
  }
  button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
  phone.addEventListener("change", layout);
  layout();
})();
