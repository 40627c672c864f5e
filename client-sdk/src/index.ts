/**
 * @roomcast/client: the typed client SDK of the Roomcast chat server.
 *
 * ```ts
 * import { createClient } from '@roomcast/client';
 * const client = createClient({ url: 'http://localhost:3000' });
 * await client.login('alice', 'correct horse battery');
 * const room = await client.join(roomId);
 * room.on('message', (m) => console.log(`${m.username}: ${m.content}`));
 * await room.send('hello');
 * ```
 * @packageDocumentation
 */
export { createClient, RoomcastClient, type ClientEvents, type JoinOptions, type RoomsApi } from './client.js';
export { Room, type RoomEvents, type SendOptions } from './room.js';
export type { RetentionPoint } from './room-sequencer.js';
export type { MessageDeleted } from './seq-release.js';
export { Thread, type ThreadEvents } from './thread.js';
export type { ReactionUpdate } from './reactions.js';
export { AdminApi } from './admin.js';
export { State, type ConnectionState, type StateChange, type Transport } from './connection.js';
export { RoomcastError, endsSession, type LocalFailure } from './errors.js';
export { Emitter, type Listener } from './emitter.js';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.js';
export type { ClientOptions } from './options.js';
export type { UrlOption } from './endpoints.js';
export type { Credentials, GetToken, RefreshMode } from './session.js';
export { MemoryTokenStorage, type TokenStorage } from './token-storage.js';
export type { FetchLike } from './rest-api.js';
export { SESSION_ENDING_CODES, isSessionEnding, type CloseReason, type RetryReason, type SessionEndingCode } from './reasons.js';
// Every wire type, the room's as `RoomInfo`. The protocol's deprecated `Room`
// alias is left out here: an explicit export wins over `export *`, so `Room`
// from this entry point is always the joined-room class above.
export * from './protocol.js';
