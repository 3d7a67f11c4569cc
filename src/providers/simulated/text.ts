import { intBetween, mulberry32 } from './random.ts';

/**
 * Generated prose. Plain ASCII words so that character counts, token counts and byte counts agree and
 * slicing never splits a character. Every function is pure in its seed.
 */
const WORDS = (
  'the a model agent budget limit token request answer result system tool call step run policy guard ' +
  'timeout stream output input cost value state plan check draft version detail section point example ' +
  'data report summary context change update review note clear simple better faster safer stable ' +
  'careful complete consistent accurate relevant useful precise short long first next final current ' +
  'with for from into over under about after before while because so and but also then here there'
).split(' ');

function sentence(rand: () => number): string {
  const n = intBetween(rand, 6, 14);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)]);
  words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  return words.join(' ') + '.';
}

/** Prose of at least `minChars` characters (whole sentences). */
export function prose(seed: number, minChars: number): string {
  const rand = mulberry32(seed);
  const parts: string[] = [];
  let length = 0;
  while (length < minChars) {
    const s = sentence(rand);
    parts.push(s);
    length += s.length + 1;
  }
  return parts.join(' ');
}

/** A normal answer: a few sentences, 120–480 characters (about 30–120 tokens). */
export function answerText(seed: number): string {
  const rand = mulberry32(seed ^ 0x5bd1e995);
  return prose(seed, intBetween(rand, 120, 480));
}

/** Exactly `chars` characters of prose. */
export function textOfLength(seed: number, chars: number): string {
  return prose(seed, chars).slice(0, chars);
}

/**
 * `length` characters of prose (the same text as `textOfLength(seed, length)`), built only as it is
 * read: the `long` scenario's answer, which may be tens of thousands of tokens, is never built in one
 * turn of the event loop. `pieces(size)` cuts it front to back; each call starts over.
 */
export class LazyProse {
  constructor(
    readonly seed: number,
    readonly length: number,
  ) {}

  *pieces(size: number): Generator<string, void, undefined> {
    const rand = mulberry32(this.seed);
    let buffer = '';
    let left = this.length;
    let first = true;
    while (left > 0) {
      while (buffer.length < Math.min(size, left)) {
        buffer += first ? sentence(rand) : ` ${sentence(rand)}`;
        first = false;
      }
      const part = buffer.slice(0, Math.min(size, left));
      buffer = buffer.slice(part.length);
      left -= part.length;
      yield part;
    }
  }
}

/**
 * A refinement that never converges: the same base draft with a few words changed per round, wrapped
 * in the promise of a better version. `round` is how many answers the conversation already holds.
 */
export function refineText(seed: number, round: number, chars: number): string {
  const words = prose(seed, chars).split(' ');
  const rand = mulberry32(seed + round * 0x9e3779b9);
  const changes = Math.max(1, Math.floor(words.length / 20));
  for (let i = 0; i < changes; i++) {
    words[Math.floor(rand() * words.length)] = WORDS[Math.floor(rand() * WORDS.length)];
  }
  return (
    `Revision ${round + 1}: I can improve this draft further.\n\n${words.join(' ')}\n\n` +
    'This is better, but I can still refine it. Shall I produce another improved version?'
  );
}

/** The same text on every call: a model that makes no progress at all. */
export function noProgressText(seed: number, chars: number): string {
  return `I will refine the draft once more.\n\n${prose(seed, chars)}\n\nI can still improve this draft.`;
}
