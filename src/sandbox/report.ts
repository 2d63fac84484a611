import { getSystemErrorMap } from 'node:util';

import { TcbuildError } from '../errors.js';

// Records of the report pipe; the layout is ReportRecord in native/report.h.
const RECORD_SIZE = 256;
const STEP_OFFSET = 16;
const KIND_SETUP_FAILED = 1;
const KIND_WORKLOAD_EXITED = 2;

export type ReportRecord =
  | { kind: 'setup-failed'; step: string; errno: number }
  | { kind: 'workload-exited'; exitCode: number | null; signal: number | null };

/** A container could not be set up: `step` names what failed (a mount, the exec, ...). */
export class ContainerSetupError extends TcbuildError {
  constructor(
    message: string,
    readonly step: string,
    readonly code: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

export function decodeReport(bytes: Buffer): ReportRecord[] {
  const records: ReportRecord[] = [];
  for (let offset = 0; offset + RECORD_SIZE <= bytes.length; offset += RECORD_SIZE) {
    const kind = bytes.readUInt32LE(offset);
    if (kind === KIND_SETUP_FAILED) {
      const step = bytes.subarray(offset + STEP_OFFSET, offset + RECORD_SIZE);
      const end = step.indexOf(0);
      records.push({
        kind: 'setup-failed',
        errno: bytes.readInt32LE(offset + 4),
        step: step.subarray(0, end < 0 ? step.length : end).toString('utf8'),
      });
    } else if (kind === KIND_WORKLOAD_EXITED) {
      const exitCode = bytes.readInt32LE(offset + 8);
      const signal = bytes.readInt32LE(offset + 12);
      records.push({ kind: 'workload-exited', exitCode: exitCode < 0 ? null : exitCode, signal: signal || null });
    }
  }
  return records;
}

/** e.g. `exec "foo": no such file or directory in the container's PATH`. */
export function setupError(record: { step: string; errno: number }, args: string[]): ContainerSetupError {
  const [code, text] = getSystemErrorMap().get(-record.errno) ?? [`E${record.errno}`, `error ${record.errno}`];
  const searchedPath = record.step.startsWith('exec ') && !args[0]?.includes('/');
  const where = searchedPath && code === 'ENOENT' ? " in the container's PATH" : '';
  return new ContainerSetupError(`${record.step}: ${text}${where}`, record.step, code, record.errno);
}
