import type { Namespace, Server, Socket } from 'socket.io';
import type {
  AdminClientToServerEvents,
  AdminServerToClientEvents,
  ChatClientToServerEvents,
  ChatServerToClientEvents,
  InterServerEvents,
  SocketData,
} from '../protocol.js';

export type RoomcastServer = Server<ChatClientToServerEvents, ChatServerToClientEvents, InterServerEvents, SocketData>;
export type ChatNamespace = Namespace<ChatClientToServerEvents, ChatServerToClientEvents, InterServerEvents, SocketData>;
export type ChatSocket = Socket<ChatClientToServerEvents, ChatServerToClientEvents, InterServerEvents, SocketData>;
export type AdminNamespace = Namespace<AdminClientToServerEvents, AdminServerToClientEvents, InterServerEvents, SocketData>;
export type AdminSocket = Socket<AdminClientToServerEvents, AdminServerToClientEvents, InterServerEvents, SocketData>;
export type AnySocket = ChatSocket | AdminSocket;
