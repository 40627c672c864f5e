import winston from 'winston';

export type Logger = winston.Logger;

const SECRET_KEY = /pass(word)?|token|secret|authorization|cookie/i;

/** Replaces the value of any field whose name looks secret, at any depth. */
const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const value = info[key];
    if (SECRET_KEY.test(key)) info[key] = '[redacted]';
    else if (value && typeof value === 'object' && !(value instanceof Error)) info[key] = redact(value);
  }
  return info;
});

function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]),
  );
}

/**
 * The process's one logger: JSON lines on stdout. Request and socket code
 * logs through `logger.child({ requestId | socketId, userId })`.
 */
export function createLogger(level: string, nodeId: string): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { node: nodeId },
    format: winston.format.combine(
      redactSecrets(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}
