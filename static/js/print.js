// Login cards: print without an inline handler (keeps a strict CSP possible).
document.getElementById("print-cards")?.addEventListener("click", () => window.print());
