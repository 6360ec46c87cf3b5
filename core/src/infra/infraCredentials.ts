import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { NATS_ROLES, type NatsRole } from '../natsPermissions.js';

/**
 * The local infra's generated passwords: one NATS user per role, the Postgres superuser's and the
 * Redis user's. Kept in `credentials.json` (0600) in the infra's directory, so `polyglot up` and a
 * persistent set reuse them across restarts; a throwaway set's die with its temporary directory.
 */
export interface InfraCredentials {
  nats: Record<NatsRole, { user: string; password: string }>;
  postgres: { user: string; password: string };
  redis: { user: string; password: string };
}

const account = z.object({ user: z.string().regex(/^[A-Za-z0-9_-]+$/), password: z.string().regex(/^[A-Za-z0-9_-]{16,}$/) });
const credentialsSchema = z.object({
  nats: z.object(Object.fromEntries(NATS_ROLES.map((role) => [role, account])) as Record<NatsRole, typeof account>),
  postgres: account,
  redis: account,
});

/** The file that holds them, readable by its owner only. */
export function credentialsFile(dir: string): string {
  return path.join(dir, 'credentials.json');
}

/**
 * URL-safe, so it goes into a URL's userinfo as it is. It starts with a letter: nats.js parses
 * `nats://user:9abc@host:port` as port 9 (a userinfo whose password starts with a digit), so code
 * that hands such a URL straight to nats.js would dial the wrong port.
 */
function newPassword(): string {
  return `p${randomBytes(24).toString('base64url')}`;
}

export function generateCredentials(): InfraCredentials {
  return {
    nats: Object.fromEntries(NATS_ROLES.map((role) => [role, { user: role, password: newPassword() }])) as InfraCredentials['nats'],
    postgres: { user: 'postgres', password: newPassword() },
    redis: { user: 'polyglot', password: newPassword() },
  };
}

/** Writes `text` readable and writable by the owner only, whatever the file's mode was before. */
export async function writeOwnerOnly(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}

/**
 * The credentials stored in `dir`, or new ones (then `fresh` is true and they are stored). A file
 * that does not parse is an error, not a reason to replace it: the servers already hold those passwords.
 */
export async function loadOrCreateCredentials(dir: string): Promise<{ credentials: InfraCredentials; fresh: boolean }> {
  const file = credentialsFile(dir);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text !== undefined) {
    const parsed = credentialsSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${file} is not a credentials file this version understands: move it away to generate new credentials`);
    await chmod(file, 0o600);
    return { credentials: parsed.data, fresh: false };
  }
  const credentials = generateCredentials();
  await writeOwnerOnly(file, `${JSON.stringify(credentials, null, 2)}\n`);
  return { credentials, fresh: true };
}

/** Reads a credentials file written by loadOrCreateCredentials (`polyglot up` reads the NATS roles from it). */
export async function readCredentials(file: string): Promise<InfraCredentials> {
  const parsed = credentialsSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a credentials file this version understands`);
  return parsed.data;
}
