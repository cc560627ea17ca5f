import type { ConnectorSnapshot } from './types.js';

/** A FAILED connector (task null) or task, as one connector's status lists it. */
export interface FailedSubject {
  readonly task: number | null;
  readonly workerId: string;
  /** '' when the worker gave none. */
  readonly trace: string;
}

/** The connector itself first when FAILED, then its FAILED tasks in listing order. */
export function failedSubjects(c: ConnectorSnapshot): FailedSubject[] {
  const failed: FailedSubject[] = [];
  if (c.state === 'FAILED') failed.push({ task: null, workerId: c.workerId, trace: c.trace ?? '' });
  for (const t of c.tasks) if (t.state === 'FAILED') failed.push({ task: t.id, workerId: t.workerId, trace: t.trace ?? '' });
  return failed;
}
