import { posix } from 'node:path';

/**
 * The patterns of a .dockerignore file, as Docker reads them: `#` lines are comments, blank lines
 * are skipped, each pattern is cleaned (`..` and `.` resolved, a leading `/` dropped), and a
 * leading `!` marks an exception.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = posix.normalize(pattern);
      if (pattern.length > 1 && pattern.endsWith('/')) pattern = pattern.slice(0, -1);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

/**
 * Where Docker looks for the ignore file: `<Dockerfile>.dockerignore` beside the Dockerfile first, then the context's.
 */
export function dockerignoreCandidates(dockerfilePath: string | undefined, contextDir: string): string[] {
  return [
    ...(dockerfilePath !== undefined ? [`${dockerfilePath}.dockerignore`] : []),
    posix.join(contextDir, '.dockerignore'),
  ];
}
