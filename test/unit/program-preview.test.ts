/**
 * The program as `pulumi preview` sees it: every output of a resource yet to be created is
 * unknown. Mocks do not run the providers' input checks, so previewProblems() checks what the
 * real engine rejected on this program before: secret unknown triggers and missing asset files.
 */
import * as assert from "assert";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { exampleRaw, recordProgram, runProgram, secretInput } from "./program-harness";
import { previewProblems } from "./preview-walk";
import { loadConfig } from "../../components/config";
import { deployStack, stackOutputs } from "../../components/stack";

describe("program: preview mode (outputs unknown, as the engine sees them)", function () {
  this.timeout(120000);

  it("previews the example stack with no secret unknown trigger and every asset file present", async () => {
    const run = await runProgram(exampleRaw({ grafanaEnabled: "true" }), { preview: true });
    assert.deepStrictEqual(await previewProblems(run), []);
    // The run was a real preview: the secret-carrying step's trigger is unknown, and not secret.
    const triggers = run.byName("pg1-pg-primary-setup").inputs.triggers as unknown[];
    assert.ok(!secretInput(triggers).secret);
    assert.ok(pulumi.isUnknown(triggers[0]));
    assert.ok(run.resources.some((r) => r.type === "command:remote:CopyToRemote"));
  });

  it("catches a secret unknown trigger and a missing asset file", async () => {
    const run = await recordProgram(
      exampleRaw(),
      () => {
        const password = new random.RandomPassword("pw", { length: 16 });
        const connection = { host: "pve.example.internal", user: "root" };
        new command.remote.Command("secret-trigger", {
          connection,
          create: "true",
          triggers: [pulumi.secret(password.result)],
        });
        new command.remote.CopyToRemote("missing-asset", {
          connection,
          source: new pulumi.asset.FileAsset(".cache/artifacts/no-such-file.deb"),
          remotePath: "/tmp/x",
        });
        return {};
      },
      { preview: true },
    );
    assert.deepStrictEqual(await previewProblems(run), [
      "secret-trigger (command:remote:Command): triggers is a secret whose value is unknown at preview",
      "missing-asset (command:remote:CopyToRemote): inputs.source names a missing file (.cache/artifacts/no-such-file.deb)",
    ]);
  });

  it("refuses a missing local artifact before any resource, naming the key, the path and the ways out", async () => {
    const missing = "test/unit/fixtures/artifacts/absent/grafana.deb";
    const raw = exampleRaw({
      grafanaEnabled: "true",
      artifacts: { grafana: { localPath: missing } },
    });
    let error: unknown;
    const run = await recordProgram(raw, () => {
      try {
        return stackOutputs(deployStack(loadConfig()));
      } catch (e) {
        error = e;
        return {};
      }
    });
    assert.strictEqual(
      (error as Error).message,
      "invalid stack configuration:\n" +
        `  - artifacts.grafana.localPath: file not found (${missing}); put the Grafana .deb there, give artifacts.grafana.url + sha256 or set grafanaEnabled: false`,
    );
    assert.strictEqual(run.resources.length, 0);
  });
});
