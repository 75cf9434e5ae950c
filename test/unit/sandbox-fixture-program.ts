/**
 * A small Pulumi program for the sandbox monitor's unit test: random values, a secret that reaches
 * a command's stdin, and a local command that writes a file only the test reads.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

const cfg = new pulumi.Config("fixture");
const out = cfg.require("outFile");
const password = new random.RandomPassword("pw", { length: 20, special: false });
const uuid = new random.RandomUuid("id", {});
const write = new command.local.Command("write", {
  create: `cat >> '${out}'`,
  stdin: pulumi.secret(
    pulumi.interpolate`${cfg.require("label")} ${password.result} ${uuid.result}\n`,
  ),
});
const fail = cfg.getBoolean("fail") ?? false;
const after = new command.local.Command(
  "after",
  { create: fail ? "echo broken >&2; exit 3" : "echo done" },
  { dependsOn: [write] },
);

export const passwordOut = pulumi.secret(password.result);
export const uuidOut = uuid.result;
export const afterOut = after.stdout;
