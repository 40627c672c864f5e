// Preloaded into a Roomcast node by scripts/cost-probe/run.ts (`--import`):
// each SIGUSR2 starts or ends a measured phase; at its end the node's own
// CPU time, its GCs (count, time) and the bytes it allocated (heap used
// before each GC minus after the previous one, from v8.GCProfiler) are
// written as JSON to `$COST_PROBE_OUT.<phase>`. Load-independent enough to
// compare a change before and after on a shared machine.
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import v8 from 'node:v8';
import vm from 'node:vm';

// A full GC on demand, to read what a phase left alive (e.g. heap per open socket).
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc');
const liveHeap = () => {
  collect();
  return v8.getHeapStatistics().used_heap_size;
};

const out = process.env.COST_PROBE_OUT;
// With COST_PROBE_SAMPLE=1, each phase also writes a sampling heap profile
// that counts objects already collected (`<phase>.heapprofile`, for
// DevTools or scripts/cost-probe/top-allocations.ts).
const session = process.env.COST_PROBE_SAMPLE === '1' ? new Session() : null;
session?.connect();
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
let phase = 0;
let running = null;

process.on('SIGUSR2', () => {
  if (!running) {
    const live = liveHeap();
    running = { cpu: process.cpuUsage(), used: v8.getHeapStatistics().used_heap_size, live, profiler: new v8.GCProfiler() };
    running.profiler.start();
    if (session) void post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    return;
  }
  const { cpu, used, live, profiler } = running;
  running = null;
  const cpuNow = process.cpuUsage(cpu);
  const { statistics } = profiler.stop();
  const usedAtEnd = v8.getHeapStatistics().used_heap_size;
  // Heap still alive at the end of the phase (after a full GC) minus at its start.
  const retainedBytes = liveHeap() - live;
  let allocated = 0;
  let previous = used;
  let gcMicros = 0;
  let scavenges = 0;
  for (const gc of statistics) {
    allocated += gc.beforeGC.heapStatistics.usedHeapSize - previous;
    previous = gc.afterGC.heapStatistics.usedHeapSize;
    gcMicros += gc.cost;
    if (gc.gcType === 'Scavenge') scavenges++;
  }
  allocated += usedAtEnd - previous;
  phase++;
  const figures = { userMicros: cpuNow.user, systemMicros: cpuNow.system, gcs: statistics.length, scavenges, gcMicros, allocatedBytes: allocated, retainedBytes };
  const write = () => {
    if (!out) return;
    // Written whole, then renamed: the driver waits for the name.
    writeFileSync(`${out}.${phase}.tmp`, JSON.stringify(figures));
    renameSync(`${out}.${phase}.tmp`, `${out}.${phase}`);
  };
  if (!session) return write();
  void post('HeapProfiler.stopSampling').then(({ profile }) => {
    writeFileSync(`${out}.${phase}.heapprofile`, JSON.stringify(profile));
    write();
  });
});
