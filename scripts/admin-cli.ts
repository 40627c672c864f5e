// `npm run admin -- <command>`: account administration straight against the
// configured database (the same DATABASE_URL / DATA_DIR as the server), for
// the operator who lost their admin or wants one without the web.
import 'dotenv/config';
import { AuditStore } from '../db/stores/audit-store.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { TokenStore } from '../db/stores/token-store.js';
import { DuplicateUserError, UserStore, type UserRecord } from '../db/stores/user-store.js';
import { PasswordPool } from '../server/auth/password-pool.js';
import { Passwords } from '../server/auth/passwords.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { registerSchema } from '../server/schemas.js';

const USAGE = `Usage: npm run admin -- <command>

Commands:
  promote <username>                              make the user an admin
  demote <username>                               make the user a member
  ban <username>                                  ban the user (they can no longer sign in)
  unban <username>                                lift the ban
  create-user <username> <email> <password> [--admin]
                                                  create a user (a member unless --admin)

Runs against the configured database (DATABASE_URL, or the embedded one in
DATA_DIR; with the embedded one, stop the server first). Role changes and bans
revoke the user's refresh tokens; sockets already open on a running server end
when their access token expires (at most ACCESS_TOKEN_TTL). The admin API ends
them at once.

Exit codes: 0 done, 1 failed (unknown user, name taken, database error), 2 usage.`;

/** A failure to report in one line, with exit code 1. */
class CommandError extends Error {}

/** Wrong arguments: usage text, exit code 2. */
class UsageError extends Error {}

interface Stores {
  users: UserStore;
  tokens: TokenStore;
  audit: AuditStore;
}

async function findUser(stores: Stores, username: string | undefined): Promise<UserRecord> {
  if (!username) throw new UsageError('a username is required');
  const user = await stores.users.findByUsername(username);
  if (!user) throw new CommandError(`no user named "${username}"`);
  return user;
}

async function setRole(stores: Stores, username: string | undefined, role: 'admin' | 'member'): Promise<string> {
  const user = await findUser(stores, username);
  if (user.role === role) return `${user.username} is already ${role === 'admin' ? 'an admin' : 'a member'}`;
  await stores.users.update(user.id, { role });
  await stores.tokens.revokeAllForUser(user.id);
  await stores.audit.record({ actorId: null, action: 'role_change', targetType: 'user', targetId: user.id, details: { from: user.role, to: role, via: 'cli' } });
  return `${user.username} is now ${role === 'admin' ? 'an admin' : 'a member'}; they sign in again to use it`;
}

async function setBanned(stores: Stores, username: string | undefined, banned: boolean): Promise<string> {
  const user = await findUser(stores, username);
  await stores.users.update(user.id, { banned });
  if (banned) await stores.tokens.revokeAllForUser(user.id);
  await stores.audit.record({ actorId: null, action: banned ? 'ban' : 'unban', targetType: 'user', targetId: user.id, details: { via: 'cli' } });
  return `${user.username} is ${banned ? 'banned' : 'no longer banned'}`;
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

async function createUser(stores: Stores, { username, email, password, admin }: NewUser): Promise<string> {
  let user: UserRecord;
  const pool = new PasswordPool({ threads: 1 });
  try {
    const passwordHash = await new Passwords(pool).hash(password).finally(() => pool.close());
    user = await stores.users.create({ username, email, passwordHash });
  } catch (err) {
    if (err instanceof DuplicateUserError) throw new CommandError(`${err.field} is taken`);
    throw err;
  }
  if (admin && user.role !== 'admin') user = (await stores.users.update(user.id, { role: 'admin' })) ?? user;
  return `created ${user.username} (${user.role}, id ${user.id})`;
}

async function run(database: Database, [command, ...args]: string[]): Promise<string> {
  const stores: Stores = { users: new UserStore(database.knex), tokens: new TokenStore(database.knex), audit: new AuditStore(database.knex) };
  switch (command) {
    case 'promote':
      return setRole(stores, args[0], 'admin');
    case 'demote':
      return setRole(stores, args[0], 'member');
    case 'ban':
      return setBanned(stores, args[0], true);
    case 'unban':
      return setBanned(stores, args[0], false);
    case 'create-user':
      return createUser(stores, newUserFrom(args));
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
}

const KNOWN = new Set(['promote', 'demote', 'ban', 'unban', 'create-user']);

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
  try {
    if (argv[0] === 'create-user') newUserFrom(argv.slice(1));
    // The CLI signs no tokens: a placeholder secret keeps loadConfig from generating one into DATA_DIR.
    const config = loadConfig({ JWT_SECRET: 'admin-cli-signs-no-tokens-placeholder-secret', ...process.env });
    database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    await migrateToLatest(database);
    console.log(await run(database, argv));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`admin: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`admin: ${err instanceof CommandError || err instanceof ConfigError ? err.message : `failed: ${(err as Error).message}`}`);
    return 1;
  } finally {
    await database?.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
