// Local HTTP stand-in for the part of the DeepL API v2 that deepl-node's Translator uses for text:
//   POST /v2/translate, POST|GET /v2/glossaries, GET|DELETE /v2/glossaries/:id
// Bodies arrive form-encoded with `text` repeated, as deepl-node sends them. Fake translation:
// `[<TARGET>] <text>`, glossary terms replaced first. Tests script HTTP failures on /v2/translate
// (`failNext`), hangs (`hangNext`), and read `requests` to count what reached "DeepL".
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface DeepLRequestRecord {
  method: string;
  path: string;
  params: URLSearchParams;
  authorization: string | undefined;
}

export interface DeepLGlossaryRecord {
  id: string;
  name: string;
  sourceLang: string;
  targetLang: string;
  entries: Map<string, string>;
}

type Outcome = { kind: 'fail'; status: number; message: string } | { kind: 'hang' };

export class DeepLStandIn {
  readonly requests: DeepLRequestRecord[] = [];
  readonly glossaries = new Map<string, DeepLGlossaryRecord>();
  /** TCP connections accepted so far: a keep-alive client opens one and reuses it. */
  connections = 0;
  readonly #script: Outcome[] = [];
  readonly #hung = new Set<http.ServerResponse>();
  readonly #server: http.Server;
  readonly #authKey: string;

  private constructor(authKey: string) {
    this.#authKey = authKey;
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.#handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    this.#server.on('connection', () => this.connections++);
  }

  static async start(opts: { authKey?: string } = {}): Promise<DeepLStandIn> {
    const standIn = new DeepLStandIn(opts.authKey ?? 'test-key:fx');
    await new Promise<void>((resolve) => standIn.#server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('DeepL stand-in is not listening');
    const info: AddressInfo = address;
    return `http://127.0.0.1:${info.port}`;
  }

  /** Requests to /v2/translate so far. */
  get translateCalls(): DeepLRequestRecord[] {
    return this.requests.filter((r) => r.path === '/v2/translate');
  }

  /** The next `times` POST /v2/translate answer `status`. */
  failNext(status: number, times = 1, message = `scripted ${status}`): void {
    for (let i = 0; i < times; i++) this.#script.push({ kind: 'fail', status, message });
  }

  /** The next `times` POST /v2/translate never answer (until close()). */
  hangNext(times = 1): void {
    for (let i = 0; i < times; i++) this.#script.push({ kind: 'hang' });
  }

  async close(): Promise<void> {
    for (const res of this.#hung) res.destroy();
    this.#hung.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const params = new URLSearchParams(body);
    url.searchParams.forEach((value, key) => params.append(key, value));
    this.requests.push({ method: req.method ?? '', path: url.pathname, params, authorization: req.headers.authorization });
    const send = (status: number, payload?: unknown) => {
      res.writeHead(status, payload === undefined ? {} : { 'content-type': 'application/json' });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    if (req.headers.authorization !== `DeepL-Auth-Key ${this.#authKey}`) return send(403, { message: 'Wrong endpoint or auth key' });

    if (req.method === 'POST' && url.pathname === '/v2/translate') {
      const next = this.#script.shift();
      if (next?.kind === 'fail') return send(next.status, { message: next.message });
      if (next?.kind === 'hang') {
        this.#hung.add(res);
        return;
      }
      const texts = params.getAll('text');
      const target = (params.get('target_lang') ?? '').toUpperCase();
      if (texts.length === 0) return send(400, { message: "Parameter 'text' not specified." });
      if (!target) return send(400, { message: "Value for 'target_lang' not supported." });
      const glossaryId = params.get('glossary_id');
      const glossary = glossaryId === null ? undefined : this.glossaries.get(glossaryId);
      if (glossaryId !== null && !glossary) return send(404, { message: 'Glossary not found' });
      if (glossary && !params.get('source_lang')) return send(400, { message: "Use of a glossary requires the 'source_lang' parameter" });
      const source = (params.get('source_lang') ?? 'EN').toUpperCase();
      return send(200, {
        translations: texts.map((text) => {
          let out = text;
          if (glossary) for (const [term, replacement] of glossary.entries) out = out.split(term).join(replacement);
          return { detected_source_language: source, text: `[${target}] ${out}`, billed_characters: text.length };
        }),
      });
    }

    const match = /^\/v2\/glossaries(?:\/([^/]+))?$/.exec(url.pathname);
    if (match) {
      const id = match[1];
      if (req.method === 'POST' && id === undefined) {
        if (params.get('entries_format') !== 'tsv') return send(400, { message: 'Unsupported entries_format' });
        const entries = new Map<string, string>();
        for (const line of (params.get('entries') ?? '').split('\n')) {
          const [term, replacement] = line.split('\t');
          if (term && replacement !== undefined) entries.set(term, replacement);
        }
        const record: DeepLGlossaryRecord = {
          id: randomUUID(),
          name: params.get('name') ?? '',
          sourceLang: (params.get('source_lang') ?? '').toLowerCase(),
          targetLang: (params.get('target_lang') ?? '').toLowerCase(),
          entries,
        };
        this.glossaries.set(record.id, record);
        return send(201, this.#info(record));
      }
      if (req.method === 'GET' && id === undefined) return send(200, { glossaries: [...this.glossaries.values()].map((g) => this.#info(g)) });
      const record = id === undefined ? undefined : this.glossaries.get(id);
      if (!record) return send(404, { message: 'Glossary not found' });
      if (req.method === 'GET') return send(200, this.#info(record));
      if (req.method === 'DELETE') {
        this.glossaries.delete(record.id);
        return send(204);
      }
    }
    send(404, { message: 'Not found' });
  }

  #info(g: DeepLGlossaryRecord): Record<string, unknown> {
    return {
      glossary_id: g.id,
      name: g.name,
      ready: true,
      source_lang: g.sourceLang,
      target_lang: g.targetLang,
      creation_time: new Date(0).toISOString(),
      entry_count: g.entries.size,
    };
  }
}
