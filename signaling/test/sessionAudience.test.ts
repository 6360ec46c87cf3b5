/** SessionAudience on a real NATS: viewer counts across nodes through the demand bucket. */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import tap from 'tap';
import { DemandBoard } from '../../core/src/captions/DemandBoard.js';
import { DEMAND_TTL_MS } from '../../core/src/captions/demandBucket.js';
import { onceEvent } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { useInfra } from '../../core/test/support/infra.js';
import { SessionAudience, type ViewerCounts } from '../src/SessionAudience.js';
import type { Teardown } from './fixtures/signaling.js';

const log = moduleLog('sessionAudience-test');

async function natsConnection(t: Teardown): Promise<NatsConnection> {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  return nc;
}

/** One signaling node's side: its demand board and its audience of `session`. */
async function node(t: Teardown, nc: NatsConnection, session: string, nodeId: string, now?: () => number): Promise<SessionAudience> {
  const board = await DemandBoard.open(nc, nodeId, log);
  const audience = new SessionAudience({ nc, session, nodeId, board, ...(now ? { now } : {}) });
  t.teardown(async () => {
    audience.close();
    await audience.settled();
    await board.close();
  });
  return audience;
}

/** The next counts `audience` emits that satisfy `want`. */
async function countsWhere(audience: SessionAudience, want: (c: ViewerCounts) => boolean): Promise<ViewerCounts> {
  for (;;) {
    const [counts] = await onceEvent(audience, 'change');
    if (want(counts)) return counts;
  }
}

tap.test('local viewers count at once, the other nodes through their demand entries', async (t) => {
  const nc = await natsConnection(t);
  const session = randomUUID();
  const a = await node(t, nc, session, 'node-a');
  const b = await node(t, nc, session, 'node-b');

  let next = onceEvent(a, 'change');
  a.setViewer('v1', undefined);
  t.same((await next)[0], { count: 1, byLanguage: {} }, 'a local viewer with no language yet: counted synchronously');
  t.same(a.counts, { count: 1, byLanguage: {} });

  const seenByA = countsWhere(a, (c) => c.count === 3);
  const seenByB = countsWhere(b, (c) => c.count === 3);
  b.setViewer('v2', 'es');
  b.setViewer('v3', 'fr');
  t.same(await seenByA, { count: 3, byLanguage: { es: 1, fr: 1 } }, "node b's viewers, from its entry");
  t.same(await seenByB, { count: 3, byLanguage: { es: 1, fr: 1 } }, "and node a's, seen from b");

  next = onceEvent(a, 'change');
  a.setViewer('v1', 'es');
  t.same((await next)[0], { count: 3, byLanguage: { es: 2, fr: 1 } }, 'choosing a language moves the viewer into byLanguage');
  next = onceEvent(a, 'change');
  a.setViewer('v1', 'fr');
  t.same((await next)[0], { count: 3, byLanguage: { es: 1, fr: 2 } }, 'a switch moves it');

  const afterLeave = countsWhere(a, (c) => c.count === 2);
  b.removeViewer('v3');
  t.same(await afterLeave, { count: 2, byLanguage: { es: 1, fr: 1 } }, 'a viewer leaving node b');

  const afterClose = countsWhere(a, (c) => c.count === 1);
  b.close();
  t.same(await afterClose, { count: 1, byLanguage: { fr: 1 } }, "a closing audience withdraws its node's viewers at once");
});

tap.test("a node's entry older than the TTL no longer counts (a node that died)", async (t) => {
  const nc = await natsConnection(t);
  const session = randomUUID();
  let skewMs = 0;
  const a = await node(t, nc, session, 'node-a', () => Date.now() + skewMs);
  const dead = await node(t, nc, session, 'node-dead');
  const seen = countsWhere(a, (c) => c.count === 1);
  dead.setViewer('v', 'es');
  t.same(await seen, { count: 1, byLanguage: { es: 1 } });

  skewMs = DEMAND_TTL_MS + 1_000;
  t.same(a.counts, { count: 0, byLanguage: {} }, 'an entry past the TTL is not counted');
  // Any local change makes the audience compare again: hosts are told the dead node's viewers are gone.
  const next = onceEvent(a, 'change');
  a.setViewer('local', undefined);
  t.same((await next)[0], { count: 1, byLanguage: {} });
});

tap.test('close before the watch is open, and setViewer after close, do nothing', async (t) => {
  const nc = await natsConnection(t);
  const board = await DemandBoard.open(nc, 'node-early', log);
  t.teardown(() => board.close());
  const audience = new SessionAudience({ nc, session: randomUUID(), nodeId: 'node-early', board });
  audience.close();
  audience.setViewer('v', 'es');
  await audience.settled();
  t.same(audience.counts, { count: 0, byLanguage: {} });
});
