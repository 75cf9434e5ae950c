import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { isPlaceholder, parseDeploySteps } from "../../scripts/ci/readmeDeploy";
import { REPO_ROOT } from "./program-harness";

describe("ci: the README's deploy steps as data", () => {
  it("splits the block into shell lines, config sets and engine-only commands", () => {
    const readme = [
      "# x",
      "## Deploy",
      "```bash",
      "npm ci   # deps",
      "pulumi stack select dev   # or init",
      "pulumi config set proxmoxve:endpoint https://<host>:8006/",
      "pulumi config set --secret proxmoxve:apiToken '<user>@<realm>!<id>=<uuid>'",
      "pulumi config set --secret proxmoxSshPrivateKey < ~/.ssh/id_ed25519",
      "pulumi config set networkCidr 10.0.0.0/24 && pulumi config set networkGateway 10.0.0.1",
      "pulumi up",
      "```",
    ].join("\n");
    const steps = parseDeploySteps(readme);
    assert.deepStrictEqual(steps.shell, ["npm ci"]);
    assert.deepStrictEqual(steps.engineOnly, ["pulumi stack select dev", "pulumi up"]);
    assert.deepStrictEqual(steps.configSets, [
      { key: "proxmoxve:endpoint", value: "https://<host>:8006/", secret: false },
      { key: "proxmoxve:apiToken", value: "<user>@<realm>!<id>=<uuid>", secret: true },
      { key: "proxmoxSshPrivateKey", value: null, secret: true },
      { key: "networkCidr", value: "10.0.0.0/24", secret: false },
      { key: "networkGateway", value: "10.0.0.1", secret: false },
    ]);
    assert.deepStrictEqual(
      steps.configSets.map((s) => isPlaceholder(s.value)),
      [true, true, true, false, false],
    );
  });

  it("finds the project README's deploy block, with the artifact step before any pulumi command", () => {
    const steps = parseDeploySteps(fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"));
    assert.ok(steps.shell.some((l) => l.startsWith("bash scripts/artifacts/all.sh")));
    assert.ok(steps.engineOnly.includes("pulumi up"));
    assert.ok(steps.configSets.some((s) => s.key === "networkCidr" && !isPlaceholder(s.value)));
  });

  it("refuses a README without a deploy block", () => {
    assert.throws(() => parseDeploySteps("# nothing"), /no '## Deploy' section/);
  });
});
