import path from 'node:path';

import type { BenchResult } from '../result.js';
import { repoRoot } from './corpus.js';
import { runInfo, writeResults } from './results.js';
import { runScoreboard, type ScoreboardOptions } from './scoreboard.js';

/** `make bench`'s quality scoreboard: runs it, writes bench/results/, returns the headline figures. */
export async function qualityBench(opts: Omit<ScoreboardOptions, 'log'>): Promise<BenchResult> {
  const root = repoRoot();
  const options = { speed: opts.speed, concurrency: opts.concurrency, sentences: opts.sentenceIds?.join(',') ?? opts.sentences ?? 'all' };
  const info = await runInfo(root, options);
  const board = await runScoreboard({ ...opts, log: (line) => process.stderr.write(`${line}\n`) });
  const written = await writeResults(path.join(root, 'bench/results'), info, board);
  process.stderr.write(`\n${written.text}\n`);
  const f = board.figures;
  return {
    name: 'quality scoreboard (WER, chrF, latency audio end -> final)',
    figures: {
      utterances: f.overall.utterances,
      wer: f.overall.wer,
      werClean: f.byNoise.clean?.wer ?? NaN,
      werSnr10: f.byNoise.snr10?.wer ?? NaN,
      chrfEsRecognized: f.overall.chrfEs,
      chrfCaRecognized: f.overall.chrfCa,
      chrfEsReferenceSpoken: f.referenceChrf.spokenEs,
      chrfCaReferenceSpoken: f.referenceChrf.spokenCa,
      latencyP50Ms: f.overall.latencyP50Ms,
      latencyP95Ms: f.overall.latencyP95Ms,
      hintedWerWithout: f.hints.werWithout,
      hintedWerWith: f.hints.werWith,
    },
    notes: `${path.relative(root, written.json)}, ${path.relative(root, written.markdown)}`,
  };
}
