import { MAX_MENTIONS } from '../protocol.js';

/**
 * `@name` where name has a username's characters, not glued to a word before
 * it (so "me@example.com" names no one).
 */
const MENTION = /(?<![a-zA-Z0-9_.@-])@([a-zA-Z0-9_.-]{3,32})/g;

/**
 * The usernames a message's content may mention, lower-cased (usernames are
 * unique in any letter case), without repeats, at most MAX_MENTIONS; the
 * commit keeps those that name members of the room. Content without '@'
 * costs one scan and gives nothing. A name ending in '.' or '-' ("@ana.")
 * is also tried without them, since sentences end so and usernames rarely do.
 */
export function mentionCandidates(content: string): string[] {
  if (!content.includes('@')) return [];
  const names = new Set<string>();
  for (const match of content.matchAll(MENTION)) {
    const name = match[1]!.toLowerCase();
    names.add(name);
    const trimmed = name.replace(/[.-]+$/, '');
    if (trimmed !== name && trimmed.length >= 3) names.add(trimmed);
    if (names.size >= MAX_MENTIONS) break;
  }
  return [...names].slice(0, MAX_MENTIONS);
}
