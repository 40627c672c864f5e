// Sums a sampling heap profile (from `run.ts --sample`) by allocating
// function: the top entries, self bytes, as `node --import tsx top-allocations.ts FILE [count]`.
import { readFileSync } from 'node:fs';

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const [file, count = '40'] = process.argv.slice(2);
const { head } = JSON.parse(readFileSync(file!, 'utf8')) as { head: Node };
const self = new Map<string, number>();
const stacks = new Map<string, number>();
let total = 0;
const walk = (node: Node, path: string[]) => {
  const frame = node.callFrame;
  const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules|wt-[^/]+)\//, '')}:${frame.lineNumber + 1}`;
  const here = [...path, name];
  if (node.selfSize) {
    total += node.selfSize;
    self.set(name, (self.get(name) ?? 0) + node.selfSize);
    const tail = here.slice(-4).join(' < ');
    stacks.set(tail, (stacks.get(tail) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, here);
};
walk(head, []);
const top = (m: Map<string, number>) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(count)).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
console.log(`total sampled ${total} bytes\n-- by function --\n${top(self).join('\n')}\n-- by stack (innermost first reversed) --\n${top(stacks).join('\n')}`);
