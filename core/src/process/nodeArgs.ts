import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The node arguments that run one of the project's own entry points in a child process: from the
 * TypeScript source when this process itself runs from source (keeping only the TypeScript loader
 * of our own execArgv, not a test runner's instrumentation, which would tie the child to us), or
 * from dist/ when it runs compiled.
 *
 * `source` is a path relative to the repository root, e.g. 'cli/src/polyglot.ts'.
 */
export function nodeArgsFor(source: string): string[] {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const root = path.resolve(path.dirname(here), fromSource ? '../../..' : '../../../..');
  if (fromSource) {
    const loader = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript') || arg.includes('ts-node'));
    return [...loader, path.join(root, source)];
  }
  return [path.join(root, 'dist', source.replace(/\.ts$/, '.js'))];
}
