import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TcbuildError } from '../errors.js';
import { formatPlatform, hostPlatform, normalizePlatform } from '../image/platform.js';
import type { Platform } from '../image/types.js';

const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';
const QEMU_CONFS = '/usr/lib/binfmt.d';

/** ELF identity of each architecture: class (1 = 32-bit, 2 = 64-bit), byte order (1 = LE, 2 = BE), e_machine. */
const ELF: Record<string, { bits: 1 | 2; order: 1 | 2; machine: number }> = {
  amd64: { bits: 2, order: 1, machine: 0x3e },
  '386': { bits: 1, order: 1, machine: 0x03 },
  arm64: { bits: 2, order: 1, machine: 0xb7 },
  arm: { bits: 1, order: 1, machine: 0x28 },
  riscv64: { bits: 2, order: 1, machine: 0xf3 },
  ppc64le: { bits: 2, order: 1, machine: 0x15 },
  s390x: { bits: 2, order: 2, machine: 0x16 },
  mips64le: { bits: 2, order: 1, machine: 0x08 },
};

/** Platforms this host runs without emulation. */
export function runsNatively(p: Platform): boolean {
  const host = hostPlatform();
  const arch = normalizePlatform(p).architecture;
  return (
    arch === host.architecture ||
    (host.architecture === 'amd64' && arch === '386') ||
    (host.architecture === 'arm64' && arch === 'arm')
  );
}

/** The first bytes of an ELF executable for the platform, as binfmt_misc matches them. */
function elfHeader(arch: string): Buffer | undefined {
  const id = ELF[arch];
  if (!id) return undefined;
  const header = Buffer.alloc(20);
  header.set([0x7f, 0x45, 0x4c, 0x46, id.bits, id.order, 1], 0);
  const write16 = id.order === 1 ? header.writeUInt16LE.bind(header) : header.writeUInt16BE.bind(header);
  write16(2, 16);
  write16(id.machine, 18);
  return header;
}

interface Handler {
  name: string;
  enabled: boolean;
  interpreter: string;
  flags: string;
  offset: number;
  magic: Buffer;
  mask: Buffer | undefined;
}

async function handlers(): Promise<Handler[]> {
  const names = await readdir(BINFMT_DIR).catch(() => [] as string[]);
  const found: Handler[] = [];
  for (const name of names.filter((n) => n !== 'register' && n !== 'status')) {
    const text = await readFile(join(BINFMT_DIR, name), 'utf8').catch(() => '');
    const field = (key: string) => new RegExp(`^${key} (.*)$`, 'm').exec(text)?.[1];
    const magic = field('magic');
    if (!magic) continue;
    const mask = field('mask');
    found.push({
      name,
      enabled: /^enabled$/m.test(text),
      interpreter: field('interpreter') ?? '',
      flags: (/^flags: (.*)$/m.exec(text)?.[1] ?? '').trim(),
      offset: Number(field('offset') ?? 0),
      magic: Buffer.from(magic, 'hex'),
      mask: mask ? Buffer.from(mask, 'hex') : undefined,
    });
  }
  return found;
}

function matches(h: Handler, header: Buffer): boolean {
  return [...h.magic].every((byte, i) => ((header[h.offset + i] ?? 0) & (h.mask?.[i] ?? 0xff)) === byte);
}

/**
 * The enabled binfmt_misc handler that runs the platform's executables, if it can work inside
 * a sandbox's new root (the F flag: the interpreter was opened when it was registered).
 */
export async function emulatorFor(p: Platform): Promise<Handler | undefined> {
  const header = elfHeader(normalizePlatform(p).architecture);
  if (!header) return undefined;
  return (await handlers()).find((h) => h.enabled && h.flags.includes('F') && matches(h, header));
}

/** Fails, before any work is done, when a platform's RUN steps could not run here. */
export async function requireEmulation(platforms: Platform[]): Promise<void> {
  const missing: Platform[] = [];
  for (const p of platforms) {
    if (!runsNatively(p) && !(await emulatorFor(p))) missing.push(p);
  }
  if (missing.length === 0) return;
  throw new TcbuildError(
    `cannot run ${missing.map(formatPlatform).join(', ')} programs on this ${formatPlatform(hostPlatform())} host: ` +
      `no binfmt_misc handler (with the F flag) is registered for them`,
    {
      hint:
        'install Debian\'s qemu-user-static, then run "tcbuild binfmt --install" as root (it registers the QEMU ' +
        'handlers)',
    },
  );
}

/**
 * Registers the handlers of an installed qemu-user-static (mounting binfmt_misc first if needed); returns their names.
 */
export async function installEmulators(): Promise<string[]> {
  if (process.getuid?.() !== 0) throw new TcbuildError('registering binfmt_misc handlers needs root');
  const status = await readFile(join(BINFMT_DIR, 'status'), 'utf8').catch(() => undefined);
  if (status === undefined) {
    await promisify(execFile)('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT_DIR]).catch((err: unknown) => {
      throw new TcbuildError(
        `cannot mount binfmt_misc on ${BINFMT_DIR}: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
  }
  const confs = (await readdir(QEMU_CONFS).catch(() => [] as string[])).filter((f) => /^qemu-.*\.conf$/.test(f));
  if (confs.length === 0) {
    throw new TcbuildError(`no QEMU handlers found in ${QEMU_CONFS}`, {
      hint: 'install them: apt-get install qemu-user-static',
    });
  }
  const registered = new Set((await handlers()).map((h) => h.name));
  const installed: string[] = [];
  for (const conf of confs.sort()) {
    const line = (await readFile(join(QEMU_CONFS, conf), 'utf8')).split('\n').find((l) => l.startsWith(':'));
    const name = line?.split(':')[1];
    if (!line || !name) continue;
    if (!registered.has(name)) await writeFile(join(BINFMT_DIR, 'register'), line);
    installed.push(name);
  }
  return installed;
}
