import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// The server code is type-checked by every build (make setup runs tsc); the browser code is only
// bundled by esbuild, which strips types without checking them, so CI checks it here.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

t.test('the browser code type-checks (signaling/web/tsconfig.json, strict)', async (t) => {
  const { code, output } = await new Promise<{ code: number; output: string }>((done) => {
    execFile(process.execPath, [tsc, '-p', 'signaling/web/tsconfig.json', '--noEmit', '--pretty', 'false'], { cwd: repoRoot }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, output: `${stdout}${stderr}` });
    });
  });
  t.equal(code, 0, 'tsc exits 0');
  t.same(output.split('\n').filter((line) => line.includes('error TS')), [], 'no type errors');
});
