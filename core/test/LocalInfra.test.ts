import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import pg from 'pg';
import t from 'tap';
import { z } from 'zod';
import { LocalInfra } from '../src/infra/LocalInfra.js';
import { nodeArgsFor } from '../src/process/nodeArgs.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until every pid is gone, or fails after timeoutMs. */
async function allGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pids.every((pid) => !alive(pid))) return true;
    await delay(50);
  }
  return false;
}

/** Every process in the process groups the infra's watchdogs lead, read from /proc. */
async function groupMembers(leaders: number[]): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (leaders.includes(Number(fields[2]))) pids.push(Number(entry));
  }
  return pids;
}

t.test('starts real NATS with JetStream, Postgres and Redis, and stops them all', async (t) => {
  const infra = await LocalInfra.start();
  t.teardown(() => infra.stop());
  const leaders = [infra.nats.pid, infra.postgres.pid, infra.redis.pid].filter((p): p is number => p !== undefined);
  const members = await groupMembers(leaders);
  t.ok(members.length >= 3, `server processes found (${members.length})`);

  const nc = await connect({ servers: infra.env.PC_NATS_URL });
  const jsm = await nc.jetstreamManager();
  t.ok((await jsm.getAccountInfo()).limits, 'JetStream answers');
  await nc.close();

  const client = new pg.Client({ connectionString: infra.env.PC_DATABASE_URL });
  await client.connect();
  const { rows } = await client.query<{ db: string; v: string }>('SELECT current_database() AS db, current_setting($1) AS v', ['server_version_num']);
  await client.end();
  t.equal(rows[0]?.db, 'polyglot');
  t.ok(Number(rows[0]?.v) >= 150000, 'PostgreSQL 15 or newer');

  const redis = new Redis(infra.env.PC_REDIS_URL);
  t.equal(await redis.ping(), 'PONG');
  redis.disconnect();

  await infra.stop();
  t.ok(await allGone(members, 15_000), 'no server process is left after stop()');
});

t.test('a process that dies without cleaning up leaves no server behind', async (t) => {
  const child = spawn(process.execPath, nodeArgsFor('core/test/fixtures/startInfraAndHang.ts'), { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8');
  const leaders = await new Promise<number[]>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      // stdout also carries the fixture's JSON logs; the pids come on their own marked line.
      const line = out.split('\n').find((l) => l.startsWith('PIDS '));
      if (line) resolve(z.array(z.number()).parse(JSON.parse(line.slice(5))));
    });
    child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
  });
  const members = await groupMembers(leaders);
  t.ok(members.length >= 3, `server processes running (${members.length})`);
  child.kill('SIGKILL');
  await once(child, 'exit');
  t.ok(await allGone(members, 15_000), 'every server stopped once its owner was killed');
});
