/** At most `max` characters: a longer text is cut and ends with "…". Scrub secrets before, never after. */
export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
