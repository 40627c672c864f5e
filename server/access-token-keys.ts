// The keys of Roomcast's own access tokens, read from configuration once:
// HS256 with JWT_SECRET (the default), or an RS256/EdDSA key pair whose
// public half (and those of earlier pairs, during a rotation) other services
// verify tokens with. A leaf like config.ts, which builds it: a bad key stops
// the start with one line naming its variable.
import { createHash, createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';

export const ACCESS_TOKEN_ALGORITHMS = ['HS256', 'RS256', 'EdDSA'] as const;
export type AccessTokenAlgorithm = (typeof ACCESS_TOKEN_ALGORITHMS)[number];
export type AsymmetricAlgorithm = Exclude<AccessTokenAlgorithm, 'HS256'>;

/** One public key as published at /.well-known/jwks.json (RFC 7517), pinned to its algorithm. */
export interface PublicJwk {
  kty: 'RSA' | 'OKP';
  kid: string;
  alg: AsymmetricAlgorithm;
  use: 'sig';
  /** RSA modulus and exponent. */
  n?: string;
  e?: string;
  /** OKP curve (Ed25519) and public key. */
  crv?: string;
  x?: string;
}

export interface AccessTokenKeys {
  readonly algorithm: AccessTokenAlgorithm;
  /** HS256: the shared secret; RS256/EdDSA: the private key. */
  readonly signingKey: KeyObject;
  /** The `kid` put in every token's header; null under HS256 (no key is published). */
  readonly keyId: string | null;
  /**
   * The keys tokens are verified with and that are published: the signing
   * key's public half first, then JWT_PREVIOUS_PUBLIC_KEYS. Empty under HS256.
   */
  readonly publicKeys: readonly PublicJwk[];
}

export interface AccessTokenKeyInput {
  algorithm: AccessTokenAlgorithm;
  /** JWT_SECRET (HS256 only). */
  secret: string | null;
  /** JWT_PRIVATE_KEY: a PKCS#8 (or PKCS#1 RSA) PEM. */
  privateKeyPem: string | null;
  /** JWT_KEY_ID; unset: the key's RFC 7638 thumbprint. */
  keyId: string | null;
  /** JWT_PREVIOUS_PUBLIC_KEYS: PEM blocks one after the other, or JSON `{ "kid": "PEM" }`. */
  previousPublicKeys: string | null;
}

/** A key variable that cannot be used; `variable` names it. */
export class AccessTokenKeyError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
  }
}

const KEY_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const MIN_RSA_BITS = 2048;

/** Reads the key variables; throws AccessTokenKeyError naming the variable at fault. */
export function accessTokenKeys(input: AccessTokenKeyInput): AccessTokenKeys {
  if (input.algorithm === 'HS256') {
    for (const [variable, value] of [['JWT_PRIVATE_KEY', input.privateKeyPem], ['JWT_KEY_ID', input.keyId], ['JWT_PREVIOUS_PUBLIC_KEYS', input.previousPublicKeys]] as const) {
      if (value) throw new AccessTokenKeyError(variable, 'is only used with JWT_ALGORITHM=RS256 or EdDSA');
    }
    if (!input.secret) throw new AccessTokenKeyError('JWT_SECRET', 'is required with JWT_ALGORITHM=HS256');
    return Object.freeze({ algorithm: 'HS256', signingKey: createSecretKey(Buffer.from(input.secret, 'utf8')), keyId: null, publicKeys: Object.freeze([]) });
  }
  if (!input.privateKeyPem) throw new AccessTokenKeyError('JWT_PRIVATE_KEY', `is required with JWT_ALGORITHM=${input.algorithm}`);
  let signingKey: KeyObject;
  try {
    signingKey = createPrivateKey(unescapeNewlines(input.privateKeyPem));
  } catch {
    throw new AccessTokenKeyError('JWT_PRIVATE_KEY', 'is not a PEM private key');
  }
  if (input.keyId !== null && !KEY_ID.test(input.keyId)) throw new AccessTokenKeyError('JWT_KEY_ID', 'must be 1-128 of A-Z a-z 0-9 _ . : -');
  const current = publicJwk(createPublicKey(signingKey), input.keyId, 'JWT_PRIVATE_KEY');
  if (current.alg !== input.algorithm) {
    throw new AccessTokenKeyError('JWT_PRIVATE_KEY', `is a key for ${current.alg}, not for JWT_ALGORITHM=${input.algorithm}`);
  }
  const previous = input.previousPublicKeys ? previousKeys(input.previousPublicKeys) : [];
  const kids = new Set([current.kid]);
  for (const key of previous) {
    if (kids.has(key.kid)) throw new AccessTokenKeyError('JWT_PREVIOUS_PUBLIC_KEYS', `has key id "${key.kid}" twice (or the signing key's)`);
    kids.add(key.kid);
  }
  return Object.freeze({
    algorithm: input.algorithm,
    signingKey,
    keyId: current.kid,
    publicKeys: Object.freeze([current, ...previous].map((jwk) => Object.freeze(jwk))),
  });
}

