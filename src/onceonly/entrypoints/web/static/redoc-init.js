// Starts the vendored Redoc on the exchange's OpenAPI document (no inline script: CSP).
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapi, {}, root);
});
