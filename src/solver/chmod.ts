/** A COPY --chmod value: an octal mode, or symbolic clauses (`u+x,g=r`) applied to each file's own mode. */
export type ModeSpec = (current: number, isDir: boolean) => number;

const OCTAL = /^[0-7]{1,4}$/;
/** A clause: who, then one or more actions, each an operator with permission letters or one class to copy (`g=u`). */
const CLAUSE = /^([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)$/;
const ACTION = /([-+=])([ugo]|[rwxXst]*)/g;
const WHO_BITS: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007 };
const CLASS_SHIFT: Record<string, number> = { u: 6, g: 3, o: 0 };

/**
 * Parses --chmod as chmod(1) and BuildKit's (BSD setmode) do: an octal mode, or symbolic clauses
 * such as `u+x,g=r` or `go=u` (copy the owner's permissions). No umask is applied.
 */
export function parseChmod(spec: string): ModeSpec | undefined {
  if (OCTAL.test(spec)) {
    const mode = parseInt(spec, 8);
    return () => mode;
  }
  const clauses = spec.split(',').map((c) => CLAUSE.exec(c));
  if (clauses.some((c) => c === null)) return undefined;
  return (current, isDir) => {
    let mode = current & 0o7777;
    for (const [, whoText, actions] of clauses as RegExpExecArray[]) {
      let mask = 0;
      for (const w of (whoText || 'a').replace('a', 'ugo')) mask |= WHO_BITS[w]!;
      for (const [, op, permText] of actions!.matchAll(ACTION)) {
        const perm = permissionBits(permText!, mode, isDir) & mask;
        if (op === '+') mode |= perm;
        else if (op === '-') mode &= ~perm;
        else mode = (mode & ~mask) | perm;
      }
    }
    return mode;
  };
}

/** The bits an action's permission part stands for, in every class (the clause's who narrows them). */
function permissionBits(permText: string, mode: number, isDir: boolean): number {
  const copied = CLASS_SHIFT[permText];
  if (copied !== undefined) return ((mode >> copied) & 0o7) * 0o111;
  let perm = 0;
  for (const p of permText) {
    if (p === 'r') perm |= 0o444;
    else if (p === 'w') perm |= 0o222;
    else if (p === 'x' || (p === 'X' && (isDir || (mode & 0o111) !== 0))) perm |= 0o111;
    else if (p === 's') perm |= 0o6000;
    else if (p === 't') perm |= 0o1000;
  }
  return perm;
}

/**
 * The mode of the directories a COPY creates on the way to its destination (fsutil's MkdirAll):
 * an octal --chmod's permission bits, else 0755.
 */
export function createdDirectoryMode(spec: string | undefined): number {
  return spec !== undefined && OCTAL.test(spec) ? parseInt(spec, 8) & 0o777 : 0o755;
}
