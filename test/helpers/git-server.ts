import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeContext, type ContextEntry } from './context.js';

/** A bare repository served by the git server, with a work tree to commit to and push from. */
export interface GitRepo {
  gitUrl: string;
  httpUrl: string;
  /** The work tree: a repository on the host's file system (for file:// URLs). */
  work: string;
  /**
   * Replaces the work tree's files with these (and `submodules`: path → URL and commit), commits
   * them on `branch` (a new branch starts from the last commit) and pushes it; returns the commit.
   */
  commit(files: Record<string, ContextEntry>, options?: CommitOptions): Promise<string>;
  /** Makes a tag of the commit (annotated with a message) and pushes it. */
  tag(name: string, commit: string, message?: string): void;
}

export interface CommitOptions {
  branch?: string;
  time?: number;
  submodules?: Record<string, { url: string; commit: string }>;
}

/**
 * `repo.git` (and more repositories beside it) served on 127.0.0.1 by a real `git daemon`
 * (git://) and by `git http-backend` behind a small node http server (http://, the smart protocol).
 */
export interface GitServer extends GitRepo {
  repository(name: string): GitRepo;
  /**
   * For GIT_SSH_COMMAND (with GIT_SSH_VARIANT=simple): an ssh stand-in that serves `HOST:PATH` and
   * `ssh://HOST/PATH` from the served repositories, noting the SSH_AUTH_SOCK it was given in `sshLog`.
   */
  sshCommand: string;
  sshLog: string;
  /** From now on the http server answers 401 to requests without this Authorization header (undefined: to none). */
  requireAuthorization(header: string | undefined): void;
  close(): Promise<void>;
}

const git = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  execFileSync(
    'git',
    ['-c', 'init.defaultBranch=main', '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args],
    {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
    .toString('utf8')
    .trim();

export async function startGitServer(): Promise<GitServer> {
  const base = await mkdtemp(join(tmpdir(), 'tcbuild-git-'));
  const daemon = await startDaemon(base);
  const authorization: { required: string | undefined } = { required: undefined };
  const http = await startHttpBackend(base, authorization);
  const repository = (name: string): GitRepo => {
    const bare = join(base, `${name}.git`);
    const work = join(base, `${name}.work`);
    git(base, ['init', '-q', '--bare', bare]);
    git(base, ['init', '-q', work]);
    let commits = 0;
    return {
      gitUrl: `git://127.0.0.1:${daemon.port}/${name}.git`,
      httpUrl: `http://127.0.0.1:${http.port}/${name}.git`,
      work,
      async commit(files, options = {}) {
        const branch = options.branch ?? 'main';
        const branches = commits++ > 0 ? git(work, ['branch', '--format=%(refname:short)']).split('\n') : [];
        git(work, [
          'checkout',
          '-q',
          ...(commits === 1 ? ['--orphan'] : branches.includes(branch) ? [] : ['-b']),
          branch,
        ]);
        git(work, ['rm', '-r', '-q', '--ignore-unmatch', '.']);
        const submodules = Object.entries(options.submodules ?? {});
        const gitmodules = submodules.map(
          ([path, { url }]) => `[submodule "${path}"]\n\tpath = ${path}\n\turl = ${url}\n`,
        );
        await makeContext({ ...files, ...(submodules.length ? { '.gitmodules': gitmodules.join('') } : {}) }, work);
        git(work, ['add', '-A']);
        for (const [path, { commit }] of submodules)
          git(work, ['update-index', '--add', '--cacheinfo', `160000,${commit},${path}`]);
        const date = `${options.time ?? 1700000000} +0000`;
        git(work, ['commit', '-q', '-m', 'commit'], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
        git(work, ['push', '-q', '-f', bare, `${branch}:refs/heads/${branch}`]);
        return git(work, ['rev-parse', 'HEAD']);
      },
      tag(name, commit, message) {
        git(work, ['tag', '-f', ...(message ? ['-a', '-m', message] : []), name, commit]);
        git(work, ['push', '-q', '-f', bare, `refs/tags/${name}`]);
      },
    };
  };
  const sshCommand = join(base, 'fake-ssh');
  const sshLog = join(base, 'ssh.log');
  const script = [
    '#!/bin/sh',
    `echo "agent=$SSH_AUTH_SOCK" >> '${sshLog}'`,
    'for command; do :; done',
    `cd '${base}' && exec sh -c "$(printf '%s' "$command" | sed "s|'/|'|")"`,
    '',
  ];
  await writeFile(sshCommand, script.join('\n'), { mode: 0o755 });
  return {
    ...repository('repo'),
    repository,
    sshCommand,
    sshLog,
    requireAuthorization: (header) => {
      authorization.required = header;
    },
    async close() {
      daemon.process.kill();
      await new Promise<void>((resolve) => http.server.close(() => resolve()));
      await rm(base, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `git daemon` on a free port, once it accepts connections. */
async function startDaemon(base: string): Promise<{ process: ChildProcess; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'git',
      ['daemon', '--reuseaddr', '--export-all', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base],
      { stdio: 'ignore' },
    );
    for (let wait = 0; wait < 100; wait++) {
      if (child.exitCode !== null) break;
      const up = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
        socket.on('error', () => resolve(false));
      });
      if (up) return { process: child, port };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill();
    if (attempt === 5) throw new Error('git daemon did not start');
  }
}

/** `git http-backend` as a CGI program behind node's http server. */
async function startHttpBackend(
  base: string,
  authorization: { required: string | undefined },
): Promise<{ server: Server; port: number }> {
  const server = createHttpServer((req, res) => {
    const given = req.headers.authorization?.replace(/^basic /i, 'Basic ');
    if (authorization.required !== undefined && given !== authorization.required) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: base,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: '127.0.0.1',
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon);
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}
