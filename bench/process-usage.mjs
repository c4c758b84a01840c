// Preloaded into a bundled action's process by the benchmark (`node --import=<this> bundle`):
// when the process exits it writes, to BENCH_USAGE_FILE, its start time, its own CPU time and
// peak resident memory, when its first line reached stdout, and when each rollout wave began and
// ended (the "::group::Wave" and "Wave N done" lines), and on Linux each thread's CPU time: the
// main thread's against V8's helpers (garbage collection, optimising compilers).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by the benchmark for one process; no build reads it
const file = process.env.BENCH_USAGE_FILE;
if (file) {
  const usage = { origin: performance.timeOrigin, firstStdoutMs: null, waves: [] };
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    const at = performance.now();
    usage.firstStdoutMs ??= at;
    const text = String(chunk);
    const start = /^::group::Wave (\d+)\/\d+ \(([^)]*)\): (.*)$/m.exec(text);
    if (start)
      usage.waves.push({
        n: Number(start[1]),
        title: start[2],
        claws: start[3].split(", ").length,
        startMs: at,
      });
    const end = /^Wave (\d+) done in /m.exec(text);
    if (end) {
      const w = usage.waves.find((x) => x.n === Number(end[1]));
      if (w) w.endMs = at;
    }
    return write(chunk, ...rest);
  };
  process.on("exit", () => {
    const cpu = process.cpuUsage();
    usage.cpuMs = (cpu.user + cpu.system) / 1000;
    usage.maxRssKb = process.resourceUsage().maxRSS;
    usage.threads = threadCpu();
    writeFileSync(file, JSON.stringify(usage));
  });
}

/** CPU ms per thread from /proc/self/task/<tid>/stat (utime + stime, in USER_HZ ticks of 10 ms). */
function threadCpu() {
  try {
    return readdirSync("/proc/self/task").map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
      return {
        name,
        main: tid === String(process.pid),
        cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
      };
    });
  } catch {
    return undefined;
  }
}
