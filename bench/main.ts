/**
 * `npm run bench -- NAME...`: speed figures, printed next to the real peers where installed.
 * Each benchmark is a module in this folder exporting `run(args)`, which gets every argument from
 * the first flag on (e.g. `npm run bench -- build --runs 5`); with no name, all run.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !['main.js', 'report.js'].includes(f))
  .map((f) => f.slice(0, -3))
  .sort();

async function main(args: string[]): Promise<void> {
  const firstFlag = args.findIndex((a) => a.startsWith('-'));
  const names = firstFlag < 0 ? args : args.slice(0, firstFlag);
  const options = firstFlag < 0 ? [] : args.slice(firstFlag);
  const unknown = names.filter((n) => !available.includes(n));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ') || 'none yet'}\n`);
    process.exitCode = 2;
    return;
  }
  for (const name of names.length ? names : available) {
    process.stdout.write(`== ${name}\n`);
    const mod = (await import(`./${name}.js`)) as { run(args: string[]): Promise<void> };
    await mod.run(options);
  }
}

await main(process.argv.slice(2));
