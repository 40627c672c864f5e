// Helpers for the admin and moderation tests: admin sockets, logins, refused
// handshakes and the audit trail, all through the real wire.
import type { Socket } from 'socket.io-client';
import type { RoomcastApp } from '../../server/app.js';
import type { AuditAction, AuditEntry, AuditPage, AuthResponse, SessionRevokedEvent } from '../../server/protocol.js';
import { connect, http, nextEvent, openSocket, registerAdmin, registerUser, type AdminClient, type ChatClient, type ConnectOptions } from './util.js';

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
