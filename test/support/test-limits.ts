/**
 * Sign-up and refresh limits for test nodes (in-process and child processes).
 * The tests register hundreds of users from 127.0.0.1, which the deployment
 * defaults (10 sign-ups per 10 min per IP) would refuse; the tests of those
 * limits set their own values.
 */
export const TEST_LIMITS: Readonly<Record<string, string>> = {
  REGISTRATION_RATE_LIMIT: '100000',
  REGISTRATION_GLOBAL_RATE_LIMIT: '100000',
  REFRESH_RATE_LIMIT: '100000',
};
