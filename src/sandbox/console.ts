import { createWriteStream } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';

import type { ConsoleMaster, NativeSandbox } from './native.js';
import { forward } from './relay.js';
import type { ConsoleSize, ContainerRequest } from './types.js';

type ConsoleStreams = Pick<ContainerRequest, 'stdin' | 'stdout' | 'consoleSize'>;

const DEFAULT_SIZE: ConsoleSize = { rows: 24, columns: 80 };

export function initialConsoleSize(req: ConsoleStreams): ConsoleSize {
  if (req.consoleSize) return req.consoleSize;
  return req.stdout instanceof WriteStream ? { rows: req.stdout.rows, columns: req.stdout.columns } : DEFAULT_SIZE;
}

/**
 * The container's terminal seen from tcbuild (the parent side of native/console.h): once its master
 * arrives, its output goes to `stdout`, `stdin` is typed into it, and a terminal `stdout`'s resizes
 * reach it.
 */
export class ConsoleRelay {
  /** Settles when the terminal hangs up: every process of the container has closed it. */
  readonly output: Promise<void>;
  private detachStreams: (() => void) | undefined;
  private detached = false;

  constructor(native: NativeSandbox, socket: number, streams: ConsoleStreams) {
    this.output = native
      .receiveConsole(socket)
      .then((master) => (master ? this.attach(native, master, streams) : undefined));
  }

  /** Stops relaying and restores the caller's terminal; the master is closed once both copies stop. */
  detach(): void {
    this.detached = true;
    this.detachStreams?.();
  }

  private attach(native: NativeSandbox, master: ConsoleMaster, { stdin, stdout }: ConsoleStreams): Promise<void> {
    const output = new ReadStream(master.read);
    const input = createWriteStream('', { fd: master.write });
    input.on('error', () => undefined); // EIO: the terminal hung up while input was on its way
    const raw = stdin instanceof ReadStream && !stdin.isRaw ? stdin : undefined;
    const resize = () => {
      if (!output.destroyed && stdout instanceof WriteStream)
        native.setConsoleSize(master.read, stdout.rows, stdout.columns);
    };
    this.detachStreams = () => {
      stdout?.removeListener('resize', resize);
      stdin?.unpipe(input);
      raw?.setRawMode(false);
      input.destroy();
      output.destroy();
    };
    if (this.detached) {
      this.detachStreams();
      return Promise.resolve();
    }
    raw?.setRawMode(true);
    stdin?.pipe(input);
    stdout?.on('resize', resize);
    return forward(output, stdout, 'EIO');
  }
}
