// The JSON API's documentation page (/api/v1/docs): Swagger UI over the portal's own OpenAPI
// document, from the vendored bundle (no CDN). A file, not an inline script: the CSP allows none.
(function () {
  var node = document.getElementById("swagger-ui");
  if (!node || typeof SwaggerUIBundle === "undefined") return;
  SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
  });
})();
