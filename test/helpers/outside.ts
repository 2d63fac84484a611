import { lookup } from 'node:dns/promises';
import { Socket } from 'node:net';

/** A host outside this machine that tests may reach over plain HTTP: Debian's mirror, as apt-get does. */
export const OUTSIDE_HOST = 'deb.debian.org';

/** Why a test of outbound connections cannot run here (the host itself reaches nothing outside), or false. */
export async function noRouteOut(): Promise<string | false> {
  try {
    const { address } = await lookup(OUTSIDE_HOST, { family: 4 });
    await new Promise<void>((resolve, reject) => {
      const socket = new Socket().setTimeout(10_000, () => socket.destroy(new Error('timed out')));
      socket.once('error', reject).connect(80, address, () => (socket.destroy(), resolve()));
    });
    return false;
  } catch (err) {
    return `this machine has no route out (${OUTSIDE_HOST}:80: ${(err as Error).message})`;
  }
}
