// Preloaded into every server under test (`node --import tsx --import
// bench/gc-probe.mjs ...`, see processes.ts): counts V8's garbage-collection
// pauses with a PerformanceObserver and answers the benchmark over the IPC
// channel it was spawned with. The servers themselves know nothing of it.
// Plain JavaScript, so that it loads wherever the flags are inherited (the
// servers' worker threads get them too) without a TypeScript loader.
//
//   parent -> { probe: 'gc-totals' }  child -> { probe: 'gc-totals', gcMs, gcCount, cpuMs }
//   parent -> { probe: 'collect' }    child -> { probe: 'collect', rssBytes, heapUsedBytes }  (after a full GC)
//
// The durations are the main thread's GC pauses (what 'gc' entries measure);
// concurrent marking on V8's helper threads is in the process's CPU time but
// not in them, so the share they give is a floor.
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread } from 'node:worker_threads';

if (isMainThread && process.send) {
  let gcMs = 0;
  let gcCount = 0;
  const count = (entries) => {
    for (const entry of entries) {
      gcMs += entry.duration;
      gcCount++;
    }
  };
  const observer = new PerformanceObserver((list) => count(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });

  // A full collection on request, without exposing `gc` to the server's own code.
  let collectGarbage = null;
  const fullGc = () => {
    if (!collectGarbage) {
      setFlagsFromString('--expose-gc');
      collectGarbage = runInNewContext('gc');
    }
    collectGarbage();
  };

  process.on('message', (request) => {
    if (request?.probe === 'gc-totals') {
      count(observer.takeRecords()); // entries still queued for the callback count too
      const cpu = process.cpuUsage(); // all threads, in µs: finer than /proc's 10 ms ticks for short steps
      process.send({ probe: 'gc-totals', gcMs, gcCount, cpuMs: (cpu.user + cpu.system) / 1000 });
    } else if (request?.probe === 'collect') {
      fullGc();
      const memory = process.memoryUsage();
      process.send({ probe: 'collect', rssBytes: memory.rss, heapUsedBytes: memory.heapUsed });
    }
  });
  // The channel must not keep a server alive that is shutting down.
  process.channel?.unref();
}
