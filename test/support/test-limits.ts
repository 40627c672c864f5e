/**
 * Sign-up, refresh and room-creation limits for test nodes (in-process and
 * child processes). The tests register hundreds of users from 127.0.0.1 and
 * let one user create a hundred rooms, which the deployment defaults (10
 * sign-ups per 10 min per IP, 10 rooms per minute per user) would refuse; the
 * tests of those limits set their own values. The history limit keeps its
 * default, so the SDK's catch-up is tested against it.
 */
export const TEST_LIMITS: Readonly<Record<string, string>> = {
  REGISTRATION_RATE_LIMIT: '100000',
  REGISTRATION_GLOBAL_RATE_LIMIT: '100000',
  REFRESH_RATE_LIMIT: '100000',
  ROOM_CREATE_RATE_LIMIT: '100000',
  MEMBERSHIP_RATE_LIMIT: '100000',
};
