// Scoreboard results under bench/results/: one JSON per run, named with its date and commit, and a
// markdown summary beside it that compares the run with the previous one, so a regression between
// commits shows in the diff and in the summary.
import { execFile } from 'node:child_process';
import { readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import type { GroupFigures, ScoreboardRun } from './scoreboard.js';

const run = promisify(execFile);

export interface RunInfo {
  commit: string;
  date: string;
  machine: Record<string, string | number>;
  options: Record<string, number | string>;
}

export interface ResultFile extends RunInfo, ScoreboardRun {
  kind: 'quality-scoreboard';
}

async function tryRun(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    return (await run(cmd, args, { cwd })).stdout.trim();
  } catch (err) {
    // dpkg-query exits 1 when one package is not installed but still lists the others.
    const stdout: unknown = typeof err === 'object' && err !== null ? Reflect.get(err, 'stdout') : undefined;
    return typeof stdout === 'string' && stdout.trim() !== '' ? stdout.trim() : 'unknown';
  }
}

export async function runInfo(root: string, options: Record<string, number | string>): Promise<RunInfo> {
  const commit = await tryRun('git', ['rev-parse', '--short=10', 'HEAD'], root);
  const dirty = (await tryRun('git', ['status', '--porcelain', '--untracked-files=no'], root)) !== '';
  const packages = ['libpocketsphinx3', 'pocketsphinx-en-us', 'apertium', 'apertium-en-es', 'apertium-en-ca', 'espeak-ng', 'festival', 'festvox-us-slt-hts', 'sox'];
  const versions = await tryRun('dpkg-query', ['-W', '-f', '${Package}=${Version} ', ...packages], root);
  const cpu = os.cpus();
  return {
    commit: dirty ? `${commit}+dirty` : commit,
    date: new Date().toISOString(),
    machine: {
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      loadAverage1mAtStart: Number(os.loadavg()[0]?.toFixed(2)),
      packages: versions,
    },
    options,
  };
}

/** Newest earlier result file (by the date it records), if any. */
async function previousResult(dir: string, except: string): Promise<ResultFile | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^quality-.*\.json$/.test(n) && n !== except);
  } catch {
    return undefined;
  }
  const files: ResultFile[] = [];
  for (const name of names) {
    try {
      const doc: unknown = JSON.parse(await readFile(path.join(dir, name), 'utf8'));
      if (typeof doc === 'object' && doc !== null && Reflect.get(doc, 'kind') === 'quality-scoreboard') files.push(doc as ResultFile);
    } catch {
      // A file that does not parse is not a result; it is left alone.
    }
  }
  return files.sort((a, b) => a.date.localeCompare(b.date)).at(-1);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

function table(title: string, groups: Record<string, GroupFigures>): string {
  const rows = Object.entries(groups).map(([k, g]) => `| ${k} | ${g.utterances} | ${pct(g.wer)} | ${g.chrfEs.toFixed(1)} | ${g.chrfCa.toFixed(1)} | ${g.latencyP50Ms} | ${g.latencyP95Ms} |`);
  return [`### ${title}`, '', '| group | utterances | WER | chrF es | chrF ca | latency p50 ms | latency p95 ms |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |', ...rows, ''].join('\n');
}

/** The figures a comparison looks at: name, value, and whether higher is better. */
function headline(r: ResultFile): [string, number, boolean, (x: number) => string][] {
  const f = r.figures;
  const num = (x: number) => x.toFixed(2);
  return [
    ['WER (all utterances)', f.overall.wer, false, pct],
    ['WER clean', f.byNoise.clean?.wer ?? NaN, false, pct],
    ['WER 10 dB SNR', f.byNoise.snr10?.wer ?? NaN, false, pct],
    ['chrF es, recognized', f.overall.chrfEs, true, num],
    ['chrF ca, recognized', f.overall.chrfCa, true, num],
    ['chrF es, reference English as spoken', f.referenceChrf.spokenEs, true, num],
    ['chrF ca, reference English as spoken', f.referenceChrf.spokenCa, true, num],
    ['chrF es, reference English as written', f.referenceChrf.writtenEs, true, num],
    ['chrF ca, reference English as written', f.referenceChrf.writtenCa, true, num],
    ['WER hinted sentences, no hints', f.hints.werWithout, false, pct],
    ['WER hinted sentences, with hints', f.hints.werWith, false, pct],
    ['latency p50 ms', f.overall.latencyP50Ms, false, (x) => String(x)],
    ['latency p95 ms', f.overall.latencyP95Ms, false, (x) => String(x)],
  ];
}

export function summary(r: ResultFile, previous: ResultFile | undefined): string {
  const f = r.figures;
  const lines = [
    `# Quality scoreboard: ${r.commit}, ${r.date}`,
    '',
    `Machine: ${Object.entries(r.machine).map(([k, v]) => `${k} ${v}`).join('; ')}.`,
    `Options: ${Object.entries(r.options).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Noise: pink noise at ${f.snr.target} dB SNR, measured on every mix: ${f.snr.measuredMin} to ${f.snr.measuredMax} dB.`,
    '',
    '## Headline',
    '',
  ];
  const now = headline(r);
  if (previous) {
    const before = new Map(headline(previous).map(([name, value]) => [name, value]));
    lines.push(`Compared with ${previous.commit} (${previous.date}):`, '', '| figure | previous | this run | change |', '| --- | ---: | ---: | --- |');
    for (const [name, value, higherBetter, fmt] of now) {
      const old = before.get(name);
      const change = old === undefined || Number.isNaN(old) ? 'new' : value === old ? 'same' : (value > old) === higherBetter ? 'better' : 'worse';
      lines.push(`| ${name} | ${old === undefined ? '' : fmt(old)} | ${fmt(value)} | ${change} |`);
    }
  } else {
    lines.push('No earlier result file: nothing to compare with.', '', '| figure | this run |', '| --- | ---: |');
    for (const [name, value, , fmt] of now) lines.push(`| ${name} | ${fmt(value)} |`);
  }
  lines.push(
    '',
    `Phrase hints: ${f.hints.sentences} sentences with hinted words, ${f.hints.utterances} utterances; WER ${pct(f.hints.werWithout)} without hints, ${pct(f.hints.werWith)} with; hinted words recognized ${pct(f.hints.hintedWordsRecalledWithout)} without, ${pct(f.hints.hintedWordsRecalledWith)} with.`,
    '',
    '## Breakdown (utterances without hints)',
    '',
    table('By voice', f.byVoice),
    table('By rate', f.byRate),
    table('By noise', f.byNoise),
    table('By voice / rate / noise', f.byCondition),
  );
  return `${lines.join('\n')}\n`;
}

/** Writes the JSON and the summary; returns their paths and the summary. */
export async function writeResults(dir: string, info: RunInfo, scoreboard: ScoreboardRun): Promise<{ json: string; markdown: string; text: string }> {
  await mkdir(dir, { recursive: true });
  const stamp = info.date.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `quality-${stamp}-${info.commit}`;
  const result: ResultFile = { kind: 'quality-scoreboard', ...info, ...scoreboard };
  const previous = await previousResult(dir, `${base}.json`);
  const text = summary(result, previous);
  const json = path.join(dir, `${base}.json`);
  const markdown = path.join(dir, `${base}.md`);
  await writeFile(json, `${JSON.stringify(result, null, 1)}\n`);
  await writeFile(markdown, text);
  return { json, markdown, text };
}
