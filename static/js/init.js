import { initAll } from "/static/govuk/govuk-frontend.min.js";

initAll();

// Print buttons: the page's policy refuses inline handlers (onclick=), so they are wired here.
document.querySelectorAll("[data-waymark-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
