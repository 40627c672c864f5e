import type { Router } from 'express';
import { openApiDocument } from './openapi.js';
import { buildRouters } from './route-table/build-router.js';
import type { AccessGuards, Route } from './route-table/route.js';
import { docsAssets, docsRoutes } from './routes/docs-routes.js';

export interface RestApi {
  /** Mount outside /api, before its origin check and body parsers. */
  operations: Router;
  /** Mount at /api. */
  api: Router;
  /** The whole table, docs routes included. */
  routes: readonly Route[];
}

/**
 * The REST API from its route table: the Express routers and the OpenAPI
 * document (served by the table's own docs routes) come from the same
 * entries. `guards` enforce the access rules.
 */
export function restApi(areas: readonly Route[], guards: AccessGuards, info: { version: string }): RestApi {
  let document: object | undefined;
  // Built on first request: the document describes the docs routes too.
  const routes: readonly Route[] = [...areas, ...docsRoutes(() => (document ??= openApiDocument(routes, info)))];
  const { operations, api } = buildRouters(routes, guards);
  api.use('/docs', docsAssets());
  return { operations, api, routes };
}
