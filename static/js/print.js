// Login cards: print without an inline handler (keeps a strict CSP possible).
document.getElementById("print-cards")?.addEventListener("click", () => window.print());
document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
