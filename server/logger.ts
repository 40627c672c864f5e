import winston from 'winston';

export type Logger = winston.Logger;

const SECRET_KEY = /pass(word)?|token|secret|authorization|cookie/i;
/** Secrets that can hide inside free text (an error message, a header echoed in a message). */
const SECRET_TEXT: [RegExp, string][] = [
  [/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[redacted-jwt]'],
  [/roomcast_refresh=[^;\s"]*/gi, '[redacted-cookie]'],
  [/(bearer\s+)[\w.~+/=-]+/gi, '$1[redacted]'],
];
const MAX_DEPTH = 5;
/** Fields winston itself sets; never secret. */
const OWN_FIELDS = new Set(['level', 'timestamp']);

function scrub(text: string): string {
  return SECRET_TEXT.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/**
 * A log-safe copy: fields whose name looks secret are replaced at any depth,
 * strings are scrubbed of tokens, and Errors become plain objects (JSON would
 * otherwise print them as `{}`, losing message and stack).
 */
function clean(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) {
    const { code } = value as { code?: unknown };
    const cause = (value as { cause?: unknown }).cause;
    return {
      name: value.name,
      message: scrub(value.message),
      ...(code !== undefined ? { code: clean(code, depth + 1) } : {}),
      ...(value.stack ? { stack: scrub(value.stack) } : {}),
      ...(cause !== undefined ? { cause: clean(cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : clean(v, depth + 1)]));
}

/** Applies `clean` to every field of a log entry, the message included. */
const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (OWN_FIELDS.has(key)) continue;
    info[key] = SECRET_KEY.test(key) ? '[redacted]' : clean(info[key]);
  }
  return info;
});

/**
 * Drops an entry its logger would not write, before any other format runs.
 * winston runs the whole format chain (here the secret scrubbing's deep copy,
 * the timestamp and the JSON) before its transports drop an entry by level,
 * so without this a disabled info() or debug() cost as much as a written
 * line. The logger is asked at each call, so a level changed at runtime
 * holds; child loggers share the parent's chain.
 */
const levelGate = winston.format((info, options) => ((options as { enabled: (level: string) => boolean }).enabled(info.level) ? info : false));

/** The JSON-lines format of every Roomcast log (also used by the test logger). */
export function logFormat(): winston.Logform.Format {
  return winston.format.combine(
    // First, so that a logged Error's own stack is scrubbed too.
    winston.format.errors({ stack: true }),
    redactSecrets(),
    winston.format.timestamp(),
    winston.format.json(),
  );
}

/**
 * The process's one logger: JSON lines on stdout. Request and socket code
 * logs through `logger.child({ requestId | socketId, userId })`.
 */
export function createLogger(level: string, nodeId: string): Logger {
  const logger: Logger = winston.createLogger({
    level,
    defaultMeta: { node: nodeId },
    format: winston.format.combine(levelGate({ enabled: (entryLevel: string) => logger.isLevelEnabled(entryLevel) }), logFormat()),
    transports: [new winston.transports.Console()],
  });
  return logger;
}
