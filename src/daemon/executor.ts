import type { ConnectClient } from '../connect/client.js';
import { isConnectError, isHerderTimedOut, isNotFound, isRebalance, isTimeout, unaddressableName } from '../connect/errors.js';
import { supportsRestartFlags } from '../connect/client.js';
import type { Logger } from '../log/logger.js';
import type { RestartAction, RestartOutcome } from '../heal/types.js';
import { cut } from '../util/text.js';


/** What happened to one restart request; fed back to the policy and to the metrics. */
export interface ExecutedRestart {
  readonly action: RestartAction;
  readonly outcome: RestartOutcome['result'] | 'dry_run';
  /** A refusal as a rebalance: Connect's answer, for the page if refusals go on (RestartOutcome.refusal). */
  readonly refusal?: string;
}

/** A refusal's status and Connect's message (scrubbed by the client), cut: it goes into a page and the state file. */
const REFUSAL_MAX = 300;
function refusalOf(err: unknown): string | undefined {
  if (isTimeout(err)) return 'no answer within the request timeout';
  if (!isConnectError(err) || err.status === undefined) return undefined;
  const text = err.connectMessage === undefined ? `HTTP ${err.status}` : `HTTP ${err.status} ${err.connectMessage}`;
  return cut(text, REFUSAL_MAX);
}

/**
 * No answer in time: the worker holds a restart while its herder cannot reach Kafka (a broker outage: 90 s,
 * then 500 "Request timed out"), and runs it once the broker is back. Not known to be an attempt, so it is
 * taken as a refusal, as a rebalance is: retried under backoff, and paged only when refused for
 * escalateAfter.window.
 */
function resultOf(err: unknown): RestartOutcome['result'] {
  if (isRebalance(err) || isTimeout(err)) return 'rebalance';
  if (isNotFound(err)) return 'not-found';
  return 'failed';
}

/**
 * Kafka Connect forwards a restart to the leader (or to the worker running the task) by pasting the decoded
 * name into the path unencoded: a `;` then starts a path parameter and the receiving worker reads the name
 * cut there (real 4.3.1: `semi;c` restarted connector `semi`'s FAILED tasks and answered its 202, or 404
 * `Unknown connector: semi5`). The connector an answer is about, when it is another one than asked.
 */
const MISROUTED = "Kafka Connect forwarded this restart to another worker with the connector name cut at ';' and the request reached another connector (answeredFor): restart this connector on the worker that runs it, or recreate it under a name without ';'";
const UNKNOWN_CONNECTOR = /^Unknown connector: ([\s\S]*)$/;
function answeredForAnother(err: unknown, connector: string): string | undefined {
  if (!isNotFound(err)) return undefined;
  const other = UNKNOWN_CONNECTOR.exec((err as { connectMessage?: string }).connectMessage ?? '')?.[1];
  // Only the name cut at a ';': a deleted connector's 404 names itself (its message may also be scrubbed).
  return other !== undefined && connector.startsWith(`${other};`) ? other : undefined;
}

/** The worker tried the restart and answered 500 (not a rebalance): the connector did not start. */
function failedToStart(err: unknown): boolean {
  return isConnectError(err) && err.code === 'HTTP' && err.status === 500 && !isRebalance(err);
}

