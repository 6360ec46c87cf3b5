import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ContractLoadError } from './errors.js';

/** Path of one contract file relative to the proto root; its presence marks the root. */
const MARKER = join('polyglot', 'v1', 'speech.proto');

/**
 * Finds the directory holding `polyglot/v1/*.proto` (the repository's `proto/` directory) by
 * walking up from `from`, a module URL or a directory path.
 *
 * tsc does not copy .proto files into dist/, so this module runs from `proto/src/` under
 * ts-node and from `dist/proto/src/` once compiled; walking up finds `proto/` from both.
 */
export function findProtoRoot(from: string | URL = import.meta.url): string {
  const start = typeof from === 'string' && !from.startsWith('file:') ? from : dirname(fileURLToPath(from));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, MARKER))) return dir;
    const nested = join(dir, 'proto');
    if (existsSync(join(nested, MARKER))) return nested;
    if (dirname(dir) === dir) throw new ContractLoadError(`no proto/${MARKER} in or above ${start}`);
  }
}
