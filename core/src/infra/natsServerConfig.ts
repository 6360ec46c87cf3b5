import { NATS_PERMISSIONS, NATS_ROLES, type NatsRole } from '../natsPermissions.js';

export interface NatsServerConfigOptions {
  users: Record<NatsRole, { user: string; password: string }>;
  /**
   * A connection that presents no credentials is this role's user. Only the throwaway sets of the
   * tests use it (admin), so test code may connect with a bare URL; never a persistent set.
   */
  noAuthRole?: NatsRole;
}

/** nats-server's configuration syntax accepts JSON strings and arrays. */
const str = (value: string): string => JSON.stringify(value);
const list = (values: readonly string[]): string => `[${values.map(str).join(', ')}]`;

/** The `authorization` block (and no_auth_user) of nats-server.conf, from the permission table. */
export function natsServerConfig({ users, noAuthRole }: NatsServerConfigOptions): string {
  const entries = NATS_ROLES.map((role) => {
    const { publish, subscribe, allowResponses } = NATS_PERMISSIONS[role];
    // An empty allow list would mean "no restriction": deny everything instead.
    const pub = publish.length > 0 ? `{ allow: ${list(publish)} }` : `{ deny: [">"] }`;
    const sub = subscribe.length > 0 ? `{ allow: ${list(subscribe)} }` : `{ deny: [">"] }`;
    const { user, password } = users[role];
    return `    { user: ${str(user)}, password: ${str(password)}, permissions: { publish: ${pub}, subscribe: ${sub}${allowResponses ? ', allow_responses: true' : ''} } }`;
  });
  return [
    '# Written by polyglot (core/src/infra/natsServerConfig.ts) from core/src/natsPermissions.ts; regenerated on every start.',
    'authorization {',
    '  users = [',
    entries.join(',\n'),
    '  ]',
    '}',
    ...(noAuthRole ? [`no_auth_user: ${str(users[noAuthRole].user)}`] : []),
    '',
  ].join('\n');
}
