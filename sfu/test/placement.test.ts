import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import t from 'tap';
import { UnavailableError } from '../../core/src/errors.js';
import { onceEvent } from '../../core/src/events.js';
import { NatsServer } from '../../core/src/infra/NatsServer.js';
import { freePort } from '../../core/src/infra/ports.js';
import { moduleLog } from '../../core/src/log.js';
import { SfuClient } from '../../core/src/sfu/SfuClient.js';
import { decodeNodeMessage, encode, type NodeLoad, type NodeMessage } from '../../core/src/sfu/rpcProtocol.js';
import { SFU_ANNOUNCE_SUBJECT } from '../../core/src/subjects.js';
import { SfuPlacement } from '../src/SfuPlacement.js';
import type { Teardown } from './_harness.js';

// A NATS server of this file's own: on the shared one, other test files' SFU nodes would answer
// placement too. The other nodes are played by the test, which announces them.
const natsUrl = (async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pc-placement-'));
  const server = await NatsServer.start({ dir, port: await freePort(), log: moduleLog('test-nats') });
  t.teardown(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return server.url;
})();

async function natsConnection(t: Teardown): Promise<NatsConnection> {
  const nc = await connect({ servers: await natsUrl });
  t.teardown(() => nc.close());
  return nc;
}

const load = (consumers: number, sessions: number): NodeLoad => ({ workers: 1, sessions, routers: sessions, consumers });

async function startPlacement(t: Teardown, opts: { node: string; load: NodeLoad; serves?: (session: string) => boolean }): Promise<{ placement: SfuPlacement; nc: NatsConnection }> {
  const nc = await natsConnection(t);
  const placement = new SfuPlacement({
    nc,
    node: opts.node,
    load: () => opts.load,
    serves: opts.serves ?? (() => false),
    announceIntervalMs: 60_000,
    placementTtlMs: 3_600_000,
  });
  t.teardown(() => placement.close());
  await nc.flush();
  return { placement, nc };
}

/**
 * Announces nodes played by the test and waits until `under` has read them: the server routed them
 * before answering the test's flush, and `under`'s flush answer comes after them on its connection.
 */
async function announce(test: NatsConnection, under: NatsConnection, messages: NodeMessage[]): Promise<void> {
  for (const message of messages) test.publish(SFU_ANNOUNCE_SUBJECT, encode(message));
  await test.flush();
  await under.flush();
}

const announced = (node: string, nodeLoad: NodeLoad): NodeMessage => ({ v: 1, type: 'announce', node, at: Date.now(), intervalMs: 60_000, load: nodeLoad });
const goaway = (node: string): NodeMessage => ({ v: 1, type: 'goaway', node, at: Date.now() });

t.test('places a session on the live node with the fewest consumers, then sessions, and keeps it there', async (t) => {
  const test = await natsConnection(t);
  const self = `a-${randomUUID()}`;
  const [b, c] = [`b-${randomUUID()}`, `c-${randomUUID()}`];
  const { placement, nc } = await startPlacement(t, { node: self, load: load(5, 1) });
  await announce(test, nc, [announced(b, load(1, 3)), announced(c, load(1, 2))]);
  const client = new SfuClient({ nc: test });

  const session = `s-${randomUUID()}`;
  const answered = onceEvent(placement.observer, 'place');
  t.same(await client.place(session), { node: c }, 'fewest consumers, then fewest sessions');
  t.match((await answered)[0], { code: 'ok' }, 'observed');

  await announce(test, nc, [announced(c, load(50, 20))]);
  t.same(await client.place(session), { node: c }, 'a claim for a live node stands, however loaded it got');

  await announce(test, nc, [goaway(c)]);
  t.same(await client.place(session), { node: b }, 'after goaway the session moves to the least-loaded live node');
  t.same(await client.place(session), { node: b }, 'and stays there');
});

t.test('this node when it knows no other, and a session it already serves stays with it', async (t) => {
  const test = await natsConnection(t);
  const self = `a-${randomUUID()}`;
  const served = `s-${randomUUID()}`;
  const { nc } = await startPlacement(t, { node: self, load: load(100, 100), serves: (session) => session === served });
  const client = new SfuClient({ nc: test });
  t.same(await client.place(`s-${randomUUID()}`), { node: self }, 'alone: this node, whatever its load');

  await announce(test, nc, [announced(`idle-${randomUUID()}`, load(0, 0))]);
  t.same(await client.place(served), { node: self }, 'a served session is not moved to an idle node');
});

t.test('two nodes answering concurrent requests agree on one node per session', async (t) => {
  const test = await natsConnection(t);
  const [a, b] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
  const first = await startPlacement(t, { node: a, load: load(0, 0) });
  const second = await startPlacement(t, { node: b, load: load(0, 0) });
  // Each announced itself at start. The first reads the second's announcement by its next flush
  // and answers the newcomer; its flush after that has the server route that answer to the
  // second, which has read it by its own next flush.
  await first.nc.flush();
  await first.nc.flush();
  await second.nc.flush();
  const client = new SfuClient({ nc: test });
  for (let i = 0; i < 5; i += 1) {
    const session = `s-${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.place(session)));
    t.equal(new Set(answers.map((r) => r.node)).size, 1, `session ${i}: ten concurrent placements, one node`);
  }
});

t.test('drain: refuses to place, leaves the queue group, and goaway tells the others', async (t) => {
  const test = await natsConnection(t);
  const self = `a-${randomUUID()}`;
  const { placement } = await startPlacement(t, { node: self, load: load(0, 0) });
  const messages: NodeMessage[] = [];
  let sawGoaway!: () => void;
  const goneAway = new Promise<void>((resolve) => (sawGoaway = resolve));
  test.subscribe(SFU_ANNOUNCE_SUBJECT, {
    callback: (_err, msg) => {
      const message = decodeNodeMessage(msg.data);
      if (message.node !== self) return;
      messages.push(message);
      if (message.type === 'goaway') sawGoaway();
    },
  });
  await test.flush();

  await placement.drain();
  await t.rejects(new SfuClient({ nc: test }).place(`s-${randomUUID()}`), UnavailableError, 'nobody answers placement');
  placement.goaway();
  await goneAway;
  t.same(
    messages.map((m) => m.type),
    ['goaway'],
    'no announcement after drain began',
  );
});
