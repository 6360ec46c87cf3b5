import type { Kysely } from 'kysely';
import { InvalidStateError, NotFoundError } from '../../core/src/errors.js';
import type { Database } from '../../sql/src/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How to get a session to publish into, in every refusal: the caller usually has no other help at hand. */
const HOW_TO_CREATE =
  'create one first (POST /api/sessions with a host token, or `polyglot up`, which prints a demo session) and publish into its id';

/**
 * Whether media may be published into a session: it must be in the database and not ended.
 * Without this, audio into an unknown session streamed happily and was never captioned.
 */
export class SessionGate {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Resolves if `session` accepts media; NotFoundError or InvalidStateError, each saying what to do, otherwise. */
  async check(session: string): Promise<void> {
    const row = UUID.test(session) ? await this.#db.selectFrom('sessions').select(['status']).where('id', '=', session).executeTakeFirst() : undefined;
    if (!row) throw new NotFoundError(`session ${session} does not exist: ${HOW_TO_CREATE}`);
    if (row.status === 'ended') throw new InvalidStateError(`session ${session} has ended: ${HOW_TO_CREATE}`);
  }
}
