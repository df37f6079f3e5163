// The complaint draft's "Print" button (no inline scripts: CSP allows only this site's files).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
