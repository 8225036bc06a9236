// Starts the vendored Swagger UI on the exchange's OpenAPI document (no inline script: CSP).
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: root.dataset.openapi, dom_id: "#swagger-ui",
    deepLinking: true, presets: [SwaggerUIBundle.presets.apis] });
});
