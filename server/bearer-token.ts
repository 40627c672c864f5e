// A leaf, not part of server/auth: the REST middleware, the socket handshake
// and the /metrics guard all read the header, and none of them may pull the
// auth folder (and what it imports) in for it.

/** The bearer token of an `Authorization` header, if any. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match ? match[1]! : null;
}
