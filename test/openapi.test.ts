import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import { routeCatalogue } from '../server/http/openapi.js';
import { closeAll, http, startNode } from './support/util.js';

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

interface OpenApiOperation {
  requestBody?: { content: { 'application/json': { example?: unknown } } };
  responses: Record<string, unknown>;
}
type OpenApiDocument = { openapi: string; paths: Record<string, Record<string, OpenApiOperation>> };

describe('GET /api/openapi.json', () => {
  let app: RoomcastApp;
  let document: OpenApiDocument;

  before(async () => {
    app = await startNode();
    const res = await http<OpenApiDocument>(app, 'GET', '/api/openapi.json');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    document = res.body;
  });
  after(closeAll);

  it('is a valid OpenAPI 3.1 document (checked by an OpenAPI schema validator)', async () => {
    const result = await new Validator().validate(document);

    expect(document.openapi).to.equal('3.1.0');
    expect(result.errors, JSON.stringify(result.errors, null, 1)).to.equal(undefined);
    expect(result.valid).to.equal(true);
  });

  it('describes exactly the routes Express registers, no more and no fewer', () => {
    // The web client's bundle route serves the page's script, not the API.
    const WEB_CLIENT_ROUTES = new Set(['GET /assets/:file']);
    const registered = new Set([...registeredRoutes(app)].filter((route) => !WEB_CLIENT_ROUTES.has(route)));
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );

    expect(registered.size).to.be.greaterThan(20);
    expect([...registered].filter((route) => !documented.has(route)), 'registered but not documented').to.deep.equal([]);
    expect([...documented].filter((route) => !registered.has(route)), 'documented but not registered').to.deep.equal([]);
  });

  it('gives every route with a body a request example that the route\'s own zod schema accepts, and the document carries it', () => {
    const withBody = routeCatalogue(app.config.maxMessageLength).filter((route) => route.body);

    expect(withBody.length).to.be.greaterThan(8);
    for (const route of withBody) {
      const name = `${route.method.toUpperCase()} ${route.path}`;
      expect(route.example, name).to.not.equal(undefined);
      const parsed = route.body!.safeParse(route.example);
      expect(parsed.success, `${name}: ${JSON.stringify(parsed.error?.issues)}`).to.equal(true);
      const operation = document.paths[route.path.replace(/:(\w+)/g, '{$1}')]![route.method]!;
      expect(operation.requestBody!.content['application/json'].example, name).to.deep.equal(route.example);
    }
  });

  it('answers every error a route may give with the Error shape, and 400 wherever input is validated', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path}`;
        expect(operation.responses, name).to.have.property('500');
        if (operation.requestBody || path.includes('{')) expect(operation.responses, name).to.have.property('400');
      }
    }
  });

  it('when an example request is sent to a node, then the server accepts its shape (no validation_failed)', async () => {
    const routes = routeCatalogue(app.config.maxMessageLength).filter((route) => route.path === '/api/auth/login');

    for (const route of routes) {
      const res = await http(app, route.method.toUpperCase(), route.path, { body: route.example });
      // The example account does not exist: the credentials are refused, the shape is not.
      expect(res.status, route.path).to.equal(401);
      expect(res.body).to.have.nested.property('error.code', 'invalid_credentials');
    }
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
});
