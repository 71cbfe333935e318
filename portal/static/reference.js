// Starts Swagger UI on the reference page (no inline script: the CSP is script-src 'self').
// The document is the download (servers = the edge); its server is swapped for the
// portal's same-origin proxy, which forwards to the edge with the key pasted in Authorize.
(() => {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle === "undefined") return;
  fetch(root.dataset.spec, { credentials: "same-origin" })
    .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`document: ${res.status}`))))
    .then((spec) => {
      const edge = spec.servers?.[0]?.url;
      spec.servers = [{ url: new URL(root.dataset.proxy, location.origin).href, description: `through the portal to ${edge}` }];
      root.textContent = "";
      window.ui = SwaggerUIBundle({
        spec,
        domNode: root,
        deepLinking: false,
        validatorUrl: null,
        defaultModelsExpandDepth: 0,
        persistAuthorization: false,
        requestInterceptor: (req) => {
          req.headers["X-Tollgate-Try"] = "1";
          return req;
        },
      });
      root.dataset.ready = "true";
    })
    .catch((e) => {
      root.insertAdjacentHTML("afterbegin", '<p class="error" role="alert">The reference could not load its document.</p>');
      console.error(e);
    });
})();
