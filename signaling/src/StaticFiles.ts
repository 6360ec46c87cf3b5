import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { NotFoundError } from '../../core/src/errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wav': 'audio/wav',
};

/**
 * The web pages built by signaling/web/build.mjs (dist/web): a fixed set of file types, nothing
 * outside the directory, and headers that keep tokens where they are (no referrer leaves the page;
 * the token is in the fragment, which browsers never send).
 */
export class StaticFiles {
  readonly #root: string;

  constructor(root: string) {
    this.#root = path.resolve(root);
  }

  /** Serves `pathname` (GET or HEAD); NotFoundError when there is no such page. */
  async serve(pathname: string, res: ServerResponse, head: boolean): Promise<void> {
    const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = path.resolve(this.#root, rel);
    const type = TYPES[path.extname(file)];
    if (!file.startsWith(this.#root + path.sep) || type === undefined) throw new NotFoundError(`no page ${pathname}`);
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      throw new NotFoundError(`no page ${pathname}`);
    }
    res.writeHead(200, {
      'content-type': type,
      'content-length': body.length,
      'cache-control': type.startsWith('text/html') ? 'no-cache' : 'public, max-age=300',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      // No framing: a page holding a host token must not be clickjacked into ending a session.
      'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
    });
    res.end(head ? undefined : body);
  }
}
