import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { workerEnvSchema } from '../../sdk/src/index.js';
import type { GoogleSpeechClientOptions, GoogleSpeechEngineOptions } from './GoogleSpeechEngine.js';

const languageList = z
  .string()
  .transform((s) => s.split(',').map((tag) => tag.trim()).filter((tag) => tag.length > 0))
  .pipe(z.array(z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'BCP-47 tags')).min(1, 'at least one language'));

const ms = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** A service-account key (the JSON Google issues); only the two fields the client needs are kept. */
const serviceAccountJson = z.string().transform((raw, ctx) => {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'not JSON' });
    return z.NEVER;
  }
  const clientEmail: unknown = typeof value === 'object' && value !== null ? Reflect.get(value, 'client_email') : undefined;
  const privateKey: unknown = typeof value === 'object' && value !== null ? Reflect.get(value, 'private_key') : undefined;
  if (typeof clientEmail !== 'string' || typeof privateKey !== 'string') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'needs client_email and private_key' });
    return z.NEVER;
  }
  return { client_email: clientEmail, private_key: privateKey };
});

/** The stt-google worker's variables: the SDK's shared ones plus Google's (docs/configuration.md). */
export const googleSpeechEnvSchema = workerEnvSchema.extend({
  PC_GOOGLE_PROJECT_ID: z.string().min(1, 'required'),
  /** Service-account key JSON; unset: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, workload identity). */
  PC_GOOGLE_CREDENTIALS_JSON: serviceAccountJson.optional(),
  PC_GOOGLE_API_KEY: z.string().min(1).optional(),
  PC_GOOGLE_ENDPOINT: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'host:port')
    .optional(),
  PC_GOOGLE_PLAINTEXT: z.enum(['true', 'false']).default('false'),
  PC_STT_GOOGLE_LANGUAGES: languageList.default('en,de,fr,es,it,pt,nl,pl,ja,zh'),
  PC_STT_GOOGLE_MODEL: z.string().min(1).optional(),
  PC_STT_GOOGLE_MAX_STREAMS: z.coerce.number().int().min(1).default(50),
  PC_STT_GOOGLE_ROTATE_AFTER_MS: ms(10_000, 290_000, 270_000),
  PC_STT_GOOGLE_ROTATE_AT_FINAL_AFTER_MS: ms(5_000, 290_000, 240_000),
  PC_STT_GOOGLE_MAX_REPLAY_MS: ms(1_000, 145_000, 60_000),
  PC_STT_GOOGLE_DRAIN_TIMEOUT_MS: ms(100, 60_000, 5_000),
  PC_STT_GOOGLE_IDLE_MS: ms(500, 60_000, 5_000),
});

export type GoogleSpeechEnv = z.infer<typeof googleSpeechEnvSchema>;

function clientOptions(env: GoogleSpeechEnv): GoogleSpeechClientOptions {
  const [host, port] = env.PC_GOOGLE_ENDPOINT?.split(':') ?? [];
  if (env.PC_GOOGLE_PLAINTEXT === 'true' && host === undefined) throw new TypeError('PC_GOOGLE_PLAINTEXT=true needs PC_GOOGLE_ENDPOINT');
  return {
    projectId: env.PC_GOOGLE_PROJECT_ID,
    // Set explicitly so the client never asks a metadata server which universe it is in.
    universeDomain: 'googleapis.com',
    ...(env.PC_GOOGLE_CREDENTIALS_JSON ? { credentials: env.PC_GOOGLE_CREDENTIALS_JSON } : {}),
    ...(env.PC_GOOGLE_API_KEY ? { apiKey: env.PC_GOOGLE_API_KEY } : {}),
    ...(host !== undefined ? { apiEndpoint: host, port: Number(port) } : {}),
    ...(env.PC_GOOGLE_PLAINTEXT === 'true' ? { sslCreds: grpc.credentials.createInsecure() } : {}),
  };
}

export function googleSpeechEngineOptions(env: GoogleSpeechEnv): Omit<GoogleSpeechEngineOptions, 'log'> {
  return {
    languages: env.PC_STT_GOOGLE_LANGUAGES,
    maxStreams: env.PC_STT_GOOGLE_MAX_STREAMS,
    clientOptions: clientOptions(env),
    ...(env.PC_STT_GOOGLE_MODEL ? { model: env.PC_STT_GOOGLE_MODEL } : {}),
    rotation: {
      rotateAfterAudioMs: env.PC_STT_GOOGLE_ROTATE_AFTER_MS,
      rotateAtFinalAfterAudioMs: env.PC_STT_GOOGLE_ROTATE_AT_FINAL_AFTER_MS,
      maxReplayMs: env.PC_STT_GOOGLE_MAX_REPLAY_MS,
      drainTimeoutMs: env.PC_STT_GOOGLE_DRAIN_TIMEOUT_MS,
      idleMs: env.PC_STT_GOOGLE_IDLE_MS,
    },
  };
}
