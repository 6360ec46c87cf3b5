import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// The import boundaries of docs/architecture.md, checked with dependency-cruiser and the rules in
// .dependency-cruiser.cjs: first that the repository keeps them, then that each rule really fires
// on a forbidden import (in a scratch tree), so a rule that matches nothing cannot pass unnoticed.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOMS = ['core', 'cli', 'proto', 'sql', 'sfu', 'signaling', 'sidecars', 'bench', 'test'];

interface Violation {
  rule: string;
  from: string;
  to: string;
}

async function depcruiseBin(): Promise<string> {
  // The package exports no package.json: walk up from its entry to its root, then read the bin.
  let dir = dirname(fileURLToPath(import.meta.resolve('dependency-cruiser')));
  for (;;) {
    const manifest: unknown = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}'));
    if (typeof manifest === 'object' && manifest !== null && Reflect.get(manifest, 'name') === 'dependency-cruiser') {
      const bin: unknown = Reflect.get(manifest, 'bin');
      const path: unknown = typeof bin === 'object' && bin !== null ? Reflect.get(bin, 'depcruise') : undefined;
      if (typeof path !== 'string') throw new Error('dependency-cruiser declares no depcruise bin');
      return join(dir, path);
    }
    if (dirname(dir) === dir) throw new Error('dependency-cruiser is not installed');
    dir = dirname(dir);
  }
}

/** Runs depcruise in `cwd` over `folders` with the repository's rules; returns every violation. */
async function cruise(cwd: string, folders: string[]): Promise<{ violations: Violation[]; modules: number }> {
  const args = [await depcruiseBin(), '--config', join(repoRoot, '.dependency-cruiser.cjs'), '--output-type', 'json', ...folders];
  const stdout = await new Promise<string>((resolvePromise, reject) => {
    // depcruise exits non-zero when it finds violations; the JSON on stdout says which.
    execFile(process.execPath, args, { cwd, maxBuffer: 256 * 1024 * 1024 }, (err, out, stderr) => {
      if (out.trimStart().startsWith('{')) resolvePromise(out);
      else reject(new Error(`depcruise failed: ${stderr || (err?.message ?? 'no output')}`));
    });
  });
  const result: unknown = JSON.parse(stdout);
  const summary = typeof result === 'object' && result !== null ? Reflect.get(result, 'summary') : undefined;
  const raw: unknown = typeof summary === 'object' && summary !== null ? Reflect.get(summary, 'violations') : undefined;
  const modules: unknown = typeof summary === 'object' && summary !== null ? Reflect.get(summary, 'totalCruised') : undefined;
  if (!Array.isArray(raw) || typeof modules !== 'number') throw new Error('depcruise output has no summary.violations');
  const violations = raw.map((v: unknown): Violation => {
    const rule: unknown = typeof v === 'object' && v !== null ? Reflect.get(Reflect.get(v, 'rule') ?? {}, 'name') : undefined;
    const from: unknown = typeof v === 'object' && v !== null ? Reflect.get(v, 'from') : undefined;
    const to: unknown = typeof v === 'object' && v !== null ? Reflect.get(v, 'to') : undefined;
    return { rule: String(rule), from: String(from), to: String(to) };
  });
  return { violations, modules };
}

t.test('the repository keeps its import boundaries', async (t) => {
  const { violations, modules } = await cruise(repoRoot, ROOMS);
  t.ok(modules > 250, `cruised the whole tree (${modules} modules)`);
  t.same(
    violations.map((v) => `${v.rule}: ${v.from} -> ${v.to}`),
    [],
    'no violations (see .dependency-cruiser.cjs and docs/architecture.md)',
  );
});

t.test('each boundary rule rejects a forbidden import and lets an allowed one through', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pc-boundaries-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await copyFile(join(repoRoot, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  // file -> the files it imports (relative to the scratch root)
  const tree: Record<string, string[]> = {
    'proto/src/index.ts': [],
    'core/src/log.ts': [],
    'core/src/upward.ts': ['signaling/src/Hub.ts'],
    'core/src/cycleA.ts': ['core/src/cycleB.ts'],
    'core/src/cycleB.ts': ['core/src/cycleA.ts'],
    'sql/src/index.ts': ['core/src/log.ts'],
    'sql/src/media.ts': ['sfu/src/Node.ts'],
    'sidecars/sdk/src/index.ts': ['core/src/log.ts', 'proto/src/index.ts'],
    'sidecars/client/src/index.ts': ['sidecars/client/src/Internal.ts', 'sidecars/sdk/src/index.ts'],
    'sidecars/client/src/Internal.ts': [],
    'sidecars/mt-good/src/Engine.ts': ['sidecars/sdk/src/index.ts', 'sidecars/mt-good/src/languages.ts'],
    'sidecars/mt-good/src/languages.ts': [],
    'sidecars/mt-bad/src/Engine.ts': ['core/src/log.ts'],
    'sfu/src/Node.ts': ['sidecars/client/src/index.ts', 'sql/src/index.ts', 'core/src/log.ts'],
    'sfu/src/Shortcut.ts': ['sidecars/client/src/Internal.ts'],
    'signaling/src/Hub.ts': ['core/src/log.ts', 'sql/src/index.ts'],
    'signaling/src/Relay.ts': ['sfu/src/Node.ts'],
    'signaling/test/relay.test.ts': ['sfu/src/Node.ts'],
    'cli/src/polyglot.ts': ['signaling/src/Hub.ts', 'sfu/src/Node.ts', 'sql/src/index.ts'],
  };
  for (const [file, imports] of Object.entries(tree)) {
    await mkdir(join(dir, dirname(file)), { recursive: true });
    const lines = imports.map((target, i) => {
      const spec = join(dirname(file).split('/').map(() => '..').join('/'), target.replace(/\.ts$/, '.js'));
      return `import * as m${i} from '${spec}';\nexport const u${i} = m${i};`;
    });
    await writeFile(join(dir, file), `${lines.join('\n')}\nexport const here = '${file}';\n`);
  }
  const { violations } = await cruise(dir, ['core', 'cli', 'proto', 'sql', 'sfu', 'signaling', 'sidecars']);
  const found = violations.map((v) => `${v.rule}: ${v.from} -> ${v.to}`).sort();
  t.same(
    found,
    [
      'client-only-through-its-index: sfu/src/Shortcut.ts -> sidecars/client/src/Internal.ts',
      'core-imports-only-below: core/src/upward.ts -> signaling/src/Hub.ts',
      'engine-imports-only-the-sdk: sidecars/mt-bad/src/Engine.ts -> core/src/log.ts',
      'no-circular: core/src/cycleA.ts -> core/src/cycleB.ts',
      'sfu-imports-only-below: sfu/src/Shortcut.ts -> sidecars/client/src/Internal.ts',
      'signaling-imports-only-below: signaling/src/Relay.ts -> sfu/src/Node.ts',
      'signaling-tests-import-only-below: signaling/test/relay.test.ts -> sfu/src/Node.ts',
      'sql-imports-only-below: sql/src/media.ts -> sfu/src/Node.ts',
    ],
    'exactly the forbidden imports are reported',
  );
});
