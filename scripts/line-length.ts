/**
 * `npm run lint`'s second half: no line of src/ over 120 characters. The formatter wraps code, but
 * not comments and string literals; this names what it left.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const LIMIT = 120;

async function* typescriptFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

let long = 0;
for (const dir of process.argv.slice(2)) {
  for await (const file of typescriptFiles(dir)) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if ([...line].length <= LIMIT) return;
      long++;
      process.stderr.write(`${file}:${i + 1}: ${[...line].length} characters (at most ${LIMIT})\n`);
    });
  }
}
if (long > 0) {
  process.stderr.write(`${long} lines over ${LIMIT} characters\n`);
  process.exitCode = 1;
}
