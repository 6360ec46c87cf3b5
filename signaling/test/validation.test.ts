import tap from 'tap';
import { mint, seedSession, startSignaling } from './fixtures/signaling.js';
import { TestClient } from './fixtures/TestClient.js';

tap.test('bad frames get an error frame with a code, and the socket keeps working', async (t) => {
  const s = await startSignaling(t);
  const session = await seedSession(s.server);
  const { client } = await TestClient.authenticated(s.wsUrl, await mint({ org: session.organizationId, session: session.id }));
  let n = 0;
  const stillWorks = async (what: string): Promise<void> => {
    n += 1;
    client.send({ id: `ping-${n}`, type: 'ping' });
    t.match(await client.next('pong'), { id: `ping-${n}` }, `usable after ${what}`);
  };

  client.send('{"type": "ping",');
  t.match(await client.next('error'), { code: 'bad_json', message: /not valid JSON/ });
  await stillWorks('malformed JSON');

  client.send({ id: 'u', type: 'teleport' });
  t.match(await client.next('error'), { id: 'u', code: 'unknown_type', message: /teleport/ });
  await stillWorks('an unknown type');

  client.send({ id: 'w1', type: 'setLanguage', language: 42 });
  t.match(await client.next('error'), { id: 'w1', code: 'invalid_message', message: /language/ });
  client.send({ id: 'w2', type: 'setLanguage' });
  t.match(await client.next('error'), { id: 'w2', code: 'invalid_message', message: /language/ });
  client.send({ id: 'w3', type: 'ping', extra: true });
  t.match(await client.next('error'), { id: 'w3', code: 'invalid_message', message: /extra/ }, 'unknown fields are refused');
  client.send({ id: 'w4', type: 'setLanguage', language: 'not a language' });
  t.match(await client.next('error'), { id: 'w4', code: 'invalid_message', message: /BCP 47/ });
  client.send({ id: 'w5', type: 'createTransport', direction: 'sideways' });
  t.match(await client.next('error'), { id: 'w5', code: 'invalid_message', message: /direction/ });
  client.send([1, 2, 3]);
  t.match(await client.next('error'), { code: 'invalid_message' });
  client.send({ id: { nested: true }, type: 'ping' });
  t.match(await client.next('error'), { code: 'invalid_message' }, 'an id must be a string or a number');
  await stillWorks('wrong fields');

  client.send({ id: 'big', type: 'setLanguage', language: 'en', pad: 'x'.repeat(64 * 1024) });
  t.match(await client.next('error'), { code: 'message_too_large', message: /exceeds 65536/ });
  await stillWorks('a message over 64 KiB');

  client.send(Buffer.from([1, 2, 3]));
  t.match(await client.next('error'), { code: 'invalid_message', message: /binary/ });
  await stillWorks('a binary frame');

  client.send({ id: 'l', type: 'setLanguage', language: 'pt-BR' });
  t.match(await client.next('languageSet'), { id: 'l', language: 'pt-BR' });
  client.send({ id: 'j', type: 'createTransport', direction: 'recv' });
  t.match(await client.next('error'), { id: 'j', code: 'invalid_state', message: /join first/ }, 'media before join');
  await client.close();
});

tap.test('requests are answered in order, so a client may pipeline them after auth', async (t) => {
  const s = await startSignaling(t);
  const session = await seedSession(s.server);
  const client = await TestClient.open(s.wsUrl);
  client.send({ id: 'a', type: 'auth', token: await mint({ org: session.organizationId, session: session.id }) });
  for (let i = 0; i < 5; i++) client.send({ id: i, type: 'ping' });
  client.send('{"id": "bad", ');
  t.match(await client.next('error'), { code: 'bad_json' }, 'a bad frame behind a pending auth gets an error frame, not a close');
  t.match(await client.next(), { type: 'welcome', id: 'a' });
  for (let i = 0; i < 5; i++) t.match(await client.next(), { type: 'pong', id: i });
  await client.close();
});
