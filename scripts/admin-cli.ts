// `npm run admin -- <command>`: account administration straight against the
// configured database (the same DATABASE_URL / DATA_DIR as the server), for
// the operator who lost their admin or wants one without the web.
import 'dotenv/config';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { DuplicateUserError, UserStore, type UserRecord } from '../db/stores/user-store.js';
import { PasswordPool } from '../server/auth/password-pool.js';
import { Passwords } from '../server/auth/passwords.js';
import { ConfigError, loadConfig, type Config } from '../server/config.js';
import { AppError } from '../server/errors.js';
import { createApiKeySchema, registerSchema } from '../server/schemas.js';
import { createCliAdmin, OPERATOR, type CliAdmin } from './admin-cli-service.js';

const USAGE = `Usage: npm run admin -- <command>

Commands:
  promote <username>                              make the user an admin
  demote <username>                               make the user a member
  ban <username>                                  ban the user (they can no longer sign in)
  unban <username>                                lift the ban
  create-user <username> <email> <password> [--admin]
                                                  create a user (a member unless --admin)
  api-key create <name> <scope,...>               create a server API key and print it (shown
                                                  only now); scopes: publish, rooms, users,
                                                  presence, history
  api-key list                                    list the keys not revoked (never the keys)
  api-key revoke <id>                             revoke a key (refused at once on every node)

Runs against the configured database (DATABASE_URL, or the embedded one in
DATA_DIR; with the embedded one, stop the server first), through the same admin
service as the admin API: each change is audited (actorId null, via "cli").
Role changes and bans revoke the user's refresh tokens and end their sessions:
with REDIS_URL (and REDIS_KEY_PREFIX) set as on the servers, sockets already
open anywhere in the cluster end at once (session:revoked); without it, they
end when their access token expires (at most ACCESS_TOKEN_TTL).

Exit codes: 0 done, 1 failed (unknown user, name taken, database error), 2 usage.`;

/** A failure to report in one line, with exit code 1. */
class CommandError extends Error {}

/** Wrong arguments: usage text, exit code 2. */
class UsageError extends Error {}

/** What a CLI command works with: the admin service and the user lookup by name. */
interface Context {
  admin: CliAdmin;
  users: UserStore;
  config: Config;
}

async function findUser({ users }: Context, username: string | undefined): Promise<UserRecord> {
  if (!username) throw new UsageError('a username is required');
  const user = await users.findByUsername(username);
  if (!user) throw new CommandError(`no user named "${username}"`);
  return user;
}

/** The line that says what became of the user's open sockets. */
function socketsLine({ admin, config }: Context): string {
  return admin.reach === 'cluster'
    ? 'their open sessions were ended on every node'
    : `their open sockets end when their access token expires (at most ${Math.ceil(config.accessTokenTtl / 60)} min); set REDIS_URL to end them at once`;
}

async function setRole(context: Context, username: string | undefined, role: 'admin' | 'member'): Promise<string> {
  const user = await findUser(context, username);
  if (user.role === role) return `${user.username} is already ${role === 'admin' ? 'an admin' : 'a member'}`;
  await context.admin.service.updateUser(OPERATOR, user.id, { role });
  return `${user.username} is now ${role === 'admin' ? 'an admin' : 'a member'}; they sign in again to use it\n${socketsLine(context)}`;
}

async function setBanned(context: Context, username: string | undefined, banned: boolean): Promise<string> {
  const user = await findUser(context, username);
  await context.admin.service.updateUser(OPERATOR, user.id, { banned });
  return banned ? `${user.username} is banned\n${socketsLine(context)}` : `${user.username} is no longer banned`;
}

interface NewUser {
  username: string;
  email: string;
  password: string;
  admin: boolean;
}

/** Checks create-user's arguments before the database is opened. */
function newUserFrom(args: string[]): NewUser {
  const admin = args.includes('--admin');
  const positional = args.filter((a) => a !== '--admin');
  if (positional.length !== 3 || positional.some((a) => a.startsWith('--'))) throw new UsageError('create-user takes <username> <email> <password> [--admin]');
  const [username, email, password] = positional as [string, string, string];
  const parsed = registerSchema.safeParse({ username, email, password });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CommandError(`invalid ${issue.path.join('.')}: ${issue.message}`);
  }
  return { username, email, password, admin };
}

