// A user of the app chatting through the SDK, signed in by the app's own
// backend (getToken): asks the backend for a room, joins it, sends a message,
// and waits for the backend's announcement. Prints one JSON line per step.
//   BACKEND_URL, ROOMCAST_URL, APP_USER
import { createClient, type Message } from '@roomcast/client';

const backend = process.env.BACKEND_URL ?? 'http://127.0.0.1:4000';
const user = process.env.APP_USER ?? 'alice';
const report = (step: string, data: Record<string, unknown>) => console.log(JSON.stringify({ step, ...data }));

const client = createClient({
  url: process.env.ROOMCAST_URL ?? 'http://127.0.0.1:3000',
  // The one line that plugs the app's sign-in in: called at connect, before expiry and after token_expired.
  getToken: async () => ((await (await fetch(`${backend}/roomcast-token?user=${user}`)).json()) as { token: string }).token,
});

const post = async (path: string, body: unknown) => (await fetch(`${backend}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();

try {
  const { room: created } = (await post('/rooms', { name: `support-${user}-${Date.now()}` })) as { room: { id: string } };
  const room = await client.join(created.id);
  const history = await room.history();
  report('joined', { roomId: room.id, history: history.messages.map((m) => m.content) });

  const mine = await room.send(`hello from ${user}`);
  report('sent', { seq: mine.seq, username: mine.username, id: mine.id });

  try {
    await room.send('this has a forbidden-word in it');
    report('blocked', { code: null });
  } catch (err) {
    report('blocked', { code: (err as { code?: string }).code ?? String(err) });
  }

  const announced = new Promise<Message>((resolve) => room.on('message', (m: Message) => m.content.startsWith('Announcement') && resolve(m)));
  await post('/announce', { roomId: room.id, text: `Announcement for ${user}` });
  const heard = await announced;
  report('announcement', { content: heard.content, username: heard.username, seq: heard.seq });
} finally {
  client.close();
}
