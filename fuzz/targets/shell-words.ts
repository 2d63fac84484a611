import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExpansionError, expandWord, expandWords, type ExpandOptions } from '../../src/frontend/shell-lexer.js';
import { REPO, type FuzzTarget } from '../target.js';

const env = new Map([
  ['PWD', '/home'],
  ['SHELL', 'bash'],
  ['KOREAN', '한국어'],
  ['NULL', ''],
  ['SPACED', '  a b  '],
  ['GLOB', '*.txt'],
]);

/** The words of BuildKit's test vectors (the part before the expected result). */
function vectorWords(): string[] {
  const words: string[] = [];
  for (const file of ['envVarTest', 'wordsTest']) {
    for (const line of readFileSync(join(REPO, 'test/conformance/buildkit-shell', file), 'utf8').split('\n')) {
      if (line.startsWith('#') || line.startsWith('ENV ') || line.trim() === '') continue;
      const fields = line.split('|');
      words.push((fields.length === 3 ? fields[1]! : fields[0]!).trim());
    }
  }
  return words;
}

/**
 * Word expansion (src/frontend/shell-lexer.ts). The first byte picks the options (escape token,
 * raw quotes, unset variables kept, one word or split words); the rest is the word.
 */
export const target: FuzzTarget = {
  description: 'Dockerfile word expansion (src/frontend/shell-lexer.ts): quotes, escapes, ${VAR<op>word}',
  fuzz(data) {
    const flags = data[0] ?? 0;
    const opts: ExpandOptions = {
      escapeToken: flags & 1 ? '`' : '\\',
      rawQuotes: (flags & 2) !== 0,
      skipUnsetEnv: (flags & 4) !== 0,
      used: new Set(),
    };
    const word = data.subarray(1).toString('utf8');
    if (flags & 8) expandWords(word, env, opts);
    else expandWord(word, env, opts);
  },
  seeds: () => vectorWords().flatMap((word) => [Buffer.from(`\x00${word}`), Buffer.from(`\x08${word}`)]),
  dictionary: [
    '$',
    '${',
    '}',
    ':-',
    ':+',
    ':?',
    '-',
    '+',
    '?',
    '#',
    '##',
    '%',
    '%%',
    '/',
    '//',
    ':',
    '$PWD',
    '${NULL}',
    '${SPACED}',
    '${KOREAN}',
    '"',
    "'",
    '\\',
    '`',
    ' ',
    '\t',
    '\n',
    '$$',
  ],
  maxLength: 1024,
  expected: (err) => err instanceof ExpansionError,
};
