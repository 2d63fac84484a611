import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import type { Readable } from 'node:stream';

import { FailedPreconditionError, messageOf } from '../errors.js';
import { nativeAddon } from '../native-addon.js';

/** slirp4netns's fixed addresses inside the namespace: the gateway is 10.0.2.2, its DNS forwarder this. */
export const PRIVATE_NETWORK_NAMESERVER = '10.0.2.3';

const STACK = 'slirp4netns';
// The child's fds: 3 the namespace, 4 written once it is configured, 5 whose EOF stops it.
const STACK_ARGS = [
  '--configure',
  '--mtu=65520',
  '--disable-host-loopback',
  '--enable-sandbox',
  '--enable-seccomp',
  '--ready-fd=4',
  '--exit-fd=5',
  '--netns-type=path',
  '/proc/self/fd/3',
  'tap0',
];
const READY_TIMEOUT_MS = 30_000;

interface NetworkNamespaceAddon {
  createNetworkNamespace(): number;
}

/**
 * A network namespace of its own with outbound connectivity through a user-mode network stack
 * (slirp4netns, running on the host, unprivileged inside its own sandbox): the container reaches
 * the internet through NAT, but none of the host's interfaces, 127.0.0.0/8 services or abstract
 * unix sockets. Containers join it by `fd`; it lives until close() (or this process's death).
 */
export class PrivateNetwork {
  private constructor(
    readonly fd: number,
    private readonly stack: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  static async create(): Promise<PrivateNetwork> {
    const fd = nativeAddon<NetworkNamespaceAddon>().createNetworkNamespace();
    let stack: ChildProcess | undefined;
    try {
      stack = spawn(STACK, STACK_ARGS, { stdio: ['ignore', 'ignore', 'pipe', fd, 'pipe', 'pipe'] });
      const exited = new Promise<void>((resolve) => stack!.once('exit', () => resolve()));
      await ready(stack);
      return new PrivateNetwork(fd, stack, exited);
    } catch (err) {
      if (stack?.exitCode === null) stack.kill('SIGKILL');
      closeSync(fd);
      throw err;
    }
  }

  /**
   * Stops the stack (it keeps no state worth a graceful exit) and lets the namespace go. The
   * kernel takes tens of milliseconds to tear its tap device down; the promise settles then,
   * and until it has, the stack's process handle keeps this process from exiting.
   */
  close(): Promise<void> {
    this.stack.kill('SIGKILL');
    closeSync(this.fd);
    return this.exited;
  }
}

/** Resolves once the stack wrote to its ready fd; rejects, with what it printed, if it exits or hangs first. */
function ready(stack: ChildProcess): Promise<void> {
  let output = '';
  stack.stderr!.setEncoding('utf8').on('data', (text: string) => (output = (output + text).slice(-2000)));
  return new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(stackError(why, output));
    };
    const timer = setTimeout(() => fail(`did not come up within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    stack.once('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'ENOENT' ? 'is not installed' : messageOf(err)),
    );
    const exitedEarly = (code: number | null, signal: string | null) =>
      fail(`exited (${signal ?? `code ${code}`}) before it was ready`);
    stack.once('exit', exitedEarly);
    (stack.stdio.at(4) as Readable).once('data', () => {
      clearTimeout(timer);
      stack.off('exit', exitedEarly);
      resolve();
    });
  });
}

function stackError(why: string, output: string): FailedPreconditionError {
  const printed = output.trim() ? `; it printed:\n${output.trim()}` : '';
  return new FailedPreconditionError(
    `the private network of the container could not be set up: ${STACK} ${why}${printed}`,
    {
      hint:
        `install it (apt-get install ${STACK}), or pass --network none (no network) or --network host (the ` +
        `host's) to tcbuild build or run`,
    },
  );
}
