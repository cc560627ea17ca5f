/**
 * What `classify` reads. A Java trace as Connect's `trace` field holds it, or what an operator pipes from
 * curl: a status body (`GET /connectors/{name}/status`, or `.../tasks/{id}/status` for one task), a
 * `GET /connectors?expand=status` listing, or a
 * JSON string (`jq '.tasks[0].trace'` without -r). JSON is decoded here: read as a trace, its text is one
 * line with a literal "\n\tat", and the cause chain the classifier reads is lost.
 */
import { ShapeError } from '../connect/errors.js';
import { failedSubjects } from '../connect/failed.js';
import { parseListing, parseStatus, parseTaskStatus } from '../connect/shapes.js';
import type { ConnectorSnapshot } from '../connect/types.js';
import { isJsonObject, jsonSyntaxReason } from '../util/json.js';

/** One FAILED connector (task null) or task, with its trace ('' when the worker gave none). */
export interface FailedInput {
  readonly connector: string;
  readonly task: number | null;
  readonly trace: string;
}

export type ClassifyInput = { readonly kind: 'trace'; readonly trace: string } | { readonly kind: 'failed'; readonly failed: readonly FailedInput[] };

/** Input that looks like JSON but is neither a JSON string, a status body nor a status listing. */
export class ClassifyInputError extends Error {}

function failedOf(connectors: readonly ConnectorSnapshot[]): FailedInput[] {
  return connectors.flatMap((c) => failedSubjects(c).map(({ task, trace }) => ({ connector: c.name, task, trace })));
}

function isJsonList(text: string): boolean {
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}

export function readClassifyInput(text: string): ClassifyInput {
  // trimStart also drops a byte-order mark, which JSON.parse rejects (files saved by Windows editors).
  const json = text.trimStart();
  // Nothing to classify (an empty file, a curl that failed): classed "unknown", it would read as a verdict.
  if (json === '') throw new ClassifyInputError('the input is empty: give a trace, a status body or a ?expand=status listing');
  // An HTML or XML page (a proxy's 502, a login page) would be classed "connection" on its words alone.
  if (json[0] === '<') throw new ClassifyInputError('the input is an HTML or XML page, not a trace or Connect JSON (a proxy\'s error page?)');
  // A JSON list (GET /connectors, .../tasks) holds no status; a worker's log excerpt ("[2026-… ERROR …") is a trace.
  if (json[0] === '[' && isJsonList(json)) throw new ClassifyInputError('the input is a JSON list: give a status body (GET /connectors/NAME/status) or a ?expand=status listing');
  // A Java trace starts with a class name; JSON that reaches here starts with one of these.
  if (json[0] !== '{' && json[0] !== '"') return { kind: 'trace', trace: text };
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch (err) {
    throw new ClassifyInputError(`the input starts like JSON but is not JSON (${jsonSyntaxReason(err)})`);
  }
  if (typeof body === 'string') return { kind: 'trace', trace: body };
  try {
    if (isJsonObject(body) && 'connector' in body && 'tasks' in body) return { kind: 'failed', failed: failedOf([parseStatus(body)]) };
    // One task's status names no connector: its trace is classified as a trace is.
    if (isJsonObject(body) && 'id' in body && 'state' in body && 'worker_id' in body) {
      const task = parseTaskStatus(body);
      return task.state === 'FAILED' ? { kind: 'trace', trace: task.trace ?? '' } : { kind: 'failed', failed: [] };
    }
    // Input starting with "{" is an object: parseListing reads it as an expanded listing (never "names").
    const listing = parseListing(body);
    if (listing.kind !== 'expanded') return { kind: 'failed', failed: [] };
    // The daemon goes on without such a connector; here, its FAILED tasks would go unsaid.
    const [unreadable] = listing.unreadable;
    if (unreadable !== undefined) throw new ClassifyInputError(`the input is JSON but not a Connect status or ?expand=status listing: ${unreadable.problem}`);
    return { kind: 'failed', failed: failedOf(listing.connectors) };
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new ClassifyInputError(`the input is JSON but not a Connect status or ?expand=status listing: ${err.message}`);
  }
}