async function createUser(context: Context, { username, email, password, admin }: NewUser): Promise<string> {
  let user: UserRecord;
  const pool = new PasswordPool({ threads: 1 });
  try {
    const passwordHash = await new Passwords(pool, context.config.bcryptCost).hash(password).finally(() => pool.close());
    user = await context.users.create({ username, email, passwordHash });
  } catch (err) {
    if (err instanceof DuplicateUserError) throw new CommandError(`${err.field} is taken`);
    throw err;
  }
  const role = admin && user.role !== 'admin' ? (await context.admin.service.updateUser(OPERATOR, user.id, { role: 'admin' })).role : user.role;
  return `created ${user.username} (${role}, id ${user.id})`;
}

/** `api-key create|list|revoke`: the server API keys, as POST/GET/DELETE /api/admin/api-keys. */
async function apiKey({ admin }: Context, [action, ...args]: string[]): Promise<string> {
  switch (action) {
    case 'create': {
      if (args.length !== 2) throw new UsageError('api-key create takes <name> <scope,...>');
      const parsed = createApiKeySchema.safeParse({ name: args[0], scopes: args[1]!.split(',').map((scope) => scope.trim()) });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new CommandError(`invalid ${issue.path.join('.')}: ${issue.message}`);
      }
      const created = await admin.apiKeys.create(OPERATOR, parsed.data);
      return `created API key ${created.name} (id ${created.id}, scopes ${created.scopes.join(',')})\n${created.key}\nkeep it now: it is stored hashed and never shown again`;
    }
    case 'list': {
      const keys = await admin.apiKeys.list();
      if (keys.length === 0) return 'no API keys';
      return keys.map((k) => `${k.id}  ${k.name}  ${k.scopes.join(',')}  created ${k.createdAt}  last used ${k.lastUsedAt ?? 'never'}`).join('\n');
    }
    case 'revoke': {
      const id = args[0];
      if (!id || args.length !== 1) throw new UsageError('api-key revoke takes <id>');
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw new CommandError(`"${id}" is not an API key id`);
      try {
        await admin.apiKeys.revoke(OPERATOR, id.toLowerCase());
      } catch (err) {
        if (err instanceof AppError && err.code === 'not_found') throw new CommandError(`no API key with id ${id} (or it is revoked already)`);
        throw err;
      }
      return `revoked API key ${id}`;
    }
    default:
      throw new UsageError(action ? `unknown api-key action "${action}"` : 'api-key takes create, list or revoke');
  }
}

async function run(context: Context, [command, ...args]: string[]): Promise<string> {
  switch (command) {
    case 'promote':
      return setRole(context, args[0], 'admin');
    case 'demote':
      return setRole(context, args[0], 'member');
    case 'ban':
      return setBanned(context, args[0], true);
    case 'unban':
      return setBanned(context, args[0], false);
    case 'create-user':
      return createUser(context, newUserFrom(args));
    case 'api-key':
      return apiKey(context, args);
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
}

const KNOWN = new Set(['promote', 'demote', 'ban', 'unban', 'create-user', 'api-key']);

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (!KNOWN.has(argv[0]!)) {
    console.error(`admin: unknown command "${argv[0]}"\n\n${USAGE}`);
    return 2;
  }
  let database: Database | null = null;
  let admin: CliAdmin | null = null;
  try {
    if (argv[0] === 'create-user') newUserFrom(argv.slice(1));
    // The CLI signs no tokens: a placeholder secret keeps loadConfig from generating one into DATA_DIR.
    const config = loadConfig({ JWT_SECRET: 'admin-cli-signs-no-tokens-placeholder-secret', ...process.env });
    database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    await migrateToLatest(database);
    admin = await createCliAdmin(database, config);
    const said = await run({ admin, users: new UserStore(database.knex), config }, argv);
    await admin.close().catch((err: unknown) => {
      throw new CommandError(`${said.split('\n')[0]}, but ending their open sessions failed: ${(err as Error).message}`);
    });
    console.log(said);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`admin: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    const known = err instanceof CommandError || err instanceof ConfigError || err instanceof AppError;
    console.error(`admin: ${known ? err.message : `failed: ${(err as Error).message}`}`);
    return 1;
  } finally {
    await admin?.close().catch(() => {});
    await database?.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
