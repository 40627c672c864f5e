import { createClient } from 'redis';

/** Deletes every key under `prefix:` (what a test run leaves in a shared Redis). Bounded by SCAN. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    if (client.isOpen) client.destroy();
  }
}
