/** A LIKE pattern matching `text` anywhere, literally (`\` is PostgreSQL's default escape). */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
