/**
 * Sign-up, refresh and room-creation limits for test nodes (in-process and
 * child processes). The tests register hundreds of users from 127.0.0.1 and
 * let one user create a hundred rooms, which the deployment defaults (10
 * sign-ups per 10 min per IP, 10 rooms per minute per user) would refuse; the
 * tests of those limits set their own values. The history limit keeps its
 * default, so the SDK's catch-up is tested against it.
 *
 * bcrypt runs at its lowest cost (4, ~1 ms a hash instead of ~80 ms at the
 * default 10): the suite registers and signs in well over a thousand times.
 * The same code path runs (hash, compare, dummy hash for an unknown login);
 * the tests whose point is bcrypt's cost (the sign-up flood, the chaos
 * suite's enumeration timing) set BCRYPT_COST back to the default themselves.
 */
export const TEST_LIMITS: Readonly<Record<string, string>> = {
  REGISTRATION_RATE_LIMIT: '100000',
  REGISTRATION_GLOBAL_RATE_LIMIT: '100000',
  REFRESH_RATE_LIMIT: '100000',
  ROOM_CREATE_RATE_LIMIT: '100000',
  MEMBERSHIP_RATE_LIMIT: '100000',
  BCRYPT_COST: '4',
};

/** The deployment's bcrypt cost, for the tests that need a hash to take as long as in production. */
export const PRODUCTION_BCRYPT_COST: Readonly<Record<string, string>> = { BCRYPT_COST: '10' };
