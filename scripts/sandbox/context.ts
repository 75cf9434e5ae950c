import { BridgePlan } from "./bridge";
import { SandboxPaths } from "./paths";
import { SandboxState } from "./state";

/** What every performer needs: where things live, the bridge, the state and a progress log. */
export interface SandboxContext {
  readonly paths: SandboxPaths;
  readonly bridge: BridgePlan;
  readonly baseRootfs: string;
  readonly aptRepoMountPoint: string;
  readonly state: SandboxState;
  readonly parallelism: number;
  /** Keep performing resources that do not depend on a failed one (like `pulumi up --continue-on-error`). */
  readonly continueOnError: boolean;
  readonly log: (line: string) => void;
  /**
   * SSH host of every Proxmox host of the stack by node name: a command for a container must be
   * sent to the host that holds it (all "hosts" are this machine; the routing is still checked).
   */
  readonly hostSsh?: Readonly<Record<string, string>>;
}
