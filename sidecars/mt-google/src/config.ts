import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { workerEnvSchema } from '../../sdk/src/index.js';
import type { GoogleClientOptions, GoogleTranslateEngineOptions } from './GoogleTranslateEngine.js';

const languageList = z
  .string()
  .transform((s) => s.split(',').map((tag) => tag.trim()).filter((tag) => tag.length > 0))
  .pipe(z.array(z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'BCP-47 tags')).min(2, 'at least two languages'));

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

/** The mt-google worker's variables: the SDK's shared ones plus Google's (docs/configuration.md). */
export const googleTranslateEnvSchema = workerEnvSchema.extend({
  PC_GOOGLE_PROJECT_ID: z.string().min(1, 'required'),
  PC_GOOGLE_LOCATION: z.string().regex(/^[a-z0-9-]+$/).default('us-central1'),
  /** Service-account key JSON; unset: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, workload identity). */
  PC_GOOGLE_CREDENTIALS_JSON: serviceAccountJson.optional(),
  PC_GOOGLE_API_KEY: z.string().min(1).optional(),
  PC_GOOGLE_ENDPOINT: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'host:port')
    .optional(),
  PC_GOOGLE_PLAINTEXT: z.enum(['true', 'false']).default('false'),
  PC_MT_GOOGLE_LANGUAGES: languageList.default('en,de,fr,es,it,pt,nl,pl,ja,zh'),
  PC_MT_GOOGLE_GLOSSARY_PREFIX: z.string().regex(/^[a-z0-9_-]{1,32}$/).default('pc'),
  PC_MT_GOOGLE_MAX_CALLS: z.coerce.number().int().min(0).default(64),
});

export type GoogleTranslateEnv = z.infer<typeof googleTranslateEnvSchema>;

export function googleClientOptions(env: Pick<GoogleTranslateEnv, 'PC_GOOGLE_CREDENTIALS_JSON' | 'PC_GOOGLE_API_KEY' | 'PC_GOOGLE_ENDPOINT' | 'PC_GOOGLE_PLAINTEXT'>): GoogleClientOptions {
  const [host, port] = env.PC_GOOGLE_ENDPOINT?.split(':') ?? [];
  if (env.PC_GOOGLE_PLAINTEXT === 'true' && host === undefined) throw new TypeError('PC_GOOGLE_PLAINTEXT=true needs PC_GOOGLE_ENDPOINT');
  return {
    // Set explicitly so the client never asks a metadata server which universe it is in.
    universeDomain: 'googleapis.com',
    ...(env.PC_GOOGLE_CREDENTIALS_JSON ? { credentials: env.PC_GOOGLE_CREDENTIALS_JSON } : {}),
    ...(env.PC_GOOGLE_API_KEY ? { apiKey: env.PC_GOOGLE_API_KEY } : {}),
    ...(host !== undefined ? { apiEndpoint: host, port: Number(port) } : {}),
    ...(env.PC_GOOGLE_PLAINTEXT === 'true' ? { sslCreds: grpc.credentials.createInsecure() } : {}),
  };
}

export function googleTranslateEngineOptions(env: GoogleTranslateEnv): Omit<GoogleTranslateEngineOptions, 'log'> {
  return {
    projectId: env.PC_GOOGLE_PROJECT_ID,
    location: env.PC_GOOGLE_LOCATION,
    languages: env.PC_MT_GOOGLE_LANGUAGES,
    clientOptions: googleClientOptions(env),
    glossaryPrefix: env.PC_MT_GOOGLE_GLOSSARY_PREFIX,
    maxStreams: env.PC_MT_GOOGLE_MAX_CALLS,
  };
}
