// Checks real HTTP answers against the OpenAPI document the node serves: the
// status must be documented for the operation, and a JSON body must match
// the documented schema (components resolved), checked by Ajv (JSON Schema
// 2020-12, the dialect of OpenAPI 3.1).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { HttpResult } from './util.js';

// ajv-formats is CommonJS: its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

interface MediaType {
  schema?: object;
}
interface ResponseObject {
  content?: Record<string, MediaType>;
}
interface Operation {
  description?: string;
  parameters?: object[];
  security?: Record<string, string[]>[];
  responses: Record<string, ResponseObject>;
  requestBody?: { content: Record<string, MediaType & { example?: unknown }> };
}
export interface OpenApiDocument {
  [key: string]: unknown;
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

/** A JSON pointer segment: `/` and `~` escaped. */
const pointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

export class OpenApiResponses {
  private readonly ajv: Ajv2020;
  /** `METHOD /path/{template}` → statuses seen. */
  readonly seen = new Map<string, Set<number>>();

  constructor(readonly document: OpenApiDocument) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    // The whole document under one id, so `#/components/schemas/X` refs resolve inside it.
    this.ajv.addSchema({ ...document, $id: 'openapi' });
  }

  /** Problems with one answer (empty when it is as documented); records it as seen. */
  check(method: string, template: string, res: HttpResult): string[] {
    const name = `${method.toUpperCase()} ${template}`;
    const operation = this.document.paths[template]?.[method.toLowerCase()];
    if (!operation) return [`${name} is not in the document`];
    this.seen.set(name, (this.seen.get(name) ?? new Set()).add(res.status));
    const documented = operation.responses[String(res.status)];
    if (!documented) return [`${name} answered ${res.status}, which the document does not list`];
    if (res.status === 204 || !documented.content) return [];
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const media = documented.content[contentType];
    if (!media) return [`${name} ${res.status} came as ${contentType}, documented as ${Object.keys(documented.content).join(', ')}`];
    if (contentType !== 'application/json' || !media.schema) return [];
    const ref = `openapi#/paths/${pointer(template)}/${method.toLowerCase()}/responses/${res.status}/content/${pointer(contentType)}/schema`;
    const validate = this.ajv.getSchema(ref) ?? this.ajv.compile({ $ref: ref });
    if (validate(res.body)) return [];
    return [`${name} ${res.status} body does not match: ${this.ajv.errorsText(validate.errors)} in ${JSON.stringify(res.body).slice(0, 300)}`];
  }

  /** Problems of a request body against the operation's documented schema. */
  checkRequest(method: string, template: string, body: unknown): string[] {
    const ref = `openapi#/paths/${pointer(template)}/${method.toLowerCase()}/requestBody/content/${pointer('application/json')}/schema`;
    const validate = this.ajv.getSchema(ref) ?? this.ajv.compile({ $ref: ref });
    return validate(body) ? [] : [`${method.toUpperCase()} ${template} request ${JSON.stringify(body)}: ${this.ajv.errorsText(validate.errors)}`];
  }
}
