// The permission table against the subjects it is built from: every subject of subjects.ts has a
// role that publishes it and one that reads it (so a new subject cannot be forgotten), and the
// worker role only announces.
import t from 'tap';
import { natsConnectOptions } from '../src/natsConnectOptions.js';
import { NATS_PERMISSIONS, NATS_ROLES, mayPublish, maySubscribe, subjectMatches } from '../src/natsPermissions.js';
import { natsServerConfig } from '../src/infra/natsServerConfig.js';
import { generateCredentials } from '../src/infra/infraCredentials.js';
import * as subjects from '../src/subjects.js';

t.test('subject matching follows NATS wildcards', async (t) => {
  t.ok(subjectMatches('pc.v1.s.*.cap.*', 'pc.v1.s.abc.cap.es'));
  t.notOk(subjectMatches('pc.v1.s.*.cap.*', 'pc.v1.s.abc.icap.es'));
  t.notOk(subjectMatches('pc.v1.s.*.cap.*', 'pc.v1.s.abc.cap.es.x'));
  t.ok(subjectMatches('_INBOX.>', '_INBOX.a.b'));
  t.notOk(subjectMatches('_INBOX.>', '_INBOX'));
  t.ok(subjectMatches('>', 'anything.at.all'));
});

t.test('every subject of subjects.ts has a publisher and a subscriber other than the admin', async (t) => {
  const built: string[] = [];
  for (const [name, value] of Object.entries(subjects)) {
    if (typeof value === 'function' && /Subject$/.test(name)) built.push(String(Reflect.apply(value, undefined, ['s1', 'n1'])));
    if (typeof value === 'string' && /_SUBJECT$/.test(name)) built.push(value);
  }
  t.ok(built.length >= 7, `subjects found: ${built.join(', ')}`);
  const roles = NATS_ROLES.filter((r) => r !== 'admin');
  for (const subject of built) {
    t.ok(roles.some((r) => mayPublish(r, subject)), `someone may publish ${subject}`);
    t.ok(roles.some((r) => maySubscribe(r, subject)), `someone may subscribe to ${subject}`);
  }
});

t.test('a worker only announces itself', async (t) => {
  t.ok(mayPublish('worker', subjects.WORKER_ANNOUNCE_SUBJECT));
  for (const subject of [
    subjects.finalCaptionSubject('s1', 'es'),
    subjects.interimCaptionSubject('s1', 'es'),
    subjects.sfuRpcSubject('n1'),
    subjects.SFU_PLACE_SUBJECT,
    subjects.sessionControlSubject('s1'),
    '$KV.pc_demand.s1.n1',
    '$JS.API.STREAM.DELETE.PC_CAPTIONS',
  ]) {
    t.notOk(mayPublish('worker', subject), `worker may not publish ${subject}`);
  }
  t.same(NATS_PERMISSIONS.worker.subscribe, [], 'and reads nothing');
  t.notOk(mayPublish('signaling', subjects.finalCaptionSubject('s1', 'es')), 'signaling does not publish captions either');
  t.notOk(mayPublish('history', subjects.sfuRpcSubject('n1')), 'history does not call the SFU');
  for (const role of NATS_ROLES) t.notOk(role !== 'admin' && mayPublish(role, '$JS.API.STREAM.DELETE.PC_CAPTIONS'), `${role} cannot delete the caption stream`);
});

t.test('the server configuration renders every role, and an anonymous user only when asked', async (t) => {
  const { nats } = generateCredentials();
  const conf = natsServerConfig({ users: nats });
  for (const role of NATS_ROLES) t.match(conf, `user: "${role}", password: "${nats[role].password}"`);
  t.notMatch(conf, 'no_auth_user');
  t.match(conf, /user: "worker"[^\n]*subscribe: \{ deny: \[">"\] \}/, 'a role that reads nothing is denied everything, not left unrestricted');
  t.match(natsServerConfig({ users: nats, noAuthRole: 'admin' }), 'no_auth_user: "admin"');
});

t.test('natsConnectOptions takes credentials from the URL or the environment, and keeps them out of the server list', async (t) => {
  t.same(natsConnectOptions('nats://u:p%40ss@127.0.0.1:4222'), { servers: 'nats://127.0.0.1:4222', user: 'u', pass: 'p@ss' });
  t.same(natsConnectOptions('nats://u:p@127.0.0.1:4222', { user: 'worker', password: 'w' }), { servers: 'nats://127.0.0.1:4222', user: 'worker', pass: 'w' });
  t.same(natsConnectOptions('nats://127.0.0.1:4222'), { servers: 'nats://127.0.0.1:4222' });
});
