import type { Severity } from '../config/schema.js';
import type { SinkConfig } from '../config/types.js';
import { incidentFields, iso, subjectLabel, summaryLine, type SinkRequest } from './fields.js';
import { truncate } from '../secrets/scrub.js';
import type { EscalationEvent } from './types.js';

export const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  critical: ':rotating_light:',
  error: ':red_circle:',
  warning: ':warning:',
  info: ':information_source:',
};
export const RESOLVED_EMOJI = ':white_check_mark:';

// Slack limits: header text 150 characters, section text 3000, a field 2000, notification text ~4000.
const MAX_HEADER = 150;
const MAX_SECTION = 3000;
const MAX_FIELD = 2000;
const MAX_TEXT = 3000;
/**
 * A resolve posted this long after the incident ended says so. Slack gets a trigger and its resolve even when the
 * incident opened and closed while Slack was unreachable or the watchdog was down (a record, unlike a pager's
 * superseded trigger): the two then arrive together, and the channel should not read it as an outage just over.
 */
const LATE_RESOLVE_MS = 60_000;

type Text = { readonly type: 'mrkdwn'; readonly text: string } | { readonly type: 'plain_text'; readonly text: string; readonly emoji: true };
export type SlackBlock =
  | { readonly type: 'header'; readonly text: Text }
  | { readonly type: 'section'; readonly text?: Text; readonly fields?: readonly Text[] }
  | { readonly type: 'context'; readonly elements: readonly Text[] };
export interface SlackBody {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/** Slack reads &, < and > as markup in every text object. */
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A code block that cannot be closed early by backticks in the trace. */
const code = (s: string, max: number): string => '```' + truncate(esc(s).replace(/```/g, "'''"), max - 6) + '```';
const md = (text: string, max = MAX_SECTION): Text => ({ type: 'mrkdwn', text: truncate(text, max) });
const field = (name: string, value: string): Text => md(`*${name}*\n${esc(value)}`, MAX_FIELD);

function durationText(ms: number): string {
  const min = Math.max(0, Math.round(ms / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
}

export function slackBody(event: EscalationEvent, now: number): SlackBody {
  const i = event.incident;
  const f = incidentFields(event);
  const subject = subjectLabel(i);
  const link = f.statusUrl === '' ? '' : ` · <${f.statusUrl}|status>`;
  if (event.event === 'resolve') {
    const endedAt = i.resolvedAt ?? now;
    const openFor = endedAt - i.firstSeen;
    const late = now - endedAt >= LATE_RESOLVE_MS ? ` · posted ${durationText(now - endedAt)} after it ended: Slack was unreachable or the watchdog down until then` : '';
    // A condition page (no status, RESTARTING) closed as its subject failed with another class, paged in the same
    // poll (heal's ResolveReason): a bare "Resolved" right after that failure's trigger would read as all well again.
    const superseded = event.resolution === 'superseded-by-failure' ? ' · not over: failing with another class, paged as that failure (superseded-by-failure)' : '';
    return {
      text: truncate(`${RESOLVED_EMOJI} Resolved: ${esc(subject)} (${i.class})`, MAX_TEXT),
      blocks: [
        { type: 'section', text: md(`${RESOLVED_EMOJI} *Resolved:* ${esc(subject)} (${esc(i.class)})`) },
        {
          type: 'context',
          elements: [md(`Open for ${durationText(openFor)}, until ${iso(endedAt)}${late}${superseded} · ${f.attempts} restart(s)${link} · key \`${esc(f.key)}\``)],
        },
      ],
    };
  }
  const emoji = SEVERITY_EMOJI[i.severity];
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${emoji} Kafka Connect ${i.severity}: ${subject}`, MAX_HEADER), emoji: true } },
    {
      type: 'section',
      fields: [
        field('Cluster', f.cluster),
        field('Connector', f.connector),
        field('Task', f.task === null ? 'connector' : String(f.task)),
        field('Class', f.class),
        field('Severity', f.severity),
        field('Restarts', String(f.attempts)),
      ],
    },
    { type: 'section', text: md(`*Root cause*\n${code(f.rootCause || '(none)', MAX_SECTION - 20)}`) },
    { type: 'section', text: md(`*Why you are paged*\n${esc(f.reason)}\n*Hint*\n${esc(f.hint)}`) },
  ];
  if (f.traceExcerpt !== '') blocks.push({ type: 'section', text: md(`*Trace excerpt*\n${code(f.traceExcerpt, MAX_SECTION - 20)}`) });
  blocks.push({
    type: 'context',
    elements: [md(`First seen ${f.firstSeen} · worker ${esc(f.workerId || 'unknown')}${link} · key \`${esc(f.key)}\``)],
  });
  return { text: truncate(`${emoji} ${esc(summaryLine(i))}`, MAX_TEXT), blocks };
}

export function slackRequest(event: EscalationEvent, sink: SinkConfig, now: number): SinkRequest {
  return { method: 'POST', url: sink.url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(slackBody(event, now)) };
}
