// The app's identity side: one EdDSA key pair, a JWKS for Roomcast to fetch
// (AUTH_JWKS_URL), and short-lived tokens for the app's signed-in users.
import { exportJWK, generateKeyPair, SignJWT, type JWK, type CryptoKey } from 'jose';

export interface TokenIssuer {
  /** The public keys, served at /.well-known/jwks.json. */
  jwks(): { keys: JWK[] };
  /** A Roomcast token for one of the app's users (`sub` = the app's own user id). */
  issue(user: { id: string; handle: string }): Promise<string>;
}

export async function createTokenIssuer(issuer: string, audience: string, kid = 'app-key-1'): Promise<TokenIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  return {
    jwks: () => ({ keys: [publicJwk] }),
    issue: (user) => sign(privateKey as CryptoKey, kid, issuer, audience, user),
  };
}

function sign(key: CryptoKey, kid: string, issuer: string, audience: string, user: { id: string; handle: string }): Promise<string> {
  return new SignJWT({ preferred_username: user.handle })
    .setProtectedHeader({ alg: 'EdDSA', kid })
    .setSubject(user.id)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
}
