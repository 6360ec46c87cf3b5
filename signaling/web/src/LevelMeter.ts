/**
 * The input level of a microphone track, in dBFS, sampled ten times a second (a timer rather than
 * requestAnimationFrame, which stops in background tabs while the host keeps speaking).
 */
export class LevelMeter {
  readonly #context: AudioContext;
  readonly #analyser: AnalyserNode;
  readonly #samples: Float32Array<ArrayBuffer>;
  readonly #timer: ReturnType<typeof setInterval>;
  #db = -Infinity;

  constructor(track: MediaStreamTrack, onLevel: (dbfs: number) => void) {
    this.#context = new AudioContext();
    const source = this.#context.createMediaStreamSource(new MediaStream([track]));
    this.#analyser = this.#context.createAnalyser();
    this.#analyser.fftSize = 2048;
    this.#samples = new Float32Array(this.#analyser.fftSize);
    source.connect(this.#analyser);
    // Chrome only pulls audio through nodes that reach the destination; a muted gain gets it there.
    const mute = this.#context.createGain();
    mute.gain.value = 0;
    this.#analyser.connect(mute).connect(this.#context.destination);
    void this.#context.resume();
    this.#timer = setInterval(() => {
      this.#analyser.getFloatTimeDomainData(this.#samples);
      let sum = 0;
      for (const s of this.#samples) sum += s * s;
      const rms = Math.sqrt(sum / this.#samples.length);
      this.#db = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
      onLevel(this.#db);
    }, 100);
  }

  get dbfs(): number {
    return this.#db;
  }

  close(): void {
    clearInterval(this.#timer);
    void this.#context.close();
  }
}
