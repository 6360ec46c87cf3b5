import type { ServerMessageOf } from '../../src/protocol.js';

export type Caption = ServerMessageOf<'caption'>;

/** What add() did with a caption. */
export type Added = 'final' | 'interim' | 'ignored';

/** Finals kept per language (in memory and on the page): a few hours of speech. */
const MAX_FINALS = 5_000;
/** Within this many pixels of the bottom the list follows new lines; further up the reader is reading history. */
const FOLLOW_SLACK_PX = 48;

type LanguageLog = { lastSeq: number; finals: Caption[] };

/**
 * The captions of a session as a scrollable list of finals (with the speaker's name where it
 * changes) and, below it, lighter, the interim of each segment still being spoken (one per speaker
 * talking), each replaced by its final. An interim with empty text retracts its segment (the
 * pipeline recognizes that audio again). Finals are kept per language, so switching back to a
 * language shows what was already received and resumes after its last seq. Text goes in with
 * textContent only: captions are never markup.
 */
export class Transcript {
  readonly #list: HTMLOListElement;
  readonly #interim: HTMLElement;
  readonly #logs = new Map<string, LanguageLog>();
  #lang: string | undefined;
  /** segment -> its latest interim, oldest segment first */
  readonly #interims = new Map<string, Caption>();

  constructor(list: HTMLOListElement, interim: HTMLElement) {
    this.#list = list;
    this.#interim = interim;
  }

  get language(): string | undefined {
    return this.#lang;
  }

  /** The last final seq held for `lang`: -1 (everything) when none yet. */
  lastSeq(lang: string): number {
    return this.#logs.get(lang)?.lastSeq ?? -1;
  }

  /** Finals of the shown language, oldest first. */
  finals(): readonly Caption[] {
    return this.#lang === undefined ? [] : (this.#logs.get(this.#lang)?.finals ?? []);
  }

  /** The latest interim shown, if any. */
  get interim(): Caption | undefined {
    let last: Caption | undefined;
    for (const c of this.#interims.values()) last = c;
    return last;
  }

  /** Shows `lang`: what was received of it so far; captions of any other language are ignored from now on. */
  show(lang: string): void {
    this.#lang = lang;
    this.#interims.clear();
    this.#renderInterims();
    this.#list.replaceChildren();
    let previous: Caption | undefined;
    for (const c of this.finals()) {
      this.#list.append(this.#line(c, previous));
      previous = c;
    }
    this.#list.scrollTop = this.#list.scrollHeight;
  }

  add(caption: Caption): Added {
    if (caption.lang !== this.#lang) return 'ignored'; // still in flight from before a switch
    let log = this.#logs.get(caption.lang);
    if (!log) {
      log = { lastSeq: -1, finals: [] };
      this.#logs.set(caption.lang, log);
    }
    if (caption.seq <= log.lastSeq) return 'ignored'; // a final we have, or the interim of one
    if (!caption.final) {
      this.#interims.delete(caption.segment);
      if (caption.text !== '') this.#interims.set(caption.segment, caption);
      this.#renderInterims();
      return 'interim';
    }
    const follow = this.#list.scrollHeight - this.#list.scrollTop - this.#list.clientHeight < FOLLOW_SLACK_PX;
    const previous = log.finals[log.finals.length - 1];
    log.lastSeq = caption.seq;
    log.finals.push(caption);
    if (log.finals.length > MAX_FINALS) {
      log.finals.shift();
      this.#list.firstElementChild?.remove();
    }
    this.#list.append(this.#line(caption, previous));
    // Its own interim goes, and any other that carried this seq: its next update carries the next.
    for (const [segment, interim] of this.#interims) if (segment === caption.segment || interim.seq <= caption.seq) this.#interims.delete(segment);
    this.#renderInterims();
    if (follow) this.#list.scrollTop = this.#list.scrollHeight;
    return 'final';
  }

  /** A note in the list (the session ended), not a caption. */
  note(text: string): void {
    const li = document.createElement('li');
    li.className = 'note';
    li.textContent = text;
    this.#list.append(li);
    this.#interims.clear();
    this.#renderInterims();
    this.#list.scrollTop = this.#list.scrollHeight;
  }

  #line(caption: Caption, previous: Caption | undefined): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset.seq = String(caption.seq);
    const name = caption.speakerName ?? caption.speaker;
    if (name && (previous === undefined || (previous.speakerName ?? previous.speaker) !== name)) {
      const who = document.createElement('span');
      who.className = 'speaker';
      who.textContent = name;
      li.append(who, ' ');
    }
    li.append(caption.text);
    return li;
  }

  #renderInterims(): void {
    const lines = [...this.#interims.values()].map((caption) => {
      const line = document.createElement('span');
      line.className = 'interim-line';
      const name = caption.speakerName ?? caption.speaker;
      if (name) {
        const who = document.createElement('span');
        who.className = 'speaker';
        who.textContent = name;
        line.append(who, ' ');
      }
      line.append(caption.text);
      return line;
    });
    this.#interim.replaceChildren(...lines);
  }
}
