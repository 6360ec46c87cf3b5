import { GlossaryEntries, type Translator } from 'deepl-node';
import type { Logger } from 'pino';
import { NotFoundError, type Glossary } from '../../sdk/src/index.js';
import { fromDeepLError } from './_deeplErrors.js';
import { deeplGlossaryLanguage } from './languages.js';

export interface DeepLGlossariesOptions {
  translator: Translator;
  /** Names this deployment's glossaries `<prefix>:<org>:<source>:<target>:v<version>`. */
  namePrefix: string;
  log: Logger;
}

/**
 * One DeepL glossary per (organization, language pair, version), created on first use and its id
 * cached. A version's entries never change (Glossary), so a cached id never goes stale; an edit
 * makes a new version, hence a new glossary, and the older versions of that pair are deleted
 * afterwards (DeepL limits glossaries per account). Existing glossaries are listed once per
 * process, so a restarted worker reuses them instead of creating duplicates.
 */
export class DeepLGlossaries {
  readonly #translator: Translator;
  readonly #prefix: string;
  readonly #log: Logger;
  /** Glossary name -> id, for glossaries this process created or found. */
  readonly #ids = new Map<string, Promise<string>>();
  readonly #cleanups = new Set<Promise<void>>();
  #listed: Promise<void> | undefined;

  constructor({ translator, namePrefix, log }: DeepLGlossariesOptions) {
    this.#translator = translator;
    this.#prefix = namePrefix;
    this.#log = log;
  }

  nameOf(g: Pick<Glossary, 'orgId' | 'source' | 'target' | 'version'>): string {
    return `${this.#pairName(g)}:v${g.version}`;
  }

  /** The DeepL glossary id for this version, creating the glossary if needed. */
  async idFor(g: Glossary): Promise<string> {
    await (this.#listed ??= this.#listExisting());
    const name = this.nameOf(g);
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.#create(name, g);
      this.#ids.set(name, id);
      // A failed creation is not cached: the next request tries again.
      id.catch(() => this.#ids.delete(name));
    }
    return id;
  }

  /** Drops a cached id DeepL no longer knows (deleted by hand): the next idFor() recreates it. */
  forget(g: Glossary): void {
    this.#ids.delete(this.nameOf(g));
  }

  /** Waits for background deletions of old versions. */
  async drain(): Promise<void> {
    await Promise.all([...this.#cleanups]);
  }

  #pairName(g: Pick<Glossary, 'orgId' | 'source' | 'target'>): string {
    return `${this.#prefix}:${g.orgId}:${g.source.toLowerCase()}:${g.target.toLowerCase()}`;
  }

  async #listExisting(): Promise<void> {
    try {
      for (const info of await this.#translator.listGlossaries()) {
        if (info.name.startsWith(`${this.#prefix}:`) && !this.#ids.has(info.name)) this.#ids.set(info.name, Promise.resolve(info.glossaryId));
      }
    } catch (err) {
      this.#listed = undefined;
      throw fromDeepLError(err, 'deepl listGlossaries');
    }
  }

  async #create(name: string, g: Glossary): Promise<string> {
    const source = deeplGlossaryLanguage(g.source);
    const target = deeplGlossaryLanguage(g.target);
    if (source === undefined || target === undefined) throw new NotFoundError(`deepl has no glossaries for ${g.source}->${g.target}`);
    let id: string;
    try {
      const entries = new GlossaryEntries({ entries: Object.fromEntries(g.entries.map((e) => [e.sourceTerm, e.targetTerm])) });
      id = (await this.#translator.createGlossary(name, source, target, entries)).glossaryId;
    } catch (err) {
      throw fromDeepLError(err, `deepl createGlossary ${name}`);
    }
    this.#log.info({ glossary: name, glossaryId: id }, 'deepl glossary created');
    this.#deleteOlderThan(g);
    return id;
  }

  #deleteOlderThan(g: Glossary): void {
    const pair = `${this.#pairName(g)}:v`;
    for (const [name, id] of this.#ids) {
      const version = name.startsWith(pair) ? Number(name.slice(pair.length)) : NaN;
      if (!(version < g.version)) continue;
      this.#ids.delete(name);
      const cleanup = id
        .then((glossaryId) => this.#translator.deleteGlossary(glossaryId))
        .catch((err: unknown) => this.#log.warn({ err, glossary: name }, 'could not delete an old deepl glossary'))
        .finally(() => this.#cleanups.delete(cleanup));
      this.#cleanups.add(cleanup);
    }
  }
}
