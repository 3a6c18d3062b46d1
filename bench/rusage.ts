// Preloaded into the CLI processes the transfer case runs (node --import): at exit, their own CPU time and
// peak resident memory (getrusage) go to $BENCH_RUSAGE_FILE, which /proc can no longer tell once they are gone.
import fs from 'node:fs';

const file = process.env.BENCH_RUSAGE_FILE;
if (file) {
  process.on('exit', () => {
    const r = process.resourceUsage();
    fs.writeFileSync(file, JSON.stringify({ userMs: r.userCPUTime / 1000, systemMs: r.systemCPUTime / 1000, maxRssKiB: r.maxRSS }));
  });
}
