/** Exit codes are an interface: people script on them. */
export const EXIT = {
  ok: 0,
  /** A cluster could not be reached (status, run --once). */
  unreachable: 1,
  /** status: something is FAILED. */
  failed: 2,
  /** Wrong command-line usage (BSD EX_USAGE). */
  usage: 64,
  /** Bad configuration (BSD EX_CONFIG): systemd's RestartPreventExitStatus=78 relies on it. */
  config: 78,
} as const;
