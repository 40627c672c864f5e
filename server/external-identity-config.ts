// Configuration of the app's own identity provider (issue "external identity"):
// which tokens besides Roomcast's own are accepted, and how their claims map
// to a Roomcast user. A leaf like config.ts, which builds it: a bad value
// stops the start with one line naming its variable.
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';

/** Algorithms an external token may use, per key type: never `none`, never HS256 with a public key. */
export const EXTERNAL_PUBLIC_KEY_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type ExternalPublicKeyAlgorithm = (typeof EXTERNAL_PUBLIC_KEY_ALGORITHMS)[number];

export type ExternalKeySource =
  | { kind: 'jwks'; url: URL; timeoutMs: number; cooldownMs: number; cacheMaxAgeMs: number }
  | { kind: 'public-key'; key: KeyObject; algorithm: ExternalPublicKeyAlgorithm }
  | { kind: 'secret'; key: KeyObject };

export interface ExternalIdentityConfig {
  /** The `iss` its tokens carry (required: users are keyed by issuer and subject). */
  readonly issuer: string;
  /** The `aud` its tokens must carry; null: not checked (a PEM key or secret given to Roomcast alone). */
  readonly audience: string | null;
  readonly keys: ExternalKeySource;
  /** Claim (dotted path) the username of a new user comes from. */
  readonly usernameClaim: string;
  /** Claim (dotted path) whose value `admin` (or a list holding it) makes an admin; null: roles stay Roomcast's. */
  readonly roleClaim: string | null;
}

export interface ExternalIdentityInput {
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
  publicKeyPem: string | null;
  secret: string | null;
  usernameClaim: string;
  roleClaim: string | null;
  jwksTimeoutMs: number;
  jwksCooldownMs: number;
  jwksCacheMaxAgeMs: number;
}

/** A variable that cannot be used; `variable` names it. */
export class ExternalIdentityConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
  }
}

/** Roomcast's own tokens' issuer: an app's provider may not claim it. */
export const OWN_ISSUER = 'roomcast';

/** Null when no provider is configured; throws ExternalIdentityConfigError naming the variable at fault. */
export function externalIdentityConfig(input: ExternalIdentityInput): ExternalIdentityConfig | null {
  const sources = [['AUTH_JWKS_URL', input.jwksUrl], ['AUTH_JWT_PUBLIC_KEY', input.publicKeyPem], ['AUTH_JWT_SECRET', input.secret]] as const;
  const given = sources.filter(([, value]) => value);
  if (given.length === 0) {
    for (const [variable, value] of [['AUTH_JWT_ISSUER', input.issuer], ['AUTH_JWT_AUDIENCE', input.audience], ['AUTH_ROLE_CLAIM', input.roleClaim]] as const) {
      if (value) throw new ExternalIdentityConfigError(variable, 'needs AUTH_JWKS_URL, AUTH_JWT_PUBLIC_KEY or AUTH_JWT_SECRET');
    }
    return null;
  }
  if (given.length > 1) throw new ExternalIdentityConfigError(given[1]![0], `cannot be set together with ${given[0]![0]}; give one key source`);
  if (!input.issuer) throw new ExternalIdentityConfigError('AUTH_JWT_ISSUER', 'is required with an external identity provider');
  if (input.issuer === OWN_ISSUER) throw new ExternalIdentityConfigError('AUTH_JWT_ISSUER', `must not be "${OWN_ISSUER}", the issuer of Roomcast's own tokens`);
  return Object.freeze({
    issuer: input.issuer,
    audience: input.audience,
    keys: keySource(input),
    usernameClaim: input.usernameClaim,
    roleClaim: input.roleClaim,
  });
}

function keySource(input: ExternalIdentityInput): ExternalKeySource {
  if (input.jwksUrl) {
    let url: URL;
    try {
      url = new URL(input.jwksUrl);
    } catch {
      throw new ExternalIdentityConfigError('AUTH_JWKS_URL', 'is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ExternalIdentityConfigError('AUTH_JWKS_URL', 'must be an https:// (or http://) URL');
    // Any service of the provider would do for a token without an audience.
    if (!input.audience) throw new ExternalIdentityConfigError('AUTH_JWT_AUDIENCE', 'is required with AUTH_JWKS_URL');
    return { kind: 'jwks', url, timeoutMs: input.jwksTimeoutMs, cooldownMs: input.jwksCooldownMs, cacheMaxAgeMs: input.jwksCacheMaxAgeMs };
  }
  if (input.publicKeyPem) {
    if (/PRIVATE KEY/.test(input.publicKeyPem)) throw new ExternalIdentityConfigError('AUTH_JWT_PUBLIC_KEY', 'must be a public key, not a private one');
    let key: KeyObject;
    try {
      key = createPublicKey(input.publicKeyPem.replace(/\\n/g, '\n'));
    } catch {
      throw new ExternalIdentityConfigError('AUTH_JWT_PUBLIC_KEY', 'is not a PEM public key');
    }
    return { kind: 'public-key', key, algorithm: algorithmOf(key) };
  }
  if (Buffer.byteLength(input.secret!, 'utf8') < 32) throw new ExternalIdentityConfigError('AUTH_JWT_SECRET', 'must be at least 32 characters');
  return { kind: 'secret', key: createSecretKey(Buffer.from(input.secret!, 'utf8')) };
}

/** The one algorithm a public key verifies: RSA (≥ 2048 bits) RS256, EC P-256 ES256, Ed25519 EdDSA. */
function algorithmOf(key: KeyObject): ExternalPublicKeyAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048) return 'RS256';
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  throw new ExternalIdentityConfigError('AUTH_JWT_PUBLIC_KEY', 'must be an RSA key of at least 2048 bits (RS256), an EC P-256 key (ES256) or an Ed25519 key (EdDSA)');
}
