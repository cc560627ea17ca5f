/**
 * Whether `now` lies within `span` after `from`. A wall clock stepped back before `from` (NTP, a VM resumed)
 * ends the span rather than stretching it by the size of the step (an hour without re-sends for an hour's step).
 */
export function within(now: number, from: number, span: number): boolean {
  return now >= from && now - from < span;
}
