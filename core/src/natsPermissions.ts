/**
 * Who may publish and subscribe to what on NATS, per process role, built from the subjects in
 * subjects.ts so the two cannot drift apart. The local harness renders this table into the
 * nats-server configuration (infra/natsServerConfig.ts); in production the operator gives each
 * role's user the same permissions (docs/security/credentials.md).
 *
 * The rule the table exists for: a language worker only announces itself. It cannot publish
 * captions, call the SFU, or read anything, so a rogue or compromised worker can neither inject
 * captions nor drive media.
 */
import { CAPTION_STREAM } from './captions/captionStream.js';
import { DEMAND_BUCKET } from './captions/demandBucket.js';
import {
  ALL_FINAL_CAPTIONS,
  ALL_INTERIM_CAPTIONS,
  ALL_LANGUAGE_STATUS,
  ALL_SESSION_CONTROL,
  ALL_SFU_RPC,
  ALL_SFU_SESSION_EVENTS,
  SFU_ANNOUNCE_SUBJECT,
  SFU_PLACE_SUBJECT,
  SFU_PLACEMENT_BUCKET,
  WORKER_ANNOUNCE_SUBJECT,
} from './subjects.js';

export const NATS_ROLES = ['signaling', 'sfu', 'worker', 'history', 'cli', 'admin'] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

export interface NatsRolePermissions {
  /** Subjects (with wildcards) the role may publish to; nothing else. */
  publish: readonly string[];
  /** Subjects (with wildcards) the role may subscribe to; nothing else. */
  subscribe: readonly string[];
  /** May answer requests sent to it (reply subjects), without a general right to publish on _INBOX. */
  allowResponses: boolean;
}

/** Replies to this connection's own requests (core requests and JetStream API answers). */
const INBOX = '_INBOX.>';
const JS_ACCOUNT_INFO = '$JS.API.INFO';

/** Reading a stream: info, single messages, consumers (ephemeral, ordered and durable), acks, flow control. */
function readStream(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/** Creating the stream if it is missing, or bringing its configuration up to date (never deleting or purging it). */
function manageStream(stream: string): string[] {
  return [`$JS.API.STREAM.CREATE.${stream}`, `$JS.API.STREAM.UPDATE.${stream}`];
}

/** A KV bucket is a stream `KV_<bucket>` whose keys are the subjects `$KV.<bucket>.<key>`. */
function kvBucket(bucket: string, access: 'read' | 'write'): string[] {
  const stream = `KV_${bucket}`;
  return [...readStream(stream), ...manageStream(stream), ...(access === 'write' ? [`$KV.${bucket}.>`] : [])];
}

export const NATS_PERMISSIONS: Readonly<Record<NatsRole, NatsRolePermissions>> = {
  signaling: {
    publish: [ALL_SESSION_CONTROL, SFU_PLACE_SUBJECT, ALL_SFU_RPC, JS_ACCOUNT_INFO, ...readStream(CAPTION_STREAM), ...kvBucket(DEMAND_BUCKET, 'write')],
    // Language status from the pipeline, the workers' offer (which languages a viewer may pick) and
    // the SFU nodes' announcements (a node that restarted or vanished).
    subscribe: [ALL_INTERIM_CAPTIONS, ALL_FINAL_CAPTIONS, ALL_LANGUAGE_STATUS, ALL_SESSION_CONTROL, ALL_SFU_SESSION_EVENTS, SFU_ANNOUNCE_SUBJECT, WORKER_ANNOUNCE_SUBJECT, INBOX],
    allowResponses: false,
  },
  sfu: {
    publish: [
      ALL_INTERIM_CAPTIONS,
      ALL_FINAL_CAPTIONS,
      ALL_LANGUAGE_STATUS,
      SFU_ANNOUNCE_SUBJECT,
      ALL_SFU_SESSION_EVENTS,
      JS_ACCOUNT_INFO,
      ...readStream(CAPTION_STREAM),
      ...manageStream(CAPTION_STREAM),
      ...kvBucket(DEMAND_BUCKET, 'read'),
      ...kvBucket(SFU_PLACEMENT_BUCKET, 'write'),
    ],
    subscribe: [ALL_SFU_RPC, SFU_PLACE_SUBJECT, SFU_ANNOUNCE_SUBJECT, WORKER_ANNOUNCE_SUBJECT, INBOX],
    allowResponses: true,
  },
  worker: {
    publish: [WORKER_ANNOUNCE_SUBJECT],
    subscribe: [],
    allowResponses: false,
  },
  history: {
    publish: [JS_ACCOUNT_INFO, ...readStream(CAPTION_STREAM), ...manageStream(CAPTION_STREAM)],
    subscribe: [INBOX],
    allowResponses: false,
  },
  // polyglot watch (captions, its own demand), publish (SFU placement and RPC), up (the worker registry).
  cli: {
    publish: [SFU_PLACE_SUBJECT, ALL_SFU_RPC, JS_ACCOUNT_INFO, ...readStream(CAPTION_STREAM), ...kvBucket(DEMAND_BUCKET, 'write')],
    subscribe: [ALL_INTERIM_CAPTIONS, ALL_FINAL_CAPTIONS, SFU_ANNOUNCE_SUBJECT, WORKER_ANNOUNCE_SUBJECT, INBOX],
    allowResponses: false,
  },
  // Tests and the operator's own tooling: everything.
  admin: {
    publish: ['>'],
    subscribe: ['>'],
    allowResponses: true,
  },
};

/** NATS subject matching: `*` matches one token, a final `>` one or more. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i === p.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

export function mayPublish(role: NatsRole, subject: string): boolean {
  return NATS_PERMISSIONS[role].publish.some((pattern) => subjectMatches(pattern, subject));
}

export function maySubscribe(role: NatsRole, subject: string): boolean {
  return NATS_PERMISSIONS[role].subscribe.some((pattern) => subjectMatches(pattern, subject));
}
