import { randomUUID } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import { OpenApiResponses, type OpenApiDocument } from './support/openapi-responses.js';
import { closeAll, http, issuedSecrets, registerAdmin, startNode } from './support/util.js';

/** The parts of Express 5's router (the `router` package) that tell which routes exist. */
interface LayerLike {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: LayerLike[] };
  rawPath?: string;
  slash?: boolean;
}

/** Every `METHOD /path` Express registered, sub-routers included, with their mount paths. */
function registeredRoutes(app: RoomcastApp): Set<string> {
  const found = new Set<string>();
  const walk = (stack: LayerLike[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = (prefix + layer.route.path).replace(/\/$/, '') || '/';
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') found.add(`${method.toUpperCase()} ${path}`);
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, layer.slash || typeof layer.rawPath !== 'string' ? prefix : prefix + layer.rawPath);
      }
    }
  };
  walk((app.http.router as unknown as { stack: LayerLike[] }).stack, '');
  return found;
}

describe('GET /api/openapi.json', () => {
  let app: RoomcastApp;
  let document: OpenApiDocument;
  let checker: OpenApiResponses;

  before(async () => {
    app = await startNode();
    const res = await http<OpenApiDocument>(app, 'GET', '/api/openapi.json');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    document = res.body;
    checker = new OpenApiResponses(document);
  });
  after(closeAll);

  const operations = () =>
    Object.entries(document.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, operation]) => ({ path, method, operation })));

  it('is a valid OpenAPI 3.1 document (checked by an OpenAPI schema validator)', async () => {
    const result = await new Validator().validate(document);

    expect(document.openapi).to.equal('3.1.0');
    expect(result.errors, JSON.stringify(result.errors, null, 1)).to.equal(undefined);
    expect(result.valid).to.equal(true);
  });

  it('describes exactly the routes Express registers, no more and no fewer (no route outside the table)', () => {
    // The web client's page and bundle routes serve the browser app, not the API.
    const WEB_CLIENT_ROUTES = new Set(['GET /,/index.html', 'GET /assets/:file']);
    const registered = new Set([...registeredRoutes(app)].filter((route) => !WEB_CLIENT_ROUTES.has(route)));
    const documented = new Set(operations().map(({ path, method }) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));

    expect(registered.size).to.be.greaterThan(20);
    expect([...registered].filter((route) => !documented.has(route)), 'registered but not documented').to.deep.equal([]);
    expect([...documented].filter((route) => !registered.has(route)), 'documented but not registered').to.deep.equal([]);
  });

  it('names the shapes as component schemas and answers with $ref to them', () => {
    const names = Object.keys(document.components.schemas);
    expect(names).to.include.members(['User', 'Room', 'Message', 'Error', 'HistoryPage', 'UsersPage', 'AuditPage', 'AuditEntry', 'AuthResponse', 'RoomResponse', 'RoomsPage', 'UserResponse', 'Readiness', 'RegisterRequest', 'UpdateRoomRequest']);
    const me = document.paths['/api/me']!.get!.responses['200']!.content!['application/json']!.schema;
    expect(me).to.deep.equal({ $ref: '#/components/schemas/UserResponse' });
    expect(document.components.schemas.UserResponse).to.have.nested.property('properties.user.$ref', '#/components/schemas/User');
    // Every $ref points at a component that exists.
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).to.be.greaterThan(30);
    for (const ref of refs) expect(names.map((name) => `#/components/schemas/${name}`), ref).to.include(ref);
  });

  it('lists every error a route can answer: 500 always, 400 where input is read, 401 behind a token, 403 behind the admin rule, 413/403 for the /api transport', () => {
    for (const { path, method, operation } of operations()) {
      const name = `${method.toUpperCase()} ${path}`;
      const statuses = Object.keys(operation.responses);
      expect(statuses, name).to.include('500');
      if (operation.requestBody || path.includes('{') || operation.parameters?.length) expect(statuses, name).to.include('400');
      if (path.startsWith('/api/')) expect(statuses, name).to.include.members(['400', '403', '413']);
      if (operation.security?.some((s) => 'bearer' in s)) expect(statuses, name).to.include.members(['401', '503']);
      if (operation.description?.includes('Admins only')) expect(statuses, name).to.include('403');
    }
    expect(Object.keys(document.paths['/readyz']!.get!.responses)).to.include.members(['200', '503']);
    expect(Object.keys(document.paths['/api/auth/login']!.post!.responses)).to.include('429');
  });

  it('says which PATCH bodies must not be empty, and the server refuses an empty one', async () => {
    const admin = await registerAdmin(app);
    const patches = operations().filter(({ method }) => method === 'patch');
    expect(patches.length).to.equal(3);
    // The server API's PATCH takes an API key, the others an admin's token.
    const key = await http<{ key: string }>(app, 'POST', '/api/admin/api-keys', { token: admin.accessToken, body: { name: 'openapi', scopes: ['rooms'] } });
    issuedSecrets.add(key.body.key);
    for (const { path } of patches) {
      const schema = document.paths[path]!.patch!.requestBody!.content['application/json']!.schema as { $ref: string };
      const component = document.components.schemas[schema.$ref.split('/').pop()!];
      expect(component, path).to.have.property('minProperties', 1);
      expect(checker.checkRequest('patch', path, {}), path).to.have.length(1);
      const token = path.startsWith('/api/server/') ? key.body.key : admin.accessToken;
      const res = await http(app, 'PATCH', path.replace(/\{\w+\}/, randomUUID()), { token, body: {} });
      expect(res.status, path).to.equal(400);
      expect(res.body).to.have.nested.property('error.code', 'validation_failed');
    }
  });

  it('gives every route with a body a request example that the document\'s schema accepts and the server does not refuse as invalid', async () => {
    const admin = await registerAdmin(app);
    const withBody = operations().filter(({ operation }) => operation.requestBody);

    expect(withBody.length).to.be.greaterThan(8);
    const key = await http<{ key: string }>(app, 'POST', '/api/admin/api-keys', {
      token: admin.accessToken,
      body: { name: 'examples', scopes: ['publish', 'rooms', 'users', 'presence', 'history'] },
    });
    issuedSecrets.add(key.body.key);
    for (const { path, method, operation } of withBody) {
      const name = `${method.toUpperCase()} ${path}`;
      const example = operation.requestBody!.content['application/json']!.example;
      expect(example, name).to.not.equal(undefined);
      expect(checker.checkRequest(method, path, example), name).to.deep.equal([]);
      // Unknown ids in the path: the answer may be 404 or 401, never validation_failed.
      const token = path.startsWith('/api/server/') ? key.body.key : admin.accessToken;
      const res = await http(app, method.toUpperCase(), path.replace(/\{\w+\}/g, () => randomUUID()), { token, body: example });
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).to.not.equal(400);
    }
    // The webhook example registered an endpoint: remove it, so later tests' events are not queued for it.
    const hooks = await http<{ webhooks: { id: string }[] }>(app, 'GET', '/api/admin/webhooks', { token: admin.accessToken });
    for (const hook of hooks.body.webhooks) await http(app, 'DELETE', `/api/admin/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  it('answers 405 method_not_allowed with an Allow header of exactly the documented methods, for every documented path', async () => {
    for (const [path, byMethod] of Object.entries(document.paths)) {
      const documented = Object.keys(byMethod).map((method) => method.toUpperCase());
      const allowed = documented.includes('GET') ? [...documented, 'HEAD'] : documented;
      // A method the path does not have (PUT, unless the path is PUT /api/rooms/{id}/read).
      const probe = ['PUT', 'DELETE', 'PATCH', 'POST'].find((method) => !documented.includes(method))!;
      const res = await http(app, probe, path.replace(/\{\w+\}/g, () => randomUUID()), { body: {} });

      expect(res.status, path).to.equal(405);
      expect(res.body, path).to.have.nested.property('error.code', 'method_not_allowed');
      expect(res.headers.get('allow')?.split(', ').sort(), path).to.deep.equal(allowed.sort());
    }
    // An unknown path is still 404.
    expect((await http(app, 'PUT', '/api/nowhere')).status).to.equal(404);
  });
});

describe('GET /api/docs', () => {
  let app: RoomcastApp;

  before(async () => {
    app = await startNode();
  });
  after(closeAll);

  it('serves the reference page and every asset it loads from this node, with no inline script and no CDN', async () => {
    const page = await http<string>(app, 'GET', '/api/docs');

    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.body).to.not.match(/https?:\/\//);
    expect(page.body).to.not.match(/<script>(?!<\/script>)/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).to.match(/script-src 'self'/);
    expect(csp).to.not.include('unsafe-inline\'; script');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).to.include.members(['/api/docs/swagger-ui-bundle.js', '/api/docs/roomcast-docs.js', '/api/docs/swagger-ui.css']);
    for (const asset of assets) {
      const res = await fetch(app.url() + asset);
      await res.arrayBuffer();
      expect(res.status, asset).to.equal(200);
    }
    const init = await http<string>(app, 'GET', '/api/docs/roomcast-docs.js');
    expect(init.body).to.include("url: '/api/openapi.json'");
  });

  it('serves none of swagger-ui-dist\'s stock pages or other files (index.html points at the public petstore)', async () => {
    const stock = ['index.html', 'oauth2-redirect.html', 'oauth2-redirect.js', 'swagger-initializer.js', 'index.css', 'index.js', 'absolute-path.js', 'package.json', 'swagger-ui.js', 'README.md', '../package.json', '%2e%2e/package.json'];
    for (const file of stock) {
      const res = await fetch(`${app.url()}/api/docs/${file}`);
      const text = await res.text();
      expect(res.status, file).to.equal(404);
      expect(text, file).to.not.include('petstore');
    }
  });
});
