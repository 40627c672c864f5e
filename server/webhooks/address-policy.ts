// Which addresses a webhook may be sent to (SSRF). Judged on the address a
// name resolves to, so a public name pointing at 127.0.0.1 is refused too.
import { lookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** A target refused by the address policy (or not resolvable); its message is safe to show an admin. */
export class TargetRefused extends Error {}

/**
 * Whether `address` is a public unicast address: loopback, private (RFC 1918,
 * unique-local), link-local (cloud metadata lives there), carrier-grade NAT,
 * unspecified, multicast, broadcast and reserved ranges are not. IPv4-mapped
 * IPv6 is judged as the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** Refuses `address` unless it is public or private targets are allowed. */
export function checkAddress(address: string, allowPrivate: boolean): void {
  if (!allowPrivate && !isPublicAddress(address)) {
    throw new TargetRefused(`webhook target address ${address} is not public (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it)`);
  }
}

/** The URL's host as an IP literal (brackets off), or null for a name. */
export function literalHost(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http(s) requests that resolves every address of the
 * name and refuses the connection if any of them is not allowed (so a name
 * with one public and one private address cannot be raced to the private one).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    lookup(hostname, { family: options.family ?? 0, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      try {
        if (addresses.length === 0) throw new TargetRefused(`webhook target ${hostname} did not resolve`);
        for (const a of addresses) checkAddress(a.address, allowPrivate);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, '');
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * Refuses a URL whose host is, or now resolves to, an address not allowed
 * (so an admin hears at registration what would be refused at delivery). A
 * name that does not resolve (yet) passes: every delivery resolves and
 * checks again, and a refused attempt is retried like any other failure.
 */
export async function checkTarget(url: URL, allowPrivate: boolean, timeoutMs = 2_000): Promise<void> {
  const literal = literalHost(url);
  if (literal) return checkAddress(literal, allowPrivate);
  const refusal = await new Promise<TargetRefused | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    guardedLookup(allowPrivate)(url.hostname, { all: true }, (err) => {
      clearTimeout(timer);
      resolve(err instanceof TargetRefused ? err : null);
    });
  });
  if (refusal) throw refusal;
}
