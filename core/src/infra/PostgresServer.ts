import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, chmod, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from 'pino';
import { writeOwnerOnly } from './infraCredentials.js';
import { ServerProcess } from './ServerProcess.js';

const run = promisify(execFile);

export interface PostgresServerOptions {
  /** The cluster's data directory; initdb runs when it holds no cluster yet. */
  dir: string;
  port: number;
  /** The application database, created if missing. */
  database: string;
  /** Durable writes (the demo); tests trade durability for speed (fsync off). */
  durable: boolean;
  /** The superuser `postgres`'s password; every connection must give it (scram-sha-256, no trust). */
  password: string;
  /**
   * The password is new: set it on a cluster that exists already (one made by an older version
   * with trust auth, or whose credentials file was removed).
   */
  resetPassword: boolean;
  log: Logger;
}

/** The only rules: password (scram-sha-256) on the socket and on loopback, nothing else. */
const PG_HBA = [
  '# Written by polyglot (core/src/infra/PostgresServer.ts) on every start.',
  'local all all scram-sha-256',
  'host all all 127.0.0.1/32 scram-sha-256',
  'host all all ::1/128 scram-sha-256',
  '',
].join('\n');

/** A real PostgreSQL cluster (Debian's packages) on 127.0.0.1, superuser `postgres` with a password (scram-sha-256). */
export class PostgresServer {
  /** Both carry the password (pg reads it from the URL). */
  readonly url: string;
  readonly adminUrl: string;
  readonly #database: string;
  readonly #spawn: () => ServerProcess;
  #process: ServerProcess;

  private constructor(spawnServer: () => ServerProcess, port: number, database: string, password: string) {
    this.#spawn = spawnServer;
    this.#process = spawnServer();
    this.#database = database;
    this.adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    this.url = `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  }

  static async start({ dir, port, database, durable, password, resetPassword, log }: PostgresServerOptions): Promise<PostgresServer> {
    const bin = postgresBinDir();
    const owner = await clusterOwner();
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o700);
    if (owner) {
      await assertReachable(path.dirname(dir), owner);
      await chown(dir, owner.uid, owner.gid);
    }
    if (!existsSync(path.join(dir, 'PG_VERSION'))) {
      // initdb reads the password from a file the cluster's user can read; it is removed at once.
      const pwfile = path.join(path.dirname(dir), '.postgres-pwfile');
      await writeOwnerOnly(pwfile, `${password}\n`);
      if (owner) await chown(pwfile, owner.uid, owner.gid);
      try {
        await run(path.join(bin, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale', '--no-sync'], {
          ...(owner ?? {}),
        }).catch((err: { stderr?: string }) => {
          throw new Error(`initdb failed in ${dir}: ${err.stderr?.trim() ?? String(err)}`, { cause: err });
        });
      } finally {
        await rm(pwfile, { force: true });
      }
    } else if (resetPassword) {
      await setPasswordOffline(bin, dir, password, owner);
    }
    const hba = path.join(dir, 'pg_hba.conf');
    await writeOwnerOnly(hba, PG_HBA);
    if (owner) await chown(hba, owner.uid, owner.gid);
    const settings = ['listen_addresses=127.0.0.1', `unix_socket_directories=${dir}`, 'max_connections=200', 'password_encryption=scram-sha-256'];
    if (!durable) settings.push('fsync=off', 'synchronous_commit=off', 'full_page_writes=off');
    const args = ['-D', dir, '-p', String(port), ...settings.flatMap((s) => ['-c', s])];
    const spawnServer = () =>
      new ServerProcess({
        name: 'postgres',
        command: path.join(bin, 'postgres'),
        args,
        stopSignal: 'SIGINT', // fast shutdown: SIGTERM would wait for every client to disconnect
        ...(owner ?? {}),
        log,
      });
    const server = new PostgresServer(spawnServer, port, database, password);
    await server.#waitReady();
    return server;
  }

  async #waitReady(): Promise<void> {
    try {
      await this.#process.waitReady(() => this.#createDatabase(this.#database));
    } catch (err) {
      await this.#process.stop();
      throw err;
    }
  }

  /** Stops the server but keeps its port and cluster, for up() (fault tests). */
  down(): Promise<void> {
    return this.#process.stop();
  }

  /** Starts the server again after down(), on the same port and cluster; no-op while it runs. */
  async up(): Promise<void> {
    if (this.#process.running) return;
    this.#process = this.#spawn();
    await this.#waitReady();
  }

  async #createDatabase(database: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.adminUrl, connectionTimeoutMillis: 2_000 });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
      return true;
    } finally {
      await client.end();
    }
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }
}

/**
 * Sets the superuser's password in single-user mode, before the server listens: the only way in
 * to a cluster whose password we do not know without opening a trust hole, even for a moment.
 */
async function setPasswordOffline(bin: string, dir: string, password: string, owner: { uid: number; gid: number } | undefined): Promise<void> {
  const child = spawn(path.join(bin, 'postgres'), ['--single', '-D', dir, '-c', 'password_encryption=scram-sha-256', 'postgres'], {
    stdio: ['pipe', 'ignore', 'pipe'],
    cwd: '/',
    ...(owner ?? {}),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  child.stdin.end(`ALTER ROLE postgres PASSWORD ${pg.escapeLiteral(password)};\n`);
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`setting the postgres password in ${dir} failed (code ${code}): ${stderr.replaceAll(password, '***').trim()}`);
}

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (!newest) throw new Error(`PostgreSQL server binaries not found under ${root}: run 'make setup'`);
  return path.join(root, newest, 'bin');
}

/** Postgres refuses to run as root: as root, the cluster belongs to the `postgres` system user. */
async function clusterOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch (err) {
    throw new Error("running as root needs the 'postgres' system user (Debian's postgresql package creates it): run 'make setup'", { cause: err });
  }
}

/** Fails with a clear message when the cluster's user could not even reach its data directory. */
async function assertReachable(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode, uid, gid } = await stat(current);
    const bit = uid === owner.uid ? 0o100 : gid === owner.gid ? 0o010 : 0o001;
    if ((mode & bit) === 0) {
      throw new Error(
        `Postgres runs as the 'postgres' user, which cannot enter ${current} (mode ${(mode & 0o777).toString(8)}): ` +
          'set PC_DATA_DIR to a directory every user can traverse (e.g. /var/lib/polyglot)',
      );
    }
    if (current === path.dirname(current)) return;
  }
}
