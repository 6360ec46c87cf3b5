// Glossary edits in Postgres (sql's GlossaryVersions) reaching translations (sidecars/client's
// TranslationClient, with the real DeepL engine behind a worker): the two packages as the SFU's
// caption service wires them.
import tap from 'tap';
import { GlossaryVersions } from '../sql/src/index.js';
import { migratedDb, seedGlossary } from '../sql/test/fixtures/testDb.js';
import { TranslationCache, TranslationClient } from '../sidecars/client/src/index.js';
import { newRegistry, quiet, redisFor, startEngines, StaticDirectory } from '../sidecars/client/test/_harness.js';
import { ManualClock } from '../sidecars/client/test/ManualClock.js';



tap.test('a glossary edit in Postgres changes the next translation; the old cache entry is never served', async (t) => {
  const db = await migratedDb(t);
  const { orgId, glossaryId } = await seedGlossary(db);
  const engines = await startEngines(t);
  const redis = await redisFor(t);
  const clock = new ManualClock();
  const directory = new StaticDirectory();
  directory.addresses.set('deepl', engines.deepl.worker.address);
  // DeepL creates glossaries from the entries it receives, so no provisioning is needed here.
  const client = new TranslationClient({ directory, redis, registry: newRegistry(), chains: { default: ['deepl'] }, clock, log: quiet });
  t.teardown(() => client.close());
  const versions = new GlossaryVersions({ db, ttlMs: 5_000, clock });
  const translate = async () => {
    const glossaries = await versions.forTargets(orgId, 'en', ['de']);
    const outcome = await client.translate({ texts: ['the keynote starts'], source: 'en', targets: ['de'], orgId, purpose: 'live', glossaries });
    return outcome.translations.map((x) => `${x.text} (${x.cached ? 'cached' : 'fresh'})`);
  };

  t.same(await translate(), ['[DE] the Hauptvortrag starts (fresh)']);
  t.same(await translate(), ['[DE] the Hauptvortrag starts (cached)']);
  const requestsBefore = engines.deepl.standIn.translateCalls.length;

  await db.updateTable('glossary_entries').set({ target_term: 'Grundsatzrede' }).where('glossary_id', '=', glossaryId).execute();
  clock.advance(5_000);
  t.same(await translate(), ['[DE] the Grundsatzrede starts (fresh)'], 'the new version misses the cache');
  t.equal(engines.deepl.standIn.translateCalls.length, requestsBefore + 1);
  // (The engine deletes the version 2 glossary in the background; DeepLEngine.test.ts checks that.)
  t.ok([...engines.deepl.standIn.glossaries.values()].some((g) => g.name === `pc:${orgId}:en:de:v3`), 'a DeepL glossary for the new version');

  const oldKey = TranslationCache.key({ source: 'en', target: 'de', orgId, glossaryVersion: 2, text: 'the keynote starts' });
  t.ok(await redis.exists(oldKey), 'the old entry is still in Redis, unreachable, until its TTL');
});
