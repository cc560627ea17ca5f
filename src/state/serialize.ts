/**
 * The state file's bytes, entry by entry, reusing the bytes of entries that did not change since the last
 * write. A large cluster keeps hundreds of failing subjects and their incidents (traces included) in
 * state, and between two writes only a few of them change: encoding the whole file every time was most
 * of the cost of a write (bench/scale). An entry whose fields are the values last encoded (compare.ts)
 * encodes the same.
 */
import { sameFields } from './compare.js';
import type { PersistedState } from './store.js';

/**
 * An incident's fields that change on every poll while the rest stays (touchIncident moves these three and
 * nothing else): encoded anew each time. A subject has none: it is replaced when it changes.
 */
const INCIDENT_VOLATILE: readonly string[] = ['lastSeen', 'attempts', 'workerId'];

type Entry = Readonly<Record<string, unknown>>;

interface Encoded {
  readonly source: Entry;
  /** `"key":{…stable fields…` without the closing brace (and with a trailing comma when fields follow). */
  readonly head: Buffer;
  /** The head held no field at all (`"key":{`). */
  readonly emptyHead: boolean;
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from('}');

/** The entries of one record of the state (subjects or incidents), cached by entry key. */
class RecordEncoder {
  private cache = new Map<string, Encoded>();

  constructor(private readonly volatile: readonly string[]) {}

  /** Appends `"key":{…},"key":{…}` to out. */
  encode(record: Readonly<Record<string, Entry>>, out: Buffer[]): void {
    const next = new Map<string, Encoded>();
    let first = true;
    for (const key in record) {
      const entry = record[key] as Entry;
      let encoded = this.cache.get(key);
      if (encoded === undefined || !sameFields(entry, encoded.source, this.volatile)) encoded = this.head(key, entry);
      next.set(key, encoded);
      if (!first) out.push(COMMA);
      first = false;
      out.push(encoded.head);
      const tail = this.tail(entry, encoded.emptyHead);
      if (tail !== '') out.push(Buffer.from(tail));
      out.push(CLOSE);
    }
    // Only the entries of this write are kept: the cache never outgrows one state.
    this.cache = next;
  }

  private head(key: string, entry: Entry): Encoded {
    const stable: Record<string, unknown> = {};
    for (const k in entry) if (!this.volatile.includes(k)) stable[k] = entry[k];
    const json = JSON.stringify(stable);
    const emptyHead = json === '{}';
    // Drop the closing brace; a comma goes before the volatile fields that follow stable ones.
    const text = `${JSON.stringify(key)}:${json.slice(0, -1)}`;
    return { source: entry, head: Buffer.from(text), emptyHead };
  }

  private tail(entry: Entry, emptyHead: boolean): string {
    let tail = '';
    let needComma = !emptyHead;
    for (const k of this.volatile) {
      const v = entry[k];
      if (v === undefined) continue;
      tail += `${needComma ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(v)}`;
      needComma = true;
    }
    return tail;
  }
}

/**
 * Encodes state documents to the JSON the state file holds (what JSON.stringify gives, up to the order of
 * an entry's volatile fields), as a list of buffers for one vectored write. Keep one per state file.
 */
export class StateEncoder {
  private readonly subjects = new RecordEncoder([]);
  private readonly incidents = new RecordEncoder(INCIDENT_VOLATILE);

  encode(doc: PersistedState): Buffer[] {
    const out: Buffer[] = [Buffer.from(`{"version":${JSON.stringify(doc.version)},"savedAt":${JSON.stringify(doc.savedAt)},"heal":{"subjects":{`)];
    this.subjects.encode(doc.heal.subjects as unknown as Readonly<Record<string, Entry>>, out);
    out.push(Buffer.from('},"incidents":{'));
    this.incidents.encode(doc.heal.incidents as unknown as Readonly<Record<string, Entry>>, out);
    // The offsets remembered are a few watched sources at most, the health one entry per cluster: encoded whole.
    const offsets = doc.heal.offsets === undefined ? '' : `,"offsets":${JSON.stringify(doc.heal.offsets)}`;
    const health = doc.heal.health === undefined ? '' : `,"health":${JSON.stringify(doc.heal.health)}`;
    out.push(Buffer.from(`},"budgets":${JSON.stringify(doc.heal.budgets)}${offsets}${health}},"outbox":${JSON.stringify(doc.outbox ?? [])}${doc.routes === undefined ? '' : `,"routes":${JSON.stringify(doc.routes)}`}${doc.sinks === undefined ? '' : `,"sinks":${JSON.stringify(doc.sinks)}`}}`));
    return out;
  }
}
