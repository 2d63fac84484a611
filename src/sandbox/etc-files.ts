import { InvalidInputError } from '../errors.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

/** Host files bind-mounted over the container's /etc/hosts, /etc/resolv.conf and /etc/hostname. */
export interface EtcFiles {
  hosts: string;
  resolvConf: string;
  hostname: string;
}

/**
 * Writes the files into `dir`. `addHosts` are "name:ip" entries, as
 * `docker run --add-host` takes them; they are appended to /etc/hosts. resolv.conf is the host's,
 * with `nameserver` in place of its name servers when given.
 */
export function writeEtcFiles(
  dir: string,
  hostname: string,
  addHosts: readonly string[] = [],
  nameserver?: string,
): EtcFiles {
  const files: EtcFiles = {
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
    hostname: join(dir, 'hostname'),
  };
  const extra = addHosts.map((entry) => {
    const { name, ip } = parseAddHost(entry);
    return `${ip}\t${name}\n`;
  });
  writeFileSync(
    files.hosts,
    `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n${extra.join('')}`,
  );
  writeFileSync(
    files.resolvConf,
    nameserver === undefined ? hostResolvConf() : withNameserver(hostResolvConf(), nameserver),
  );
  writeFileSync(files.hostname, `${hostname}\n`);
  return files;
}

/** "name:ip" (or "name=ip"); the ip may be IPv6, so only the first separator counts. */
export function parseAddHost(entry: string): { name: string; ip: string } {
  const at = entry.search(/[:=]/);
  const name = at < 0 ? '' : entry.slice(0, at);
  const ip = at < 0 ? '' : entry.slice(at + 1).replace(/^\[(.*)\]$/, '$1');
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(name) || isIP(ip) === 0) {
    throw new InvalidInputError(`invalid --add-host "${entry}": expected NAME:IP, e.g. db:10.0.0.5`);
  }
  return { name, ip };
}

function hostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** The host's search and options lines kept, its name servers replaced. */
function withNameserver(resolvConf: string, nameserver: string): string {
  const kept = resolvConf.split('\n').filter((line) => /^\s*(search|domain|options)\s/.test(line));
  return [`nameserver ${nameserver}`, ...kept, ''].join('\n');
}
