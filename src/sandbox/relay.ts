import { Socket } from 'node:net';

/** A stream reading the read end of a pipe (owned, and closed, by it). */
export function pipeReader(fd: number): Socket {
  return new Socket({ fd, readable: true, writable: false });
}

export async function readAll(source: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Copies the container's output into `dest` (never ending it) until the container closes its end;
 * an error with code `hangupCode` counts as that close (a terminal's master reads EIO then).
 */
export function forward(source: Socket, dest: NodeJS.WritableStream | undefined, hangupCode?: string): Promise<void> {
  if (dest) source.pipe(dest, { end: false });
  else source.resume();
  return new Promise<void>((resolve, reject) => {
    const settle = (err?: NodeJS.ErrnoException) => {
      source.off('close', onClose).off('error', settle);
      dest?.removeListener('error', settle);
      if (dest) source.unpipe(dest);
      source.destroy();
      if (err && err.code !== hangupCode) reject(err);
      else resolve();
    };
    const onClose = () => settle();
    source.once('close', onClose).once('error', settle);
    dest?.once('error', settle);
  });
}

/**
 * Copies `source` into the workload's stdin pipe (owned from here on); its end is the workload's
 * EOF. Returns what stops the copy early, once the container is gone.
 */
export function feedStdin(fd: number, source: NodeJS.ReadableStream): () => void {
  const pipe = new Socket({ fd, readable: false, writable: true });
  // EPIPE: the workload stopped reading its input, which is its right (docker ignores it too).
  pipe.on('error', () => undefined);
  source.pipe(pipe);
  return () => {
    source.unpipe(pipe);
    pipe.destroy();
  };
}
