import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import t from 'tap';
import { DemandBoard } from '../src/captions/DemandBoard.js';
import { DEMAND_TTL_MS, openDemandBucket } from '../src/captions/demandBucket.js';
import { InvalidArgumentError } from '../src/errors.js';
import { DemandWatcher, type DemandWatcherEvents } from '../src/captions/DemandWatcher.js';
import { onceEvent } from '../src/events.js';
import { moduleLog } from '../src/log.js';
import { useInfra } from './support/infra.js';

const log = moduleLog('test');
type Change = DemandWatcherEvents['change'][0];

t.test('the pipeline sees the union of every node viewers languages, as they change', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  const session = randomUUID();
  const nodeA = await DemandBoard.open(nc, 'node-a', log);
  const nodeB = await DemandBoard.open(nc, 'node-b', log);
  t.teardown(() => Promise.all([nodeA.close(), nodeB.close()]));
  const watcher = await DemandWatcher.open(nc, session, log);
  t.teardown(() => watcher.close());
  const next = async (): Promise<Change> => (await onceEvent(watcher, 'change'))[0];

  let change = next();
  nodeA.add(session, 'es');
  t.same(await change, { langs: new Set(['es']), added: ['es'], removed: [] });

  change = next();
  nodeB.add(session, 'ca');
  t.same((await change).added, ['ca']);

  nodeA.add(session, 'es'); // a second Spanish viewer changes no language
  change = next();
  nodeB.add(session, 'gl');
  t.same((await change).added, ['gl'], 'only real changes are events');

  nodeA.remove(session, 'es');
  change = next();
  nodeA.remove(session, 'es');
  t.same((await change).removed, ['es'], 'a language goes when its last viewer does');

  change = next();
  await nodeB.close();
  const after = await change;
  t.same([...watcher.langs], [], 'a node that closes withdraws its demand');
  t.same(after.removed.sort(), ['ca', 'gl']);
});

t.test("a node's demand older than the TTL does not count (a dead node stops costing translations)", async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  const session = randomUUID();
  const board = await DemandBoard.open(nc, 'node-dead', log);
  t.teardown(() => board.close());
  let clockSkewMs = 0;
  const watcher = await DemandWatcher.open(nc, session, log, () => Date.now() + clockSkewMs);
  t.teardown(() => watcher.close());
  const seen = onceEvent(watcher, 'change');
  board.add(session, 'es');
  t.same((await seen)[0].added, ['es']);

  // Time passes with no refresh from that node: the next look at the entries drops it.
  clockSkewMs = DEMAND_TTL_MS + 1_000;
  const expired = onceEvent(watcher, 'change');
  board.add(session, 'ca'); // any write makes the watcher look again; this one is stale too
  t.same((await expired)[0].removed, ['es']);
  t.same([...watcher.langs], [], 'expired entries are ignored');
});

t.test('a storm of joins and leaves is written to the bucket once, not once per viewer', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  const session = randomUUID();
  let writes = 0;
  nc.subscribe(`$KV.pc_demand.${session}.node-storm`, { callback: () => void writes++ });
  await nc.flush();
  const board = await DemandBoard.open(nc, 'node-storm', log);
  t.teardown(() => board.close());
  const watcher = await DemandWatcher.open(nc, session, log);
  t.teardown(() => watcher.close());
  const changed = onceEvent(watcher, 'change');
  for (let i = 0; i < 200; i++) board.add(session, i % 2 === 0 ? 'es' : 'ca');
  for (let i = 0; i < 100; i++) board.remove(session, 'ca');
  t.same([...(await changed)[0].langs], ['es'], 'the net result of the storm');
  await nc.flush();
  t.ok(writes >= 1 && writes <= 2, `${writes} bucket write(s) for 300 changes`);
});

t.test("a node's viewer counts travel in its entry, which lasts while it has viewers or languages", async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  const session = randomUUID();
  const board = await DemandBoard.open(nc, 'node-viewers', log);
  t.teardown(() => board.close());
  const watcher = await DemandWatcher.open(nc, session, log);
  t.teardown(() => watcher.close());
  const entry = async (want: (nodes: ReadonlyMap<string, unknown>) => boolean): Promise<unknown> => {
    while (!want(watcher.nodes)) await onceEvent(watcher, 'nodes');
    return watcher.nodes.get('node-viewers');
  };

  board.setViewers(session, { count: 2, byLanguage: { es: 1 } });
  t.same(await entry((n) => n.has('node-viewers')), { langs: [], viewers: { es: 1 }, viewerCount: 2 }, 'viewers with no language are demand for none');
  board.add(session, 'es');
  t.same(await entry((n) => n.size === 1 && [...watcher.langs].includes('es')), { langs: ['es'], viewers: { es: 1 }, viewerCount: 2 });
  board.remove(session, 'es');
  board.setViewers(session, { count: 0, byLanguage: {} });
  t.equal(await entry((n) => n.size === 0), undefined, 'no viewers and no languages: the entry is deleted');
});

t.test('tags are canonical in the bucket: a bad one is refused at write and skipped at read, never the whole entry', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  const session = randomUUID();
  const board = await DemandBoard.open(nc, 'node-tags', log);
  t.teardown(() => board.close());
  const watcher = await DemandWatcher.open(nc, session, log);
  t.teardown(() => watcher.close());

  let changed = onceEvent(watcher, 'change');
  board.add(session, 'ES');
  board.add(session, 'es');
  board.add(session, 'es-mx');
  t.throws(() => board.add(session, `es-${'x'.repeat(40)}`), InvalidArgumentError, 'an over-long tag is refused at write');
  t.throws(() => board.add(session, 'es.cap'), InvalidArgumentError);
  t.same([...(await changed)[0].langs].sort(), ['es', 'es-MX'], 'ES and es are one language');
  board.remove(session, 'not a tag'); // never throws on the way out

  // Another writer (an older node, a hostile client of NATS) puts one bad tag in its entry: its good
  // languages still count, and so do every other node's.
  changed = onceEvent(watcher, 'change');
  const kv = await openDemandBucket(nc);
  await kv.put(`${session}.node-old`, JSON.stringify({ langs: ['DE', `x${'y'.repeat(70)}`, 'fr.>', 7, 'de'], viewers: { 'bad tag': 3, de: 1 }, viewerCount: 4 }));
  t.same([...(await changed)[0].langs].sort(), ['de', 'es', 'es-MX']);
  t.same(watcher.nodes.get('node-old'), { langs: ['de'], viewers: { de: 1 }, viewerCount: 4 });
});
