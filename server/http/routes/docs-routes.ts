import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { route, type Route } from '../route-table/route.js';

/** Swagger UI's files, from the installed swagger-ui-dist package (never a CDN). */
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** Our initializer script, next to this module's folder. */
const OWN_ASSETS_DIR = fileURLToPath(new URL('../docs-ui/', import.meta.url));

/**
 * The only files under /api/docs/: what PAGE loads. swagger-ui-dist also
 * ships stock pages (index.html and its initializer point at the public
 * petstore, oauth2-redirect.html) that must not be served from our origin.
 */
const ASSETS = new Map<string, string>([
  ['swagger-ui.css', path.join(SWAGGER_UI_DIR, 'swagger-ui.css')],
  ['swagger-ui-bundle.js', path.join(SWAGGER_UI_DIR, 'swagger-ui-bundle.js')],
  ['swagger-ui-standalone-preset.js', path.join(SWAGGER_UI_DIR, 'swagger-ui-standalone-preset.js')],
  ['favicon-32x32.png', path.join(SWAGGER_UI_DIR, 'favicon-32x32.png')],
  ['roomcast-docs.js', path.join(OWN_ASSETS_DIR, 'roomcast-docs.js')],
]);

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
export function docsRoutes(document: () => object): Route[] {
  return [
    route({
      method: 'get', path: '/api/openapi.json', tag: 'docs', access: 'anyone',
      summary: 'This document',
      success: { status: 200, description: 'OpenAPI 3.1', contentType: 'application/json' },
      handle: () => document(),
    }),
    route({
      method: 'get', path: '/api/docs', tag: 'docs', access: 'anyone',
      summary: 'A browsable reference of this document (Swagger UI, served locally)',
      success: { status: 200, description: 'HTML page', contentType: 'text/html' },
      handle: () => PAGE,
    }),
  ];
}

/** The reference page's scripts, styles and icon (mounted at /api/docs); any other name falls through to 404. */
export function docsAssets(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const file = ASSETS.get(req.path.slice(1));
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.sendFile(file, { maxAge: '1h' }, (err) => err && next(err));
  };
}
