import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { resolveUser } from '../../src/sandbox/index.js';
import { resolveFileOwner } from '../../src/sandbox/user.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  '# a comment',
  '',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  'svc:x:1001:50::/srv:/sbin/nologin',
].join('\n');
const GROUP = ['root:x:0:root', 'wheel:x:10:root,app', 'staff:x:50:app', 'app:x:1000:', 'audio:x:29:svc'].join('\n');

describe('resolveUser', () => {
  test('"" is root, with the groups root is a member of', () => {
    assert.deepEqual(resolveUser('', PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  });

  test('a name takes uid and gid from /etc/passwd and groups from /etc/group membership', () => {
    assert.deepEqual(resolveUser('app', PASSWD, GROUP), {
      uid: 1000,
      gid: 1000,
      additionalGids: [10, 50],
      home: '/home/app',
    });
    assert.deepEqual(resolveUser('svc', PASSWD, GROUP), { uid: 1001, gid: 50, additionalGids: [29], home: '/srv' });
  });

  test('a numeric uid with an entry is that entry', () => {
    assert.deepEqual(resolveUser('1000', PASSWD, GROUP), {
      uid: 1000,
      gid: 1000,
      additionalGids: [10, 50],
      home: '/home/app',
    });
  });

  test('a numeric uid without an entry needs none, and gets gid 0 and home / (GetExecUser defaults)', () => {
    assert.deepEqual(resolveUser('4242', PASSWD, GROUP), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
    assert.deepEqual(resolveUser('4242', null, null), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  });

  test('an explicit group replaces the gid and drops supplementary groups', () => {
    assert.deepEqual(resolveUser('app:staff', PASSWD, GROUP), {
      uid: 1000,
      gid: 50,
      additionalGids: [],
      home: '/home/app',
    });
    assert.deepEqual(resolveUser('app:77', PASSWD, GROUP), {
      uid: 1000,
      gid: 77,
      additionalGids: [],
      home: '/home/app',
    });
    assert.deepEqual(resolveUser('1000:10', PASSWD, GROUP), {
      uid: 1000,
      gid: 10,
      additionalGids: [],
      home: '/home/app',
    });
    assert.deepEqual(resolveUser('5000:6000', null, null), { uid: 5000, gid: 6000, additionalGids: [], home: '/' });
  });

  test('an unknown user name says which user is missing from /etc/passwd', () => {
    assert.throws(() => resolveUser('nobody', PASSWD, GROUP), {
      message: 'unable to find user "nobody": no matching entries in /etc/passwd',
    });
    assert.throws(() => resolveUser('nobody', null, GROUP), {
      message: 'unable to find user "nobody": the image has no /etc/passwd',
    });
  });

  test('an unknown group name says which group is missing from /etc/group', () => {
    assert.throws(() => resolveUser('app:nogroup', PASSWD, GROUP), {
      message: 'unable to find group "nogroup": no matching entries in /etc/group',
    });
    assert.throws(() => resolveUser('0:nogroup', PASSWD, null), {
      message: 'unable to find group "nogroup": the image has no /etc/group',
    });
  });

  test('ids out of range are refused', () => {
    assert.throws(() => resolveUser('-1', PASSWD, GROUP), /uid -1 is out of range/);
    assert.throws(() => resolveUser('0:2147483648', PASSWD, GROUP), /gid 2147483648 is out of range/);
  });

  test('without /etc/group there are no supplementary groups', () => {
    assert.deepEqual(resolveUser('app', PASSWD, null), { uid: 1000, gid: 1000, additionalGids: [], home: '/home/app' });
  });
});

describe('resolveFileOwner (BuildKit file operations: WORKDIR, COPY --chown)', () => {
  test('a name takes its entry; a number is uid and gid; a group replaces the gid', () => {
    assert.deepEqual(resolveFileOwner('svc', PASSWD, GROUP), { uid: 1001, gid: 50 });
    assert.deepEqual(resolveFileOwner('1000', PASSWD, GROUP), { uid: 1000, gid: 1000 });
    assert.deepEqual(resolveFileOwner('1001', PASSWD, GROUP), { uid: 1001, gid: 1001 }, "not the entry's gid");
    assert.deepEqual(resolveFileOwner('app:audio', PASSWD, GROUP), { uid: 1000, gid: 29 });
    assert.deepEqual(resolveFileOwner('4242:77', null, null), { uid: 4242, gid: 77 });
  });

  test('names without entries are no error: an unknown user is root, an unknown group keeps the gid', () => {
    assert.deepEqual(resolveFileOwner('nosuch', PASSWD, GROUP), { uid: 0, gid: 0 });
    assert.deepEqual(resolveFileOwner('nosuch', null, null), { uid: 0, gid: 0 });
    assert.deepEqual(resolveFileOwner('4242:nogroup', PASSWD, GROUP), { uid: 4242, gid: 4242 });
    assert.deepEqual(resolveFileOwner('svc:nogroup', PASSWD, GROUP), { uid: 1001, gid: 50 });
  });

  test('ids out of range are refused', () => {
    assert.throws(() => resolveFileOwner('2147483648', PASSWD, GROUP), /uid 2147483648 is out of range/);
  });
});
