import * as path from "path";

/** Every file and directory the sandbox creates lives under one of these roots. */
export interface SandboxPaths {
  readonly repoRoot: string;
  readonly stateDir: string; // .sandbox/: state, outputs, logs, containers, staging
  readonly stateFile: string;
  readonly outputsFile: string;
  readonly logDir: string;
  readonly lxcPath: string;
  readonly stagingDir: string;
  readonly cacheDir: string; // .cache/sandbox/: base rootfs + apt repo, kept across `down`
  readonly aptRepoDir: string;
  readonly artifactsDir: string;
  readonly shimDir: string;
  readonly hostScriptsDir: string;
}

export function sandboxPaths(repoRoot: string): SandboxPaths {
  const stateDir = path.join(repoRoot, ".sandbox");
  const cacheDir = path.join(repoRoot, ".cache", "sandbox");
  return {
    repoRoot,
    stateDir,
    stateFile: path.join(stateDir, "state.json"),
    outputsFile: path.join(stateDir, "outputs.json"),
    logDir: path.join(stateDir, "logs"),
    lxcPath: path.join(stateDir, "lxc"),
    stagingDir: path.join(stateDir, "staging"),
    cacheDir,
    aptRepoDir: path.join(cacheDir, "apt-repo"),
    artifactsDir: path.join(repoRoot, ".cache", "artifacts"),
    shimDir: path.join(repoRoot, "scripts", "sandbox", "shim"),
    hostScriptsDir: path.join(repoRoot, "scripts", "sandbox", "host"),
  };
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