/** PEM blocks one after the other (kid: each one's thumbprint), or a JSON object of kid → PEM. */
function previousKeys(value: string): PublicJwk[] {
  // JSON keeps its own \n escapes; only PEM blocks on one line need them undone here.
  const text = value.trim();
  const named: [string | null, string][] = [];
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AccessTokenKeyError('JWT_PREVIOUS_PUBLIC_KEYS', 'is neither PEM public keys nor a JSON object of key id to PEM');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new AccessTokenKeyError('JWT_PREVIOUS_PUBLIC_KEYS', 'must be a JSON object of key id to PEM');
    }
    for (const [kid, pem] of Object.entries(parsed)) {
      if (!KEY_ID.test(kid)) throw new AccessTokenKeyError('JWT_PREVIOUS_PUBLIC_KEYS', `has key id "${kid}"; use 1-128 of A-Z a-z 0-9 _ . : -`);
      if (typeof pem !== 'string') throw new AccessTokenKeyError('JWT_PREVIOUS_PUBLIC_KEYS', `has a key "${kid}" that is not a PEM string`);
      named.push([kid, unescapeNewlines(pem)]);
    }
  } else {
    const blocks = unescapeNewlines(text).match(PEM_BLOCK) ?? [];
    if (blocks.length === 0) throw new AccessTokenKeyError('JWT_PREVIOUS_PUBLIC_KEYS', 'has no PEM public key');
    for (const block of blocks) named.push([null, block]);
  }
  return named.map(([kid, pem]) => {
    // A private key here would be a secret in a variable documented as public.
    if (/PRIVATE KEY/.test(pem)) throw new AccessTokenKeyError('JWT_PREVIOUS_PUBLIC_KEYS', 'must hold public keys only, not private keys');
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new AccessTokenKeyError('JWT_PREVIOUS_PUBLIC_KEYS', `has ${kid ? `key "${kid}", which is` : 'a block that is'} not a PEM public key`);
    }
    return publicJwk(key, kid, 'JWT_PREVIOUS_PUBLIC_KEYS');
  });
}

/** The JWK of an RSA (≥ 2048 bits, for RS256) or Ed25519 (for EdDSA) public key; other kinds are refused. */
function publicJwk(key: KeyObject, kid: string | null, variable: string): PublicJwk {
  const jwk = key.export({ format: 'jwk' });
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) throw new AccessTokenKeyError(variable, `has an RSA key under ${MIN_RSA_BITS} bits`);
    const fields = { e: jwk.e!, kty: 'RSA' as const, n: jwk.n! };
    return { ...fields, kid: kid ?? thumbprint(fields), alg: 'RS256', use: 'sig' };
  }
  if (key.asymmetricKeyType === 'ed25519') {
    const fields = { crv: 'Ed25519', kty: 'OKP' as const, x: jwk.x! };
    return { ...fields, kid: kid ?? thumbprint(fields), alg: 'EdDSA', use: 'sig' };
  }
  throw new AccessTokenKeyError(variable, `has a ${key.asymmetricKeyType ?? 'unknown'} key; use RSA (RS256) or Ed25519 (EdDSA)`);
}

/**
 * The RFC 7638 thumbprint: SHA-256 of the key's required members in
 * lexicographic order (the callers build them in that order), base64url.
 */
function thumbprint(requiredMembers: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(requiredMembers)).digest('base64url');
}

/** A PEM put on one line in an environment file, with `\n` for its line breaks. */
function unescapeNewlines(value: string): string {
  return value.replace(/\\n/g, '\n');
}
