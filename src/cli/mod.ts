/**
 * The command line of `spiced`: flags, their validation, and the cluster
 * security policy derived from them.
 *
 * @module
 */
export {
  checkClusterSecurity,
  formatHostPort,
  HELP_TEXT,
  INSECURE_WARNING,
  parseFlags,
  parseHostPort,
  VERSION,
} from "./flags.ts";
export type {
  Flags,
  HostPort,
  MtlsFiles,
  Role,
  SchedulerAddress,
  SecurityCheck,
  TlsFiles,
} from "./flags.ts";
