import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { PasswordPool } from '../server/auth/password-pool.js';
import { AppError } from '../server/errors.js';
import { http, registerUser, uniqueName, useNode } from './support/util.js';

/** Nice values of this process's threads (Linux /proc); the main thread's id is the pid. */
function threadNices(): { tid: number; nice: number }[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { tid: Number(tid), nice: Number(fields[16]) };
  });
}

describe('PasswordPool (bcrypt in worker threads)', () => {
  let pool: PasswordPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it('when a password is hashed, then comparing it answers true and another password false', async () => {
    pool = new PasswordPool({ threads: 1 });

    const hash = await pool.hash('correct horse', 4);

    expect(hash).to.match(/^\$2b\$04\$/);
    expect(await pool.compare('correct horse', hash)).to.equal(true);
    expect(await pool.compare('wrong horse', hash)).to.equal(false);
  });

  it('when more tasks arrive than the queue holds, then the excess fails at once with unavailable and the rest complete', async () => {
    pool = new PasswordPool({ threads: 1, maxQueue: 1 });

    const results = await Promise.allSettled(Array.from({ length: 6 }, () => pool!.hash('pw-pw-pw-pw', 4)));

    const rejected = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as unknown);
    expect(rejected).to.not.be.empty;
    for (const reason of rejected) expect(reason).to.be.instanceOf(AppError).and.to.have.property('code', 'unavailable');
    expect(results.filter((r) => r.status === 'fulfilled')).to.not.be.empty;
  });

  it('when sign-up hashes fill their share of the queue, then further sign-ups fail at once with unavailable and sign-ins still run', async () => {
    pool = new PasswordPool({ threads: 1, maxQueue: 4 }); // sign-ups may hold 2
    const hash = await pool.hash('pw-pw-pw-pw', 4);

    const signUps = Array.from({ length: 6 }, () => pool!.hash('pw-pw-pw-pw', 4, 'sign-up'));
    const signIns = Array.from({ length: 2 }, () => pool!.compare('pw-pw-pw-pw', hash));
    const [ups, ins] = await Promise.all([Promise.allSettled(signUps), Promise.all(signIns)]);

    expect(ups.filter((r) => r.status === 'fulfilled')).to.have.length(2);
    for (const r of ups.filter((r) => r.status === 'rejected')) expect((r as PromiseRejectedResult).reason).to.be.instanceOf(AppError).and.to.have.property('code', 'unavailable');
    expect(ins).to.deep.equal([true, true]);
  });

  it('when sign-ups and a sign-in wait for the one thread, then the sign-in runs first', async () => {
    pool = new PasswordPool({ threads: 1 });
    const hash = await pool.hash('pw-pw-pw-pw', 4);
    const finished: string[] = [];
    const track = <T>(name: string, task: Promise<T>) => task.then(() => void finished.push(name));

    const running = track('sign-up 1', pool.hash('pw-pw-pw-pw', 8, 'sign-up'));
    const waiting = [track('sign-up 2', pool.hash('pw-pw-pw-pw', 8, 'sign-up')), track('sign-up 3', pool.hash('pw-pw-pw-pw', 8, 'sign-up'))];
    const signIn = track('sign-in', pool.compare('pw-pw-pw-pw', hash));
    await Promise.all([running, ...waiting, signIn]);

    expect(finished.indexOf('sign-in')).to.be.lessThan(finished.indexOf('sign-up 2'));
    expect(finished.indexOf('sign-in')).to.be.lessThan(finished.indexOf('sign-up 3'));
  });

  it('when the pool runs, then its worker threads have the lowest CPU priority (the event loop thread keeps its own)', async function () {
    if (process.platform !== 'linux') this.skip(); // thread priorities are read from /proc
    const before = new Set(threadNices().map((t) => JSON.stringify(t)));
    pool = new PasswordPool({ threads: 1 });

    await pool.hash('pw-pw-pw-pw', 4);

    const added = threadNices().filter((t) => !before.has(JSON.stringify(t)));
    expect(added.some((t) => t.nice === 19)).to.equal(true);
    expect(threadNices().find((t) => t.tid === process.pid)?.nice).to.equal(0);
  });
});

describe('POST /api/auth/login with the password pool', () => {
  const node = useNode({ LOGIN_FAILURE_LIMIT: '0' });

  it('when the right and then a wrong password are given, then the first signs in and the second answers invalid_credentials', async () => {
    const user = await registerUser(node.app, uniqueName('pool'));

    const right = await http(node.app, 'POST', '/api/auth/login', { body: { login: user.user.username, password: user.password } });
    const wrong = await http(node.app, 'POST', '/api/auth/login', { body: { login: user.user.username, password: 'not-the-password' } });

    expect(right.status).to.equal(200);
    expect(right.body.user.id).to.equal(user.user.id);
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error.code).to.equal('invalid_credentials');
  });
});
