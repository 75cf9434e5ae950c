import type { DrillOptions } from "../args";
import type { StackNode, StackOutputs } from "../outputs";
import type { Pct } from "./pct";

export interface DbSettings {
  database: string;
  user: string;
  password: string;
}

/** Everything a scenario needs to talk to the stack. */
export interface DrillContext {
  opts: DrillOptions;
  outputs: StackOutputs;
  pct: Pct;
  runId: string;
  db: DbSettings;
  /** The /admin credentials (settings.lbAdminAuth), else null. */
  admin: { user: string; password: string } | null;
  appNodes: StackNode[];
  pgPrimary: StackNode;
  pgStandby: StackNode;
  pgProxy: StackNode;
  log: (message: string) => void;
  /** VMIDs a drill has stopped and not yet started again (restored on interrupt) */
  stopped: Set<number>;
  /**
   * Faults in place other than stopped containers (a link down, a killed unit), keyed by what they
   * are, each with the step that undoes it: run on interrupt, removed once the fault healed.
   */
  undo: Map<string, () => Promise<void>>;
  /** next free phase number for uid series (each load gets its own uid prefix) */
  nextPhase: () => number;
}
