import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** Swagger UI's files, from the installed swagger-ui-dist package (never a CDN). */
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** Our initializer script, next to this module's folder. */
const OWN_ASSETS_DIR = fileURLToPath(new URL('../docs-ui/', import.meta.url));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Roomcast REST API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/api/docs/roomcast-docs.js"></script>
</body>
</html>
`;

/** /api/openapi.json and the browsable reference at /api/docs, served from this node. */
export function docsRoutes(document: object): Router {
  const router = Router();
  const json = JSON.stringify(document);

  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });

  router.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });

  const assets = { index: false, fallthrough: true, maxAge: '1h' } as const;
  router.use('/docs', express.static(OWN_ASSETS_DIR, assets), express.static(SWAGGER_UI_DIR, assets));
  return router;
}
