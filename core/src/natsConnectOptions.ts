import { readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions } from 'nats';

/** How a process proves who it is to NATS (docs/configuration.md: PC_NATS_USER, PC_NATS_PASSWORD, PC_NATS_CREDS_FILE). */
export interface NatsAuth {
  user?: string | undefined;
  password?: string | undefined;
  /** A `.creds` file (JWT and nkey seed) for a server run with decentralized auth. */
  credsFile?: string | undefined;
}

/**
 * Connection options for `url` with the credentials in `auth`, or else in the URL's userinfo
 * (`nats://user:password@host:port`): nats.js itself ignores a URL's userinfo, so without this a
 * URL with credentials would connect anonymously and be refused. The server list given to nats.js
 * carries no password, so it never shows up in the client's errors or status events.
 */
export function natsConnectOptions(url: string, auth: NatsAuth = {}): ConnectionOptions {
  const parsed = new URL(url);
  const user = auth.user ?? (parsed.username ? decodeURIComponent(parsed.username) : undefined);
  const password = auth.password ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
  parsed.username = '';
  parsed.password = '';
  const options: ConnectionOptions = { servers: parsed.toString().replace(/\/$/, '') };
  if (auth.credsFile) {
    // Read once at start: a creds file that cannot be read is a configuration error, not a retry.
    options.authenticator = credsAuthenticator(readFileSync(auth.credsFile));
  } else if (user !== undefined) {
    options.user = user;
    if (password !== undefined) options.pass = password;
  }
  return options;
}
