import { execFile } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const launcher = path.join(root, 'cli/bin/polyglot');

async function pinnedNodeVersion(): Promise<string> {
  const env = await readFile(path.join(root, 'cli/setup/node.env'), 'utf8');
  const version = /^NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(env)?.[1];
  if (version === undefined) throw new Error('cli/setup/node.env has no NODE_VERSION=x.y.z line');
  return version;
}

const majorOf = (version: string) => version.replace(/^v/, '').split('.')[0];

t.test('the tests run on the pinned Node.js major', async (t) => {
  t.equal(majorOf(process.versions.node), majorOf(await pinnedNodeVersion()), `node ${process.version}`);
});

t.test('the polyglot launcher runs the CLI on the pinned Node.js major', async (t) => {
  // Preloaded into the CLI's process: reports the version of the node binary the launcher chose.
  const probe = path.join(t.testdir(), 'probe.mjs');
  await writeFile(probe, "process.stderr.write(`runtime ${process.version}\\n`);\n");
  const { stdout, stderr } = await run(launcher, ['--help'], { env: { ...process.env, NODE_OPTIONS: `--import=${probe}` } });
  t.match(stdout, 'usage: polyglot <command>');
  const version = /^runtime (v\S+)$/m.exec(stderr)?.[1];
  t.ok(version, 'the CLI process reported its node version');
  t.equal(majorOf(version ?? ''), majorOf(await pinnedNodeVersion()), `polyglot ran on ${version}`);
});

t.test('without the pinned Node.js the launcher says how to get it', async (t) => {
  // A PATH with only the tools the launcher itself needs, and no node; a cache with no Node.js in it.
  const dir = t.testdir({ bin: {}, cache: {} });
  for (const tool of ['readlink', 'dirname']) await symlink(`/usr/bin/${tool}`, path.join(dir, 'bin', tool));
  const failed = await run('/bin/bash', [launcher, '--help'], {
    env: { PATH: path.join(dir, 'bin'), PC_CACHE_DIR: path.join(dir, 'cache') },
  }).then(
    () => undefined,
    (err: { code: number; stderr: string }) => err,
  );
  t.equal(failed?.code, 1);
  t.match(failed?.stderr, /needs Node\.js \d+ \(node on PATH: none\); run 'make setup'/);
});
