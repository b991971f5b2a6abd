// Renders the contract this server enforces (GET /openapi.json), fully
// expanded so every operation shows its responses. Kept out of index.html so
// the page needs no inline script.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  docExpansion: "full",
  defaultModelsExpandDepth: 0,
  deepLinking: true,
});
