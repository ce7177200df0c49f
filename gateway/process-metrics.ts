import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/**
 * A compact set of process metrics (prom-client's defaults are ~8 KB of text per scrape): resident
 * memory, V8 heap used, CPU seconds and event-loop delay.
 */
export function registerProcessMetrics(registry: Registry): void {
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  new Gauge({
    name: 'hearth_process_resident_memory_bytes',
    help: 'Resident memory of the Hearth process (gateway, auth and the built-in store thread)',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'hearth_process_heap_used_bytes',
    help: 'V8 heap in use (the main thread)',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: 'hearth_process_cpu_seconds',
    help: 'User plus system CPU time of the process, all its threads',
    registers: [registry],
    collect() {
      const u = process.cpuUsage();
      this.set((u.user + u.system) / 1e6);
    },
  });
  new Gauge({
    name: 'hearth_event_loop_delay_p99_seconds',
    help: '99th percentile event-loop delay since the previous scrape',
    registers: [registry],
    collect() {
      this.set(loop.percentile(99) / 1e9);
      loop.reset();
    },
  });
}
