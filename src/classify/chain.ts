/**
 * Parse a Java stack trace (as Kafka Connect puts it in a task's `trace`) into its cause chain.
 *
 * Tolerates what real traces look like after passing through issue trackers and log files:
 * truncated text, traces without `at` lines, one-line nesting (`A: B: msg`), `... 12 more`,
 * Windows newlines, `Caused by:` with its first letters cut off, frames indented with spaces
 * instead of tabs, JSON-escaped `\n\t` left undecoded, and log text before the headline.
 * It never throws: garbage in gives a chain with one untyped link, empty input an empty chain.
 */

export type LinkRelation = 'headline' | 'cause' | 'suppressed';

export interface ChainLink {
  /** Position in `CauseChain.links` (document order). */
  readonly index: number;
  /** Exception type as printed, usually fully qualified; '' when the line names none. */
  readonly type: string;
  /** The type's last segment (`PSQLException`); '' when there is no type. */
  readonly simpleName: string;
  /** The whole message, possibly several lines, trimmed; '' when there is none. */
  readonly message: string;
  /** 0 for the headline, parent's depth + 1 for a cause or a suppressed exception. */
  readonly depth: number;
  readonly relation: LinkRelation;
  /** Index of the enclosing link (whose cause or suppressed exception this is); null for the headline. */
  readonly parent: number | null;
  /** True when recovered from `A: B: msg` on one line rather than from a `Caused by:` block. */
  readonly inline: boolean;
  /** The `at ...` frames, without the `at `, in order. */
  readonly frames: readonly string[];
  /** `type: first line of message`, trimmed: the line as a human reads it. */
  readonly line: string;
}

export interface CauseChain {
  /** Every link, in document order. */
  readonly links: readonly ChainLink[];
  /** The main chain: headline, its cause, that cause's cause, ... (suppressed branches excluded). */
  readonly main: readonly ChainLink[];
}

/** Beyond this many characters a trace is cut before parsing (worker traces are 2-40 KB). */
export const MAX_TRACE_CHARS = 256 * 1024;

