import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SpeechWavOptions {
  /** Sample rate of the WAV in Hz: 16000 for speech-to-text engines, 48000 to feed an Opus encoder. */
  sampleRate: number;
  /** espeak-ng voice. Default 'en-us+klatt2': PocketSphinx recognises it far better than the default voice. */
  voice?: string;
}

/**
 * Speaks `text` with espeak-ng into a mono 16-bit PCM WAV file in a fresh temporary directory and
 * returns the file's path; the directory is removed when `t` ends. The same text and options give
 * the same bytes on every run (fixed speed, and sox resamples with dither off).
 */
export async function makeSpeechWav(
  t: { teardown(fn: () => unknown): void },
  text: string,
  { sampleRate, voice = 'en-us+klatt2' }: SpeechWavOptions,
): Promise<string> {
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192_000) {
    throw new TypeError(`makeSpeechWav: sampleRate must be an integer from 8000 to 192000 Hz (got ${sampleRate})`);
  }
  if (text.trim() === '') throw new TypeError('makeSpeechWav: text is empty');

  const dir = await mkdtemp(path.join(os.tmpdir(), 'polyglot-speech-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  // The text goes through a file, not argv, so text that starts with '-' is not read as an option.
  const textFile = path.join(dir, 'text.txt');
  const spoken = path.join(dir, 'espeak.wav');
  const wav = path.join(dir, 'speech.wav');
  await writeFile(textFile, text);
  await tool('espeak-ng', ['-v', voice, '-s', '150', '-f', textFile, '-w', spoken]);
  await tool('sox', ['-D', spoken, '-r', String(sampleRate), '-c', '1', '-b', '16', '-e', 'signed-integer', wav]);
  await rm(spoken);
  return wav;
}

async function tool(command: string, args: string[]): Promise<void> {
  try {
    await run(command, args);
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    const detail = typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : String(err);
    throw new Error(`makeSpeechWav: ${command} failed (Debian packages espeak-ng and sox are required): ${detail}`, { cause: err });
  }
}
