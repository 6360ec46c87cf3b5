import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificate {
  /** PEM files, for the PC_WORKER_TLS_* variables. */
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/**
 * A self-signed certificate for 127.0.0.1 made with openssl in a temporary directory (removed by
 * the test's teardown): its own CA, so a client that trusts `cert` verifies the server.
 */
export async function selfSignedCertificate(t: { teardown(fn: () => unknown): void }, commonName = '127.0.0.1'): Promise<TestCertificate> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pc-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-keyout', keyFile, '-out', certFile,
    '-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=IP:127.0.0.1',
  ]);
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}
