// Summarises a V8 .cpuprofile (from `npm run bench -- --profile`): self time by function and by package/file,
// and total (inclusive) time of the heaviest frames.
//   node --import tsx bench/profile.ts bench/results/profiles/<file>.cpuprofile [--top 30]
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: node --import tsx bench/profile.ts FILE.cpuprofile [--top N]\n');
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const total = profile.samples.length;

function where(n: Node): string {
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const src = /\/(src|bench|test)\/(.*)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return url;
  return url || `(${n.callFrame.functionName || 'native'})`;
}
const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${where(n)}:${n.callFrame.lineNumber + 1}`;

const self = new Map<string, number>();
const selfWhere = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const id of profile.samples) {
  const n = byId.get(id)!;
  self.set(label(n), (self.get(label(n)) ?? 0) + 1);
  selfWhere.set(where(n), (selfWhere.get(where(n)) ?? 0) + 1);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + 1);
  }
}
const pct = (v: number) => `${((v / total) * 100).toFixed(1).padStart(5)}%`;
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(v)}  ${k}\n`);
};
process.stdout.write(`${file}: ${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s\n`);
show('self time by package / file', selfWhere);
show('self time by function', self);
show('total (inclusive) time by function', inclusive);
