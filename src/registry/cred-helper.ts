import { spawn } from 'node:child_process';
import { TcbuildError } from '../errors.js';
import type { Credentials } from './docker-config.js';

const NOT_FOUND = /credentials not found/i;

/**
 * Runs `docker-credential-NAME VERB` with `input` on stdin; resolves its stdout, or undefined when it says "not found".
 */
function runHelper(helper: string, verb: 'get' | 'store' | 'erase', input: string): Promise<string | undefined> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [verb], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new TcbuildError(
          `cannot run the credential helper ${program}: ${err.code === 'ENOENT' ? 'not found in PATH' : err.message}`,
          {
            hint: `install ${program}, or remove "${helper}" from credHelpers/credsStore in the docker config`,
          },
        ),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout);
      if (NOT_FOUND.test(stdout) || NOT_FOUND.test(stderr)) return resolve(undefined);
      reject(
        new TcbuildError(
          `the credential helper ${program} ${verb} failed (exit ${code}): ${(stderr || stdout).trim()}`,
        ),
      );
    });
    child.stdin.end(input);
  });
}

/** The docker credential helper protocol: `get` reads a server URL, answers {Username, Secret}. */
export async function helperGet(helper: string, serverUrl: string): Promise<Credentials | undefined> {
  const out = await runHelper(helper, 'get', serverUrl);
  if (out === undefined) return undefined;
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(out) as typeof parsed;
  } catch {
    throw new TcbuildError(
      `the credential helper docker-credential-${helper} answered something that is not JSON for ${serverUrl}`,
    );
  }
  if (typeof parsed.Username !== 'string' || typeof parsed.Secret !== 'string') return undefined;
  return { username: parsed.Username, password: parsed.Secret };
}

export async function helperStore(helper: string, serverUrl: string, credentials: Credentials): Promise<void> {
  await runHelper(
    helper,
    'store',
    JSON.stringify({ ServerURL: serverUrl, Username: credentials.username, Secret: credentials.password }),
  );
}

export async function helperErase(helper: string, serverUrl: string): Promise<void> {
  await runHelper(helper, 'erase', serverUrl);
}
