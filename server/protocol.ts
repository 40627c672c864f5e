// The server compiles against the SDK's protocol module: one source for every
// wire type. This file is the single place the server reaches into the SDK.
export * from '../client-sdk/src/protocol.js';
