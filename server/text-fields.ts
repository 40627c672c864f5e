// The string checks every client-sent field goes through (REST bodies and
// queries, socket payloads), so no text reaches the database or another user
// unchecked.
import { z } from 'zod';

/** PostgreSQL text cannot hold NUL: a query with one fails (it answered 500, or failed a whole stored batch). */
const noNul = (value: string) => !value.includes('\u0000');
/** UTF-8 cannot hold a lone surrogate: the driver would store U+FFFD, not what was sent. */
const LONE_SURROGATE = /\p{Cs}/u; // with the u flag a well-formed pair is one code point, never Cs
const wellFormed = (value: string) => !LONE_SURROGATE.test(value);

/** C0/C1 controls (newline, tab, bell, escape, ...) and the line/paragraph separators. */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;
/** Bidirectional marks, embeddings, overrides and isolates: they reorder what follows them (`evil\u202Etxt.exe`). */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
/**
 * What renders as nothing: default-ignorable code points (zero-width spaces
 * and joiners, word joiner, BOM, Hangul fillers, variation selectors, ...),
 * white space, and the blank braille pattern that fonts draw empty.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{White_Space}\u2800]/gu;

/** Any client-sent string: no NUL, no lone surrogate. Chain length and format rules onto it. */
export function text(): z.ZodString {
  return z.string().refine(noNul, 'must not contain NUL characters').refine(wellFormed, 'must not contain unpaired surrogates');
}

/**
 * A name other people see (room names, usernames): NFC-normalized, so two
 * spellings of "é" are one name; no control or bidirectional characters;
 * at least one visible character. Emoji sequences (zero-width joiners
 * between visible characters) stay allowed.
 */
export function displayName(): z.ZodString {
  return text()
    .normalize('NFC')
    .refine((value) => !CONTROL.test(value), 'must not contain control characters')
    .refine((value) => !BIDI.test(value), 'must not contain bidirectional control characters')
    .refine((value) => value.replace(INVISIBLE, '') !== '', 'must contain a visible character');
}

// --- reactions (issue 14) ---
/** A reaction's `:name:` form: lower-case letters, digits, `_`, `+`, `-`, 1-32 of them between colons. */
const EMOJI_NAME = /^:[a-z0-9_+-]{1,32}:$/;
/** Every code point of an emoji sequence: pictographs, emoji, and their components (ZWJ, VS16, skin tones, keycap, tags, regional indicators). */
const EMOJI_PARTS = /^[\p{Extended_Pictographic}\p{Emoji}\p{Emoji_Component}]+$/u;
/** What makes a sequence an emoji rather than a bare digit or `#`: a pictograph, a flag's regional indicator, or a keycap. */
const EMOJI_CORE = /[\p{Extended_Pictographic}\p{Regional_Indicator}\u20E3]/u;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Whether `value` is one emoji grapheme (👍, 👨‍👩‍👧, 🇫🇷, 1️⃣) or a `:name:` (docs/protocol.md "Reactions"). */
export function isReactionEmoji(value: string): boolean {
  if (EMOJI_NAME.test(value)) return true;
  if (!EMOJI_PARTS.test(value) || !EMOJI_CORE.test(value)) return false;
  // A flag is a pair of regional indicators; one alone renders as a letter in a box.
  const indicators = value.match(/\p{Regional_Indicator}/gu)?.length ?? 0;
  if (indicators !== 0 && indicators !== 2) return false;
  let count = 0;
  for (const _ of graphemes.segment(value)) if (++count > 1) return false;
  return count === 1;
}

/** A reaction's emoji, as `isReactionEmoji` accepts it (at most 64 UTF-16 units). */
export function reactionEmoji(): z.ZodString {
  return text().min(1).max(64).refine(isReactionEmoji, 'must be one emoji or a :name:');
}
// --- end reactions ---
