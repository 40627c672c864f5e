// Helpers for the admin and moderation tests: admin sockets, logins, refused
// handshakes and the audit trail, all through the real wire.
import type { Socket } from 'socket.io-client';
import type { RoomcastApp } from '../../server/app.js';
import { randomUUID } from 'node:crypto';
import type { AuditAction, AuditEntry, AuditPage, AuthResponse, BroadcastResult, Message, MessageResult, SessionRevokedEvent, SystemBroadcastEvent } from '../../server/protocol.js';
import { collect, connect, http, membersInRoom, nextEvent, ok, openSocket, registerAdmin, registerUser, waitFor, type AdminClient, type ChatClient, type ConnectOptions } from './util.js';

export const adminSocket = (app: RoomcastApp, token: string) => connect<AdminClient>(app, { token, namespace: '/admin' });

/** Signs in (native mode) and returns the whole answer with its status. */
export const login = (app: RoomcastApp, name: string, password: string) =>
  http<AuthResponse & { error?: { code: string } }>(app, 'POST', '/api/auth/login', { body: { login: name, password, client: 'native' } });

/** Opens a socket that must be refused; resolves with the connect_error's message and data.code. */
export function refusedHandshake(app: RoomcastApp, options: ConnectOptions): Promise<{ message: string; code: unknown }> {
  const socket = openSocket<ChatClient>(app, options);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('handshake was neither accepted nor refused')), 5_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      reject(new Error('handshake was accepted'));
    });
    socket.once('connect_error', (err: Error & { data?: { code?: unknown } }) => {
      clearTimeout(timer);
      resolve({ message: err.message, code: err.data?.code });
    });
  });
}

/** The newest audit entries of one action (read through GET /api/admin/audit). */
export async function auditEntries(app: RoomcastApp, adminToken: string, action: AuditAction, limit = 200): Promise<AuditEntry[]> {
  const res = await http<AuditPage>(app, 'GET', `/api/admin/audit?limit=${limit}`, { token: adminToken });
  if (res.status !== 200) throw new Error(`audit failed: ${res.status}`);
  return res.body.entries.filter((entry) => entry.action === action);
}

/** Resolves with the time `socket` was disconnected by the server (rejects after `timeoutMs`). */
export function serverDisconnect(socket: Socket, timeoutMs = 5_000): Promise<{ at: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (!socket.connected) return reject(new Error('socket is not connected'));
    const timer = setTimeout(() => reject(new Error(`not disconnected within ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason: string) => {
      clearTimeout(timer);
      resolve({ at: Date.now(), reason });
    });
  });
}

/**
 * An admin registered on `adminNode` bans a user (registered on `targetNode`)
 * who has one socket on each of `deviceNodes`. Resolves with the ban's HTTP
 * status, the `session:revoked` each socket got, and how long after the ban
 * each was disconnected by the server (ms).
 */
export async function banAcrossNodes(adminNode: RoomcastApp, targetNode: RoomcastApp, deviceNodes: RoomcastApp[]): Promise<{ status: number; revoked: SessionRevokedEvent[]; goneAfterMs: number[] }> {
  const admin = await registerAdmin(adminNode);
  const target = await registerUser(targetNode);
  const devices = await Promise.all(deviceNodes.map((app) => connect(app, { token: target.accessToken })));
  const revoked = devices.map((socket) => nextEvent<SessionRevokedEvent>(socket, 'session:revoked'));
  const gone = devices.map((socket) => serverDisconnect(socket));

  const started = Date.now();
  const res = await http(adminNode, 'PATCH', `/api/admin/users/${target.user.id}`, { token: admin.accessToken, body: { banned: true } });
  return { status: res.status, revoked: await Promise.all(revoked), goneAfterMs: (await Promise.all(gone)).map(({ at }) => at - started) };
}

/**
 * An admin on `a` broadcasts to three /chat listeners, one on `a` and two on
 * `b`. Resolves with the ack and what each listener got.
 */
export async function broadcastAcrossNodes(a: RoomcastApp, b: RoomcastApp): Promise<{ ack: BroadcastResult; received: SystemBroadcastEvent[] }> {
  const admin = await registerAdmin(a);
  const listeners = await Promise.all([a, b, b].map(async (app) => connect(app, { token: (await registerUser(app)).accessToken })));
  const received = listeners.map((socket) => nextEvent<SystemBroadcastEvent>(socket, 'system:broadcast'));
  const control = await adminSocket(a, admin.accessToken);

  const ack = await ok<BroadcastResult>(control, 'admin:broadcast', { content: 'maintenance at noon' });
  return { ack, received: await Promise.all(received) };
}

/**
 * A sender on `a` and a target and an observer on `b` share a room; after
 * 'before' reached the target, an admin on `a` kicks the target and the
 * sender sends 'after'. Resolves, once the observer (on the target's node:
 * the fan-out happened) has both, with what the target saw and its socket.
 */
export async function kickAcrossNodes(a: RoomcastApp, b: RoomcastApp): Promise<{ seenByTarget: string[]; targetSocket: ChatClient }> {
  const admin = await registerAdmin(a);
  const { room, users: [, target], sockets: [senderSocket, targetSocket, observerSocket] } = await membersInRoom([a, b, b]);
  const seen = collect<Message>(targetSocket, 'message:new');
  const seenByObserver = collect<Message>(observerSocket, 'message:new');
  await ok<MessageResult>(senderSocket, 'message:send', { roomId: room.id, content: 'before', clientMsgId: randomUUID() });
  await waitFor(() => seen.length === 1, 5_000, 'the message before the kick');
  const control = await adminSocket(a, admin.accessToken);

  await ok(control, 'admin:kick', { userId: target.user.id, roomId: room.id });
  await ok<MessageResult>(senderSocket, 'message:send', { roomId: room.id, content: 'after', clientMsgId: randomUUID() });
  await waitFor(() => seenByObserver.length === 2, 5_000, 'the observer to see both messages');
  return { seenByTarget: seen.map((m) => m.content), targetSocket };
}
