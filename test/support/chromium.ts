import { access } from 'node:fs/promises';

/** Debian's chromium; `make setup` installs it. Tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Fails with a clear message when Debian's chromium is not installed. */
export async function assertChromium(): Promise<void> {
  try {
    await access(CHROMIUM);
  } catch {
    throw new Error(`${CHROMIUM} is missing: make setup installs Debian's chromium`);
  }
}

/**
 * Flags that work headless as root on this kind of machine: no sandbox, no GPU, none of Chromium's
 * background traffic (the network is closed), a fake microphone playing `fakeAudioWav` (48 kHz WAV)
 * and autoplay allowed. Pass with ignoreDefaultArgs ['--headless', '--mute-audio'].
 */
export function chromiumArgs(fakeAudioWav?: string): string[] {
  return [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(fakeAudioWav ? ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${fakeAudioWav}`] : []),
    '--autoplay-policy=no-user-gesture-required',
  ];
}
