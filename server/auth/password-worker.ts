// Runs in the password pool's worker threads: bcrypt (pure JS) off the event
// loop that serves sockets. One task: hash or compare.
import bcrypt from 'bcryptjs';

export type PasswordTask = { op: 'hash'; password: string; cost: number } | { op: 'compare'; password: string; hash: string };

export default function run(task: PasswordTask): string | boolean {
  return task.op === 'hash' ? bcrypt.hashSync(task.password, task.cost) : bcrypt.compareSync(task.password, task.hash);
}