/** Turns restart actions into Connect requests. */
export async function executeRestart(
  action: RestartAction,
  deps: { client: ConnectClient; version: string | undefined; dryRun: boolean; logger: Logger; signal?: AbortSignal },
): Promise<ExecutedRestart> {
  const { client, logger } = deps;
  const fields =
    action.kind === 'restart-task'
      ? { connector: action.connector, task: action.task, class: action.class, attempt: action.attempt }
      : { connector: action.connector, task: null, failedTasks: action.failedTasks, class: action.class, attempt: action.attempt };
  if (deps.dryRun) {
    logger.info({ ...fields, dryRun: true }, 'would restart (dry run)');
    return { action, outcome: 'dry_run' };
  }
  // Requests of this action the worker ran: a refusal after one of them is no refusal of the attempt.
  let ran = 0;
  try {
    if (action.kind === 'restart-task') {
      await client.restartTask(action.connector, action.task, deps.signal);
    } else {
      // Older workers ignore the KIP-745 flags; and when some FAILED task must not be restarted
      // (its class escalates), the flags would restart it anyway: restart one by one instead.
      const flags = action.includeTasks && supportsRestartFlags(deps.version);
      let tasksRestarted = false;
      let connectorError: unknown;
      if (action.connectorFailed) {
        try {
          const result = await client.restartConnector(action.connector, { includeTasks: flags, onlyFailed: flags }, deps.signal);
          // The name the answer is about; of a body that does not read, when it still names one.
          const answeredFor = result.body?.name ?? result.unreadable?.name;
          if (answeredFor !== undefined && answeredFor !== action.connector) {
            // Another connector was restarted: nothing of ours was, and a task restart would be cut the same way.
            logger.error({ ...fields, outcome: 'failed', answeredFor }, MISROUTED);
            return { action, outcome: 'failed' };
          }
          if (result.unreadable !== undefined) {
            // 202: the worker accepted the restart. Counted as sent (the attempt stands either way, so the backoff
            // is the same; 'failed' only misreported it). What the body was, never what it said: it may quote
            // traces, configs or whatever a proxy put there.
            const { problem, bodyChars, field } = result.unreadable;
            logger.warn({ ...fields, outcome: 'ok', status: 202, problem, bodyChars, ...(field !== undefined && { field }) }, 'restart accepted (202) but its answer could not be read: counted as sent');
          }
          // A KIP-745 restart answers the new status. Without one, a worker < 3.0 ignored the flags and
          // restarted the Connector object only: the version was unknown, or (a rolling upgrade) a newer
          // worker forwarded the request to an older leader, which answers 202 with no body. A body that does
          // not read is still a body: a KIP-745 worker's answer, which restarted the FAILED tasks with the connector
          // (restarting them again one by one would restart them twice).
          tasksRestarted = flags && (result.body !== undefined || result.unreadable !== undefined);
        } catch (err) {
          // A worker < 3.0 restarts the connector, then answers 500 "Failed to start connector: NAME" when
          // its start throws again: its FAILED tasks are still restarted, as a KIP-745 restart would.
          if (!failedToStart(err)) throw err;
          connectorError = err;
        }
        ran += 1;
      }
      if (!tasksRestarted) {
        for (const task of action.failedTasks) {
          await client.restartTask(action.connector, task, deps.signal);
          ran += 1;
        }
      }
      if (connectorError !== undefined) {
        logger.warn({ ...fields, outcome: 'failed', err: (connectorError as Error).message }, 'connector restart not done (it failed to start again); its FAILED tasks were restarted');
        return { action, outcome: 'failed' };
      }
    }
    logger.info(fields, 'restart sent');
    return { action, outcome: 'ok' };
  } catch (err) {
    // Part of it ran (the connector, earlier tasks): the attempt stands, as a failed one does, rather than
    // being rolled back as refused; the tasks left are restarted at the next attempt.
    const result = resultOf(err);
    const outcome = ran > 0 && result === 'rebalance' ? 'failed' : result;
    if (ran > 0 && outcome === 'failed') {
      logger.warn({ ...fields, outcome, requestsDone: ran, err: (err as Error).message }, 'restart partly done: a later request of it was refused');
      return { action, outcome };
    }
    const unaddressable = unaddressableName(err, action.connector);
    if (unaddressable !== undefined) {
      logger.error(
        { ...fields, outcome, status: (err as { status?: number }).status },
        `this connector cannot be restarted through the REST API: ${unaddressable}; restart it by hand or recreate it under another name`,
      );
      return { action, outcome };
    }
    const answeredFor = answeredForAnother(err, action.connector);
    if (answeredFor !== undefined) {
      logger.error({ ...fields, outcome, status: 404, answeredFor }, MISROUTED);
      return { action, outcome };
    }
    const log = outcome === 'failed' ? logger.warn.bind(logger) : logger.info.bind(logger);
    const msg =
      outcome !== 'rebalance'
        ? 'restart not done'
        : isTimeout(err) || isHerderTimedOut(err)
          ? 'restart not answered in time (a worker cut off from Kafka holds it); not counted, retried under backoff'
          : 'restart refused during a rebalance; retrying next poll';
    log({ ...fields, outcome, err: (err as Error).message }, msg);
    const refusal = outcome === 'rebalance' ? refusalOf(err) : undefined;
    return { action, outcome, ...(refusal !== undefined && { refusal }) };
  }
}