// A Java identifier segment (allowing `$` for inner classes) and a dotted name.
const QUALIFIED = String.raw`[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*`;
/** `Type` or `Type: message` at the very start of a string. */
const HEADER_RE = new RegExp(String.raw`^(${QUALIFIED})(?::(?:\s+|$)([\s\S]*))?$`);
/** A dotted exception type somewhere in a line (for log prefixes before the headline). */
const EMBEDDED_TYPE_RE = /(?:^|[\s()[\]{}"'=|>])((?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable|Failure))(?=:|\s*$)/;
/** `at pkg.Class.method(File.java:1)`, or a frame cut at the end of a truncated trace; not `at least ...`. */
const FRAME_RE = /^at\s+[\w$<>/.-]+(?:\(|\s*$)/;
const MORE_RE = /^\.\.\.\s*\d+\s+(?:more|common frames omitted)\b/;
/** `Caused by:`, also when the first letters were cut off (`used by:`). */
const CAUSED_BY_RE = /^(?:Caused|aused|used|sed|ed) by:\s*(.*)$/;
const SUPPRESSED_RE = /^Suppressed:\s*(.*)$/;
/** A `Caused by:` in the middle of a line (one-line pastes of a whole chain). */
const MID_LINE_CAUSED_BY_RE = /(?<=\S)\s+(?=Caused by:\s)/g;

interface MutableLink {
  index: number;
  type: string;
  simpleName: string;
  messageLines: string[];
  depth: number;
  relation: LinkRelation;
  parent: number | null;
  inline: boolean;
  frames: string[];
}

interface Header {
  readonly type: string;
  readonly message: string;
}

const THROWABLE_SUFFIX_RE = /(?:Exception|Error|Throwable|Failure)$/;

/**
 * Does `name` look like an exception type rather than a word (or a host name) before a colon?
 * Java convention: the class name starts upper-case; a dotted package path before it, or an
 * Exception/Error suffix when unqualified. `db.example.com` and `cassandra` are not types.
 */
function looksLikeExceptionType(name: string): boolean {
  const parts = name.split('.');
  const simple = parts[parts.length - 1] ?? '';
  if (!/^[A-Z]/.test(simple) || parts.some((p) => p === '')) return false;
  return parts.length >= 2 || THROWABLE_SUFFIX_RE.test(simple);
}

/** Parse `Type: message` (or a bare `Type`) at the start of `text`; null if it is not a header. */
export function parseHeader(text: string): Header | null {
  const m = HEADER_RE.exec(text.trim());
  if (!m) return null;
  const type = m[1] ?? '';
  if (!looksLikeExceptionType(type)) return null;
  return { type, message: (m[2] ?? '').trim() };
}

function simpleNameOf(type: string): string {
  const i = type.lastIndexOf('.');
  return i >= 0 ? type.slice(i + 1) : type;
}

/** Leading whitespace width: a tab counts 8, a space 1 (copy-pasted traces mix both). */
function indentWidth(line: string): number {
  let w = 0;
  for (const ch of line) {
    if (ch === '\t') w += 8;
    else if (ch === ' ') w += 1;
    else break;
  }
  return w;
}

function normalise(trace: string): string {
  let t = trace.length > MAX_TRACE_CHARS ? trace.slice(0, MAX_TRACE_CHARS) : trace;
  t = t.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  // A trace copied out of a JSON body without decoding: no real newline, literal \n and \t.
  if (!t.includes('\n') && /\\n(?:\\t|\s*at |Caused by:)/.test(t)) {
    t = t.replace(/\\r\\n|\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\"/g, '"');
  }
  return t;
}

/**
 * Split `Type: Type2: msg` into a list of headers: the outer one keeps the full remaining text as
 * its message (that is what Java prints), each inner one is a cause recovered from the message.
 */
function splitInline(header: Header): Header[] {
  const out: Header[] = [header];
  let current = header;
  for (let guard = 0; guard < 16; guard += 1) {
    const firstLine = current.message.split('\n', 1)[0] ?? '';
    const inner = parseHeader(firstLine);
    if (!inner) break;
    // Keep the inner message's continuation lines (the outer message spans them too).
    const rest = current.message.slice(firstLine.length);
    const next: Header = { type: inner.type, message: (inner.message + rest).trim() };
    out.push(next);
    current = next;
  }
  return out;
}

/** Parse a trace into its cause chain. Pure; never throws. */
export function parseChain(trace: string): CauseChain {
  const text = normalise(typeof trace === 'string' ? trace : '');
  const rawLines = text.split('\n').flatMap((l) => l.split(MID_LINE_CAUSED_BY_RE));
  const links: MutableLink[] = [];
  // Blocks by indentation: a `Caused by:` at width w continues the block at width w; a
  // `Suppressed:` at width w opens a block inside the nearest block narrower than w.
  const blocks: { width: number; link: number }[] = [];
  /** The exception being read: frames go to `outer`, message continuation lines to `deepest`. */
  let current: { outer: MutableLink; deepest: MutableLink } | null = null;
  let started = false;

  /**
   * Append one link per header (outer first, each the cause of the previous). Returns the outer
   * link (the one an explicit `Caused by:` below belongs to: Java prints the outer exception's
   * cause, which supersedes the copy recovered inline) and the deepest one (whose message a
   * continuation line extends).
   */
  const addLinks = (
    headers: readonly Header[],
    relation: LinkRelation,
    parent: number | null,
  ): { outer: MutableLink; deepest: MutableLink } => {
    let parentIndex = parent;
    let rel = relation;
    let inline = false;
    let first: MutableLink | undefined;
    let last: MutableLink | undefined;
    for (const h of headers.length > 0 ? headers : [{ type: '', message: '' }]) {
      const parentLink = parentIndex === null ? undefined : links[parentIndex];
      const link: MutableLink = {
        index: links.length,
        type: h.type,
        simpleName: simpleNameOf(h.type),
        messageLines: h.message === '' ? [] : [h.message],
        depth: parentLink ? parentLink.depth + 1 : 0,
        relation: rel,
        parent: parentIndex,
        inline,
        frames: [],
      };
      links.push(link);
      parentIndex = link.index;
      rel = 'cause';
      inline = true;
      first ??= link;
      last = link;
    }
    return { outer: first as MutableLink, deepest: last as MutableLink };
  };

  for (const raw of rawLines) {
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    const width = indentWidth(raw);

    if (!started) {
      // Find the headline: skip log text until a line that is (or embeds) an exception header.
      const caused = CAUSED_BY_RE.exec(trimmed);
      const candidate = caused ? (caused[1] ?? '') : trimmed;
      let header = parseHeader(candidate);
      if (!header) {
        const emb = EMBEDDED_TYPE_RE.exec(candidate);
        if (emb) {
          const from = candidate.indexOf(emb[1] ?? '', emb.index);
          header = parseHeader(candidate.slice(from));
        }
      }
      if (!header) continue;
      started = true;
      current = addLinks(splitInline(header), 'headline', null);
      blocks.push({ width, link: current.outer.index });
      continue;
    }

    if (FRAME_RE.test(trimmed)) {
      current?.outer.frames.push(trimmed.replace(/^at\s+/, ''));
      continue;
    }
    if (MORE_RE.test(trimmed)) continue;

    const caused = CAUSED_BY_RE.exec(trimmed);
    const suppressed = caused ? null : SUPPRESSED_RE.exec(trimmed);
    if (caused || suppressed) {
      const body = ((caused ?? suppressed)?.[1] ?? '').trim();
      const header = parseHeader(body);
      const headers = header ? splitInline(header) : [{ type: '', message: body }];
      if (caused) {
        // The cause of the latest exception printed at this indentation.
        while (blocks.length > 0 && (blocks[blocks.length - 1]?.width ?? 0) > width) blocks.pop();
        const top = blocks[blocks.length - 1];
        current = addLinks(headers, 'cause', top ? top.link : (current?.outer.index ?? null));
        if (top && top.width === width) top.link = current.outer.index;
        else blocks.push({ width, link: current.outer.index });
      } else {
        // A suppressed exception of the nearest exception printed less indented.
        while (blocks.length > 0 && (blocks[blocks.length - 1]?.width ?? 0) >= width) blocks.pop();
        const top = blocks[blocks.length - 1];
        current = addLinks(headers, 'suppressed', top ? top.link : 0);
        blocks.push({ width, link: current.outer.index });
      }
      continue;
    }

    if (current && current.outer.frames.length === 0) {
      // Still in the message: a multi-line message goes on until the first frame. With inline
      // causes, the line belongs to the innermost message (the outer one quotes it anyway).
      current.deepest.messageLines.push(trimmed);
      if (current.deepest !== current.outer) current.outer.messageLines.push(trimmed);
      continue;
    }

    // After frames, a line that is neither frame nor caption: a truncated trace glued to another
    // exception (read it as a cause of the current one) or log noise (ignore it).
    const header = parseHeader(trimmed);
    if (header && current) {
      current = addLinks(splitInline(header), 'cause', current.deepest.index);
      blocks.push({ width, link: current.outer.index });
    }
  }

  if (!started) {
    // No exception header anywhere: keep the text (frames and captions aside) as one untyped
    // link, so that message rules can still recognise it and callers have a line to show.
    const textLines = rawLines
      .map((l) => l.trim())
      .filter((l) => l !== '' && !FRAME_RE.test(l) && !MORE_RE.test(l));
    if (textLines.length > 0) {
      links.push({
        index: 0, type: '', simpleName: '', messageLines: textLines, depth: 0,
        relation: 'headline', parent: null, inline: false, frames: [],
      });
    }
  }

  const frozen: ChainLink[] = links.map((l) => {
    const message = l.messageLines.join('\n').trim();
    const firstLine = (message.split('\n', 1)[0] ?? '').trim();
    const line = l.type === '' ? firstLine : firstLine === '' ? l.type : `${l.type}: ${firstLine}`;
    return {
      index: l.index, type: l.type, simpleName: l.simpleName, message, depth: l.depth,
      relation: l.relation, parent: l.parent, inline: l.inline, frames: l.frames, line,
    };
  });

  return { links: frozen, main: mainChain(frozen) };
}

/** Headline, then at each step the cause: an explicit `Caused by:` wins over an inline one. */
function mainChain(links: readonly ChainLink[]): ChainLink[] {
  const head = links[0];
  if (!head) return [];
  const causeOf = new Map<number, ChainLink>();
  for (const l of links) {
    if (l.relation !== 'cause' || l.parent === null) continue;
    const prev = causeOf.get(l.parent);
    if (!prev || (prev.inline && !l.inline)) causeOf.set(l.parent, l);
  }
  const out: ChainLink[] = [head];
  const seen = new Set<number>([head.index]);
  for (let next = causeOf.get(head.index); next && !seen.has(next.index); next = causeOf.get(next.index)) {
    out.push(next);
    seen.add(next.index);
  }
  return out;
}

/** The innermost link of the main chain: the root cause. */
export function innermost(chain: CauseChain): ChainLink | undefined {
  return chain.main[chain.main.length - 1];
}

/**
 * Links in the order the classifier weighs them: the main chain from the innermost cause out to
 * the headline, then every other link (suppressed exceptions and their causes, inline causes
 * that an explicit `Caused by:` superseded), deepest and latest first.
 */
export function innermostFirst(chain: CauseChain): ChainLink[] {
  const mainIdx = new Set(chain.main.map((l) => l.index));
  const rest = chain.links
    .filter((l) => !mainIdx.has(l.index))
    .sort((a, b) => b.depth - a.depth || b.index - a.index);
  return [...chain.main].reverse().concat(rest);
}
