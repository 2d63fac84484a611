import { posix } from 'node:path';
import type { ExecMount, StepDescription, Vertex } from '../graph/vertex.js';
import type { Platform } from '../image/types.js';
import type { CommandForm, InstructionOf } from './instructions.js';
import type { Heredoc } from './parse.js';

/** What a RUN (or CMD, ENTRYPOINT) runs: its argv from the shell or exec form and its heredocs. */

/** Where a RUN heredoc that starts with `#!` is mounted to be run as a file. */
const HEREDOC_PIPES = '/dev/pipes';

export function commandArgs(command: CommandForm, shell: string[]): string[] {
  return command.form === 'exec' ? command.args : [...shell, command.command];
}

/** The heredoc a RUN consists of alone (`RUN <<EOF`), if it does. */
function soleHeredoc(ins: InstructionOf<'RUN'>): Heredoc | undefined {
  const only =
    ins.heredocs.length === 1 &&
    ins.command.form === 'shell' &&
    /^<<-?\s*["']?[A-Za-z_][\w.-]*["']?$/.test(ins.command.command.trim());
  return only ? ins.heredocs[0] : undefined;
}

/** A sole heredoc that starts with `#!` runs as a file, through its interpreter (BuildKit's dispatchRun). */
export function shebangScript(ins: InstructionOf<'RUN'>, platform: Platform): Heredoc | undefined {
  const sole = soleHeredoc(ins);
  return sole?.content.startsWith('#!') && platform.os !== 'windows' ? sole : undefined;
}

/**
 * The script as an executable file in HEREDOC_PIPES, read-only: a one-file filesystem mounted for
 * the command only, as BuildKit mounts an llb.Mkfile on scratch. The content is part of the
 * mount's source, so of the step's cache key.
 */
export function scriptMount(script: Heredoc, step: StepDescription): ExecMount {
  const files: Vertex = {
    op: 'copy',
    input: { op: 'scratch' },
    source: { op: 'inline', files: [{ name: script.name, content: script.content }] },
    sources: [script.name],
    dest: '/',
    chown: undefined,
    chmod: '0755',
    unpack: false,
    link: false,
    parents: false,
    excludes: [],
    description: { ...step, text: 'preparing inline document' },
  };
  return { type: 'bind', target: HEREDOC_PIPES, source: files, path: '/', readwrite: false };
}

export function runArgs(ins: InstructionOf<'RUN'>, shell: string[], script: Heredoc | undefined): string[] {
  if (script) return [...shell, posix.join(HEREDOC_PIPES, script.name)];
  const sole = soleHeredoc(ins);
  if (sole) return [...shell, sole.content];
  if (ins.heredocs.length > 0 && ins.command.form === 'shell') {
    const bodies = ins.heredocs.map((h) => `${h.content}${h.name}`).join('\n');
    return [...shell, `${ins.command.command}\n${bodies}`];
  }
  return commandArgs(ins.command, shell);
}
