import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../server/config.js';

const SECRET = 'config-test-secret-long-enough-for-hs256-signing';

describe('loadConfig', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'roomcast-config-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('when only a secret is given, then every other value is the contract’s default', () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(config).to.deep.include({
      env: 'development',
      port: 3000,
      host: '0.0.0.0',
      databaseUrl: null,
      dataDir: path.resolve('./data'),
      redisUrl: null,
      jwtSecret: SECRET,
      corsOrigins: null,
      logLevel: 'info',
      accessTokenTtl: 900,
      refreshTokenTtl: 7 * 24 * 3600,
      registration: 'open',
      messageRateLimit: 20,
      messageRateWindow: 10,
      loginFailureLimit: 10,
      loginFailureWindow: 900,
      maxMessageLength: 4000,
      maxPacketBytes: 65536,
      maxSocketsPerUser: 20,
      maxRoomsPerSocket: 100,
      maxSocketBufferBytes: 8 * 1024 * 1024,
    });
    // Extensions: the sign-up and refresh limits' deployment defaults (docs/security.md).
    expect(config).to.deep.include({
      registrationRateLimit: 10,
      registrationRateWindow: 600,
      registrationGlobalRateLimit: 300,
      refreshRateLimit: 60,
      refreshRateWindow: 60,
      drainGraceMs: 3000,
      // Issue 19: one process unless WORKERS says otherwise.
      workers: 1,
      bcryptCost: 10,
    });
    expect(config.nodeId).to.match(/^node-[0-9a-f]{8}$/);
  });

  it('when values are given, then they are parsed to their types', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      NODE_ENV: 'production',
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://u@db:5432/chat',
      REDIS_URL: 'redis://cache:6379',
      LOG_LEVEL: 'debug',
      ACCESS_TOKEN_TTL: '60',
      REFRESH_TOKEN_TTL: '3600',
      REGISTRATION: 'closed',
      MESSAGE_RATE_LIMIT: '0',
      MESSAGE_RATE_WINDOW: '5',
      LOGIN_FAILURE_LIMIT: '3',
      LOGIN_FAILURE_WINDOW: '60',
      REGISTRATION_RATE_LIMIT: '0',
      REGISTRATION_RATE_WINDOW: '120',
      REGISTRATION_GLOBAL_RATE_LIMIT: '50',
      REFRESH_RATE_LIMIT: '7',
      REFRESH_RATE_WINDOW: '30',
      MAX_MESSAGE_LENGTH: '100',
      MAX_PACKET_BYTES: '2048',
      MAX_SOCKETS_PER_USER: '0',
      MAX_ROOMS_PER_SOCKET: '7',
      MAX_SOCKET_BUFFER_BYTES: '0',
      DRAIN_GRACE_MS: '1500',
      NODE_ID: 'node-a',
    });
    expect(config).to.deep.include({
      env: 'production',
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: 'postgres://u@db:5432/chat',
      dataDir: null,
      redisUrl: 'redis://cache:6379',
      logLevel: 'debug',
      accessTokenTtl: 60,
      refreshTokenTtl: 3600,
      registration: 'closed',
      messageRateLimit: 0,
      messageRateWindow: 5,
      loginFailureLimit: 3,
      loginFailureWindow: 60,
      registrationRateLimit: 0,
      registrationRateWindow: 120,
      registrationGlobalRateLimit: 50,
      refreshRateLimit: 7,
      refreshRateWindow: 30,
      maxMessageLength: 100,
      maxPacketBytes: 2048,
      maxSocketsPerUser: 0,
      maxRoomsPerSocket: 7,
      maxSocketBufferBytes: 0,
      drainGraceMs: 1500,
      nodeId: 'node-a',
    });
  });

  it('when DATABASE_URL is "memory", then the embedded database has no folder', () => {
    const config = loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: 'memory' });
    expect(config.databaseUrl).to.equal(null);
    expect(config.dataDir).to.equal(null);
  });

  it('when a variable is empty, then it counts as unset', () => {
    const config = loadConfig({ JWT_SECRET: SECRET, PORT: '', CORS_ORIGINS: '', REDIS_URL: '' });
    expect(config.port).to.equal(3000);
    expect(config.corsOrigins).to.equal(null);
    expect(config.redisUrl).to.equal(null);
  });

  const bad: [string, string][] = [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '1.5'],
    ['NODE_ENV', 'staging'],
    ['DATABASE_URL', 'mysql://db/chat'],
    ['REDIS_URL', 'http://cache'],
    ['REDIS_CLUSTER_NODES', 'cache-without-port'],
    ['REDIS_CLUSTER_NODES', 'a:7000,http://b:7001'],
    ['REDIS_CLUSTER_NODES', ' , '],
    ['JWT_SECRET', 'too-short'],
    ['LOG_LEVEL', 'loud'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['ACCESS_TOKEN_TTL', '15m'],
    ['REFRESH_TOKEN_TTL', '-5'],
    ['REGISTRATION', 'maybe'],
    ['MESSAGE_RATE_LIMIT', '-1'],
    ['MESSAGE_RATE_WINDOW', '0'],
    ['LOGIN_FAILURE_LIMIT', 'ten'],
    ['LOGIN_FAILURE_WINDOW', '0'],
    ['BCRYPT_COST', '3'],
    ['BCRYPT_COST', '16'],
    ['REGISTRATION_RATE_LIMIT', '-1'],
    ['REGISTRATION_RATE_WINDOW', '0'],
    ['REGISTRATION_GLOBAL_RATE_LIMIT', 'many'],
    ['REFRESH_RATE_LIMIT', '1.5'],
    ['REFRESH_RATE_WINDOW', '0'],
    ['MAX_MESSAGE_LENGTH', '0'],
    ['MAX_PACKET_BYTES', '100'],
    ['MAX_SOCKETS_PER_USER', '-1'],
    ['MAX_ROOMS_PER_SOCKET', 'many'],
    ['MAX_SOCKET_BUFFER_BYTES', '-1'],
    // Above 5 s the grace could push a shutdown past the contract's 10 s.
    ['DRAIN_GRACE_MS', '6000'],
    ['DRAIN_GRACE_MS', '-1'],
    ['CORS_ORIGINS', 'not an origin'],
    ['WORKERS', '0'],
    ['WORKERS', 'all'],
    ['WORKERS', '1.5'],
    ['CORS_ORIGINS', 'http://ok.example,http://bad.example/path'],
  ];
  for (const [name, value] of bad) {
    it(`when ${name}=${JSON.stringify(value)}, then it throws a ConfigError naming ${name}`, () => {
      const attempt = () => loadConfig({ JWT_SECRET: SECRET, DATA_DIR: dataDir, [name]: value });
      expect(attempt).to.throw(ConfigError, name);
      try {
        attempt();
      } catch (err) {
        expect((err as Error).message.split('\n')).to.have.length(1);
      }
    });
  }

  it('when REDIS_CLUSTER_NODES lists host:port and URLs, then each becomes a redis URL; with REDIS_URL too, the start fails', () => {
    const config = loadConfig({ JWT_SECRET: SECRET, REDIS_CLUSTER_NODES: ' r1:7000, rediss://user:pw@r2:7001 ,' });
    expect(config.redisClusterNodes).to.deep.equal(['redis://r1:7000', 'rediss://user:pw@r2:7001']);
    expect(config.redisUrl).to.equal(null);
    expect(() => loadConfig({ JWT_SECRET: SECRET, REDIS_URL: 'redis://one:6379', REDIS_CLUSTER_NODES: 'r1:7000' })).to.throw(ConfigError, 'not both');
  });

  it('when WORKERS is a number or auto, then it is the worker count; above 1 it needs PostgreSQL and Redis, and says so', () => {
    const shared = { JWT_SECRET: SECRET, DATABASE_URL: 'postgres://db/chat', REDIS_URL: 'redis://cache:6379' };
    expect(loadConfig({ ...shared, WORKERS: '4' }).workers).to.equal(4);
    expect(loadConfig({ ...shared, WORKERS: 'auto' }).workers).to.equal(availableParallelism());
    expect(loadConfig({ ...shared, WORKERS: '2', REDIS_URL: '', REDIS_CLUSTER_NODES: 'r1:7000' }).workers).to.equal(2);
    // One worker is one process: nothing shared is needed.
    expect(loadConfig({ JWT_SECRET: SECRET, WORKERS: '1' }).workers).to.equal(1);
    expect(() => loadConfig({ ...shared, WORKERS: '2', DATABASE_URL: '' })).to.throw(ConfigError, 'WORKERS=2 needs DATABASE_URL');
    expect(() => loadConfig({ ...shared, WORKERS: '2', DATABASE_URL: 'memory' })).to.throw(ConfigError, 'WORKERS=2 needs DATABASE_URL');
    expect(() => loadConfig({ ...shared, WORKERS: '2', REDIS_URL: '' })).to.throw(ConfigError, 'WORKERS=2 needs REDIS_URL or REDIS_CLUSTER_NODES');
  });

  it('when NODE_ENV=production has no JWT_SECRET, then it throws a ConfigError naming JWT_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir })).to.throw(ConfigError, 'JWT_SECRET');
    expect(existsSync(path.join(dataDir, 'jwt-secret'))).to.equal(false);
  });

  it('when no JWT_SECRET is set outside production, then one is generated once, kept in DATA_DIR and reused, with a warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const first = loadConfig({ DATA_DIR: dataDir });
      const second = loadConfig({ DATA_DIR: dataDir });
      const file = path.join(dataDir, 'jwt-secret');
      expect(first.jwtSecret).to.have.length.of.at.least(32);
      expect(second.jwtSecret).to.equal(first.jwtSecret);
      expect(readFileSync(file, 'utf8').trim()).to.equal(first.jwtSecret);
      expect(statSync(file).mode & 0o077).to.equal(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('JWT_SECRET'))).to.have.length(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('when CORS_ORIGINS lists origins, then they are split, trimmed, stripped of a trailing slash, and frozen', () => {
    const config = loadConfig({ JWT_SECRET: SECRET, CORS_ORIGINS: ' http://a.example , https://b.example:8443/,,http://localhost:3000' });
    expect(config.corsOrigins).to.deep.equal(['http://a.example', 'https://b.example:8443', 'http://localhost:3000']);
    expect(Object.isFrozen(config.corsOrigins)).to.equal(true);
  });

  it('when the transport settings are unset, then loopback is the only trusted proxy and slow clients are bounded', () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(config).to.deep.include({ httpHeadersTimeoutMs: 10_000, httpRequestTimeoutMs: 30_000, maxConnectionsPerIp: 256 });
    expect(config.trustProxy).to.deep.equal(['loopback']);
    expect(Object.isFrozen(config.trustProxy)).to.equal(true);
  });

  it('when TRUST_PROXY is a list or none, then it is split and trimmed, or empty', () => {
    expect(loadConfig({ JWT_SECRET: SECRET, TRUST_PROXY: ' loopback, 10.0.0.0/8 ,fd00::1' }).trustProxy).to.deep.equal(['loopback', '10.0.0.0/8', 'fd00::1']);
    expect(loadConfig({ JWT_SECRET: SECRET, TRUST_PROXY: 'none' }).trustProxy).to.deep.equal([]);
  });

  const badTransport: [string, string][] = [
    ['TRUST_PROXY', 'proxy.example'],
    ['TRUST_PROXY', '10.0.0.0/99'],
    ['HTTP_HEADERS_TIMEOUT_MS', '50'],
    ['HTTP_REQUEST_TIMEOUT_MS', 'soon'],
    ['HTTP_HEADERS_TIMEOUT_MS', '40000'],
    ['MAX_CONNECTIONS_PER_IP', '-1'],
  ];
  for (const [name, value] of badTransport) {
    it(`when ${name}=${JSON.stringify(value)}, then it throws a one-line ConfigError naming ${name}`, () => {
      const attempt = () => loadConfig({ JWT_SECRET: SECRET, DATA_DIR: dataDir, [name]: value });
      expect(attempt).to.throw(ConfigError, name);
      expect(attempt).to.throw(/^[^\n]+$/);
    });
  }

  it('when the config is built, then it is frozen', () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(Object.isFrozen(config)).to.equal(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).to.throw(TypeError);
  });

  const pem = (key: { export(options: { format: 'pem'; type: 'pkcs8' | 'spki' }): string | Buffer }, type: 'pkcs8' | 'spki') => key.export({ format: 'pem', type }).toString();

  describe('access token keys (JWT_ALGORITHM, JWT_PRIVATE_KEY, JWT_KEY_ID, JWT_PREVIOUS_PUBLIC_KEYS)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ed = generateKeyPairSync('ed25519');
    const otherEd = generateKeyPairSync('ed25519');
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

    it('when nothing is set, then access tokens are HS256 with JWT_SECRET and no key is published', () => {
      const { accessTokenKeys } = loadConfig({ JWT_SECRET: SECRET });
      expect(accessTokenKeys).to.deep.include({ algorithm: 'HS256', keyId: null, publicKeys: [] });
    });

    it('when EdDSA has a key id and two previous PEMs, then the signing key comes first and the previous keys get their thumbprints', () => {
      const { accessTokenKeys, jwtSecret } = loadConfig({
        NODE_ENV: 'production',
        DATA_DIR: dataDir,
        JWT_ALGORITHM: 'EdDSA',
        JWT_PRIVATE_KEY: pem(ed.privateKey, 'pkcs8').replace(/\n/g, '\\n'),
        JWT_KEY_ID: 'ed-2026-11',
        JWT_PREVIOUS_PUBLIC_KEYS: pem(rsa.publicKey, 'spki') + pem(otherEd.publicKey, 'spki'),
      });
      // No secret needed, and none generated into DATA_DIR.
      expect(jwtSecret).to.equal(null);
      expect(existsSync(path.join(dataDir, 'jwt-secret'))).to.equal(false);
      expect(accessTokenKeys.keyId).to.equal('ed-2026-11');
      expect(accessTokenKeys.publicKeys.map(({ kid, alg }) => [kid.length, alg])).to.deep.equal([[10, 'EdDSA'], [43, 'RS256'], [43, 'EdDSA']]);
      expect(accessTokenKeys.publicKeys[0]).to.include({ x: ed.publicKey.export({ format: 'jwk' }).x, use: 'sig' });
    });

    const bad: [string, Record<string, string>, string][] = [
      ['RS256 without a private key', { JWT_ALGORITHM: 'RS256' }, 'JWT_PRIVATE_KEY'],
      ['an algorithm not offered', { JWT_ALGORITHM: 'ES256' }, 'JWT_ALGORITHM'],
      ['a private key that is no PEM', { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: 'not a key' }, 'JWT_PRIVATE_KEY'],
      ['an RSA key for EdDSA', { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: pem(rsa.privateKey, 'pkcs8') }, 'JWT_PRIVATE_KEY'],
      ['an RSA key of 1024 bits', { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pem(weakRsa.privateKey, 'pkcs8') }, 'JWT_PRIVATE_KEY'],
      ['an EC key', { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pem(ec.privateKey, 'pkcs8') }, 'JWT_PRIVATE_KEY'],
      ['a private key under HS256', { JWT_PRIVATE_KEY: pem(ed.privateKey, 'pkcs8') }, 'JWT_PRIVATE_KEY'],
      ['previous keys under HS256', { JWT_PREVIOUS_PUBLIC_KEYS: pem(ed.publicKey, 'spki') }, 'JWT_PREVIOUS_PUBLIC_KEYS'],
      ['a key id with a space', { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: pem(ed.privateKey, 'pkcs8'), JWT_KEY_ID: 'my key' }, 'JWT_KEY_ID'],
      ['a private key among the previous ones', { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: pem(ed.privateKey, 'pkcs8'), JWT_PREVIOUS_PUBLIC_KEYS: pem(otherEd.privateKey, 'pkcs8') }, 'JWT_PREVIOUS_PUBLIC_KEYS'],
      ['a previous key under the signing key id', { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: pem(ed.privateKey, 'pkcs8'), JWT_KEY_ID: 'k', JWT_PREVIOUS_PUBLIC_KEYS: JSON.stringify({ k: pem(otherEd.publicKey, 'spki') }) }, 'JWT_PREVIOUS_PUBLIC_KEYS'],
      ['previous keys that are neither PEM nor JSON', { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: pem(ed.privateKey, 'pkcs8'), JWT_PREVIOUS_PUBLIC_KEYS: 'old-key' }, 'JWT_PREVIOUS_PUBLIC_KEYS'],
    ];
    for (const [name, env, variable] of bad) {
      it(`when given ${name}, then it throws a one-line ConfigError naming ${variable}`, () => {
        const attempt = () => loadConfig({ JWT_SECRET: SECRET, DATA_DIR: dataDir, ...env });
        expect(attempt).to.throw(ConfigError, variable);
        expect(attempt).to.throw(/^[^\n]+$/);
      });
    }
  });

  describe('external identity (AUTH_*, BUILTIN_AUTH)', () => {
    const ed = generateKeyPairSync('ed25519');
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwks = { AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json', AUTH_JWT_ISSUER: 'https://idp.example/', AUTH_JWT_AUDIENCE: 'roomcast' };

    it('when nothing is set, then there is no provider and built-in accounts are on', () => {
      expect(loadConfig({ JWT_SECRET: SECRET })).to.deep.include({ externalIdentity: null, builtinAuth: true });
    });

    it('when a JWKS URL with issuer and audience is set, then it is the key source with the default claims and JWKS bounds', () => {
      const { externalIdentity, builtinAuth } = loadConfig({ JWT_SECRET: SECRET, ...jwks, BUILTIN_AUTH: 'off' });
      expect(builtinAuth).to.equal(false);
      expect(externalIdentity).to.deep.include({ issuer: 'https://idp.example/', audience: 'roomcast', usernameClaim: 'preferred_username', roleClaim: null });
      expect(externalIdentity!.keys).to.deep.include({ kind: 'jwks', timeoutMs: 3000, cooldownMs: 30000, cacheMaxAgeMs: 600000 });
    });

    it('when a PEM public key is set, then its algorithm follows the key type', () => {
      const { externalIdentity } = loadConfig({ JWT_SECRET: SECRET, AUTH_JWT_PUBLIC_KEY: pem(ed.publicKey, 'spki'), AUTH_JWT_ISSUER: 'app' });
      expect(externalIdentity!.keys).to.include({ kind: 'public-key', algorithm: 'EdDSA' });
    });

    const bad: [string, Record<string, string>, string][] = [
      ['a JWKS URL without an issuer', { AUTH_JWKS_URL: jwks.AUTH_JWKS_URL, AUTH_JWT_AUDIENCE: 'roomcast' }, 'AUTH_JWT_ISSUER'],
      ['a JWKS URL without an audience', { AUTH_JWKS_URL: jwks.AUTH_JWKS_URL, AUTH_JWT_ISSUER: 'https://idp.example/' }, 'AUTH_JWT_AUDIENCE'],
      ['a JWKS URL that is no URL', { ...jwks, AUTH_JWKS_URL: 'idp.example' }, 'AUTH_JWKS_URL'],
      ['two key sources', { ...jwks, AUTH_JWT_SECRET: 'x'.repeat(40) }, 'AUTH_JWT_SECRET'],
      ['a short shared secret', { AUTH_JWT_SECRET: 'short', AUTH_JWT_ISSUER: 'app' }, 'AUTH_JWT_SECRET'],
      ['a private key as the public key', { AUTH_JWT_PUBLIC_KEY: pem(ed.privateKey, 'pkcs8'), AUTH_JWT_ISSUER: 'app' }, 'AUTH_JWT_PUBLIC_KEY'],
      ['a 1024-bit RSA public key', { AUTH_JWT_PUBLIC_KEY: pem(weakRsa.publicKey, 'spki'), AUTH_JWT_ISSUER: 'app' }, 'AUTH_JWT_PUBLIC_KEY'],
      ['Roomcast’s own issuer', { ...jwks, AUTH_JWT_ISSUER: 'roomcast' }, 'AUTH_JWT_ISSUER'],
      ['an issuer without a key source', { AUTH_JWT_ISSUER: 'app' }, 'AUTH_JWT_ISSUER'],
      ['BUILTIN_AUTH=off without a provider', { BUILTIN_AUTH: 'off' }, 'BUILTIN_AUTH'],
      ['BUILTIN_AUTH=maybe', { BUILTIN_AUTH: 'maybe' }, 'BUILTIN_AUTH'],
    ];
    for (const [name, env, variable] of bad) {
      it(`when given ${name}, then it throws a one-line ConfigError naming ${variable}`, () => {
        const attempt = () => loadConfig({ JWT_SECRET: SECRET, DATA_DIR: dataDir, ...env });
        expect(attempt).to.throw(ConfigError, variable);
        expect(attempt).to.throw(/^[^\n]+$/);
      });
    }
  });
});
