import { InvalidInputError } from '../errors.js';
import type { ContainerUser } from './types.js';

// Docker's (moby/sys/user GetExecUser) rules for a USER string.

const MAX_ID = 2 ** 31 - 1;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** GetExecUser's home for a user without a passwd entry (or with an empty home field). */
const DEFAULT_HOME = '/';

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * The uid, gid and supplementary gids for a USER string ("name", "uid",
 * "name:group", "uid:gid", "" for root), given the image's /etc/passwd and
 * /etc/group contents (null if absent). Numeric ids need no entry; unknown
 * names throw. Supplementary groups come from /etc/group membership when no
 * group is given explicitly. The home is the entry's home directory, `/` without one: runc sets
 * HOME to it when the environment has none.
 */
export function resolveUser(user: string, passwd: string | null, group: string | null): ContainerUser {
  const colon = user.indexOf(':');
  const userPart = colon < 0 ? user : user.slice(0, colon);
  const groupPart = colon < 0 ? '' : user.slice(colon + 1);
  const numericUid = parseId(userPart);
  const numericGid = parseId(groupPart);

  const passwdEntries = parsePasswd(passwd);
  const matched =
    userPart === ''
      ? passwdEntries.find((e) => e.uid === 0)
      : passwdEntries.find((e) => (numericUid === undefined ? e.name === userPart : e.uid === numericUid));
  let uid = 0;
  let gid = 0;
  const home = matched?.home || DEFAULT_HOME;
  if (matched) {
    uid = matched.uid;
    gid = matched.gid;
  } else if (userPart !== '') {
    if (numericUid === undefined) throw missing('user', userPart, '/etc/passwd', passwd);
    uid = checkRange('uid', numericUid);
  }

  let additionalGids: number[] = [];
  if (groupPart !== '') {
    const entry = parseGroup(group).find((e) =>
      numericGid === undefined ? e.name === groupPart : e.gid === numericGid,
    );
    if (entry) gid = entry.gid;
    else if (numericGid === undefined) throw missing('group', groupPart, '/etc/group', group);
    else gid = checkRange('gid', numericGid);
  } else if (matched) {
    additionalGids = parseGroup(group)
      .filter((e) => e.members.includes(matched.name))
      .map((e) => e.gid);
  }
  return { uid, gid, additionalGids, home };
}

/**
 * The owner BuildKit's file operations give for a USER-style string (WORKDIR's directories,
 * COPY --chown; its readUser): a name takes uid and gid from its passwd entry, a number is the uid
 * and the gid both; a group name or number then replaces the gid. A user name without an entry is
 * root, a group name without one changes nothing: neither is an error there.
 */
export function resolveFileOwner(
  user: string,
  passwd: string | null,
  group: string | null,
): { uid: number; gid: number } {
  const colon = user.indexOf(':');
  const userPart = colon < 0 ? user : user.slice(0, colon);
  const groupPart = colon < 0 ? '' : user.slice(colon + 1);
  let uid = 0;
  let gid = 0;
  const numericUid = parseId(userPart);
  if (numericUid !== undefined) uid = gid = checkRange('uid', numericUid);
  else if (userPart !== '') {
    const entry = parsePasswd(passwd).find((e) => e.name === userPart);
    if (entry) ({ uid, gid } = entry);
  }
  if (groupPart !== '') {
    const numericGid = parseId(groupPart);
    if (numericGid !== undefined) gid = checkRange('gid', numericGid);
    else gid = parseGroup(group).find((e) => e.name === groupPart)?.gid ?? gid;
  }
  return { uid, gid };
}

function parseId(text: string): number | undefined {
  return /^-?\d+$/.test(text) ? Number(text) : undefined;
}

function checkRange(what: string, id: number): number {
  if (id < 0 || id > MAX_ID) throw new InvalidInputError(`${what} ${id} is out of range (0-${MAX_ID})`);
  return id;
}

function missing(what: string, name: string, file: string, content: string | null): InvalidInputError {
  const why = content === null ? `the image has no ${file}` : `no matching entries in ${file}`;
  return new InvalidInputError(`unable to find ${what} "${name}": ${why}`);
}

/** Lines of "a:b:c" fields, skipping blank lines and comments. */
function records(content: string | null): string[][] {
  if (content === null) return [];
  return content
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

function parsePasswd(content: string | null): PasswdEntry[] {
  // name:password:uid:gid:gecos:home:shell
  return records(content).flatMap(([name = '', , uid = '', gid = '', , home = '']) => {
    const [u, g] = [parseId(uid), parseId(gid)];
    return u === undefined || g === undefined ? [] : [{ name, uid: u, gid: g, home }];
  });
}

function parseGroup(content: string | null): GroupEntry[] {
  // name:password:gid:member,member
  return records(content).flatMap(([name = '', , gid = '', members = '']) => {
    const g = parseId(gid);
    return g === undefined ? [] : [{ name, gid: g, members: members.split(',').filter((m) => m !== '') }];
  });
}
