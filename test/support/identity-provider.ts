// An app's identity provider for the external-identity tests: a real JWKS
// HTTP server on 127.0.0.1 whose keys the test adds and removes, that can be
// made to hang (a JWKS endpoint that is down without refusing connections),
// and a token issuer signing with jose, as an app's backend would.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';

export type SigningAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

export interface ProviderKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

export function providerKey(kid: string, alg: SigningAlgorithm = 'RS256'): ProviderKey {
  const pair =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { kid, alg, ...pair, publicPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

export const publicJwk = (key: ProviderKey) => ({ ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig' });

export interface TokenOptions {
  sub: string;
  claims?: JWTPayload;
  /** Seconds from now; negative: already expired. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  /** Header `kid`; default the key's, null: none. */
  kid?: string | null;
  alg?: string;
}

export class IdentityProvider {
  readonly keys = new Map<string, ProviderKey>();
  /** Requests the JWKS endpoint received. */
  requests = 0;
  mode: 'serve' | 'hang' = 'serve';
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => this.answer(req, res));
  private port = 0;

  constructor(
    readonly issuer: string,
    readonly audience: string,
  ) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get jwksUrl(): string {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }

  add(key: ProviderKey): ProviderKey {
    this.keys.set(key.kid, key);
    return key;
  }

  remove(kid: string): void {
    this.keys.delete(kid);
  }

  /** A token as the app's backend issues it: signed by `key`, for this issuer and audience unless told otherwise. */
  token(key: ProviderKey, options: TokenOptions): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const kid = options.kid === undefined ? key.kid : options.kid;
    return new SignJWT({ ...options.claims })
      .setProtectedHeader({ alg: options.alg ?? key.alg, typ: 'JWT', ...(kid === null ? {} : { kid }) })
      .setSubject(options.sub)
      .setIssuer(options.issuer ?? this.issuer)
      .setAudience(options.audience ?? this.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + (options.expiresIn ?? 300))
      .sign(key.privateKey);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    if (this.mode === 'hang') {
      this.hanging.add(res);
      return;
    }
    if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [...this.keys.values()].map(publicJwk) }));
  }
}
