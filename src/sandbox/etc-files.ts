import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Host files bind-mounted over the container's /etc/hosts, /etc/resolv.conf and /etc/hostname. */
export interface EtcFiles {
  dir: string;
  hosts: string;
  resolvConf: string;
  hostname: string;
}

export async function writeEtcFiles(hostname: string): Promise<EtcFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-etc-'));
  const files: EtcFiles = {
    dir,
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
    hostname: join(dir, 'hostname'),
  };
  try {
    await writeFile(files.hosts, `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
    await writeFile(files.resolvConf, await hostResolvConf());
    await writeFile(files.hostname, `${hostname}\n`);
  } catch (err) {
    await removeEtcFiles(files);
    throw err;
  }
  return files;
}

export async function removeEtcFiles(files: EtcFiles): Promise<void> {
  await rm(files.dir, { recursive: true, force: true });
}

async function hostResolvConf(): Promise<string> {
  try {
    return await readFile('/etc/resolv.conf', 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
