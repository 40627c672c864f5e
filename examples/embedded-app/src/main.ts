// Starts the example backend from the environment:
//   PORT, APP_ISSUER, APP_AUDIENCE, ROOMCAST_URL, ROOMCAST_API_KEY,
//   ROOMCAST_WEBHOOK_SECRET, BEFORE_PUBLISH_SECRET (optional).
import { startBackend } from './backend.js';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const { url } = await startBackend({
  port: Number(process.env.PORT ?? 4000),
  issuer: required('APP_ISSUER'),
  audience: required('APP_AUDIENCE'),
  roomcastUrl: required('ROOMCAST_URL'),
  apiKey: required('ROOMCAST_API_KEY'),
  webhookSecret: required('ROOMCAST_WEBHOOK_SECRET'),
  ...(process.env.BEFORE_PUBLISH_SECRET ? { beforePublishSecret: process.env.BEFORE_PUBLISH_SECRET } : {}),
});
console.log(`example backend listening on ${url}`);
