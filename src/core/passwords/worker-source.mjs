// Starts the hashing thread's program (worker.ts) when Gatehouse runs from its TypeScript sources (tsx: the
// tests, `npm run gatehouse`): on Node.js 20 a worker thread does not get the `--import tsx` loader of the
// process, so the thread registers it itself before loading worker.ts. Compiled runs (dist/, `npm start`,
// the container image) start worker.js directly and never load this file.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
