import type { PublicJwk } from '../../access-token-keys.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';

/** How long a verifier may keep the key set: a rotation publishes the next key at least this long before signing with it. */
export const JWKS_MAX_AGE_SECONDS = 300;

/** GET /.well-known/jwks.json: the public keys of Roomcast's access tokens, for other services to verify them. */
export function jwksRoutes(publicKeys: readonly PublicJwk[]): Route[] {
  const body = { keys: publicKeys.map((jwk) => ({ ...jwk })) };
  return [
    route({
      method: 'get', path: '/.well-known/jwks.json', tag: 'auth', access: 'anyone',
      summary: 'The public keys access tokens are verified with (JWKS, RFC 7517); empty under HS256',
      description:
        'With JWT_ALGORITHM RS256 or EdDSA, every access token carries the `kid` of one of these keys. ' +
        `Verifiers may cache the set for ${JWKS_MAX_AGE_SECONDS} s and should fetch it again on an unknown \`kid\`.`,
      success: { status: 200, description: 'The key set', schema: R.jwkSetSchema },
      handle: (_input, { res }) => {
        res.set('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
        return body;
      },
    }),
  ];
}
