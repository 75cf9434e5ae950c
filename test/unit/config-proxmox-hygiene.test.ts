import * as assert from "assert";
import { parseConfig, type RawConfig } from "../../components/config";
import { vzdumpJobId } from "../../components/config/vzdump";
import { exampleRaw } from "./program-harness";

/** A public key line of `type` (the blob starts with the type, as OpenSSH writes it). */
function sshKeyLine(type: string, comment = ""): string {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  const blob = Buffer.concat([length, name, Buffer.alloc(36, 7)]).toString("base64");
  return `${type} ${blob}${comment ? ` ${comment}` : ""}`;
}

function parsed(changes: RawConfig) {
  return parseConfig({ ...exampleRaw(), ...changes });
}

describe("config: Proxmox hygiene settings", () => {
  it("defaults to no keys, no firewall and no vzdump job", () => {
    const { config } = parsed({});
    assert.ok(config);
    assert.deepStrictEqual(config.proxmox.containerSshPublicKeys, []);
    assert.strictEqual(config.proxmox.firewall, false);
    assert.deepStrictEqual(config.proxmox.vzdump, { schedule: "", storage: "local", keepLast: 7 });
  });

  it("reads one key a line, blank lines and surrounding spaces dropped", () => {
    const ed = sshKeyLine("ssh-ed25519", "ops@example");
    const rsa = sshKeyLine("ssh-rsa");
    const ecdsa = sshKeyLine("ecdsa-sha2-nistp256", "two words");
    const { config, errors } = parsed({
      containerSshPublicKeys: `${ed}\n\n  ${rsa}  \r\n${ecdsa}\n`,
    });
    assert.deepStrictEqual(errors, []);
    assert.deepStrictEqual(config?.proxmox.containerSshPublicKeys, [ed, rsa, ecdsa]);
  });

  it("refuses a line that is no OpenSSH public key, naming the key, the line and its number", () => {
    const good = sshKeyLine("ssh-ed25519");
    const mislabelled = sshKeyLine("ssh-rsa").replace(/^ssh-rsa/, "ssh-ed25519");
    const { errors } = parsed({
      containerSshPublicKeys: [
        good,
        `from="10.0.0.1" ${good}`,
        sshKeyLine("ssh-dss"),
        mislabelled,
      ].join("\n"),
    });
    assert.deepStrictEqual(errors, [
      `containerSshPublicKeys: line 2 is not an OpenSSH public key (<type> <base64> [comment]) (got ${JSON.stringify(`from="10.0.0.1" ${good}`)})`,
      `containerSshPublicKeys: line 3 has an unknown key type "ssh-dss" (known: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com) (got ${JSON.stringify(sshKeyLine("ssh-dss"))})`,
      `containerSshPublicKeys: line 4 has a key blob that is not a ssh-ed25519 key (got ${JSON.stringify(mislabelled)})`,
    ]);
  });

  it("refuses a pasted private key without showing any of it", () => {
    const secret = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ";
    const { errors } = parsed({
      containerSshPublicKeys: `-----BEGIN OPENSSH PRIVATE KEY-----\n${secret}\n-----END OPENSSH PRIVATE KEY-----`,
    });
    assert.deepStrictEqual(errors, [
      "containerSshPublicKeys: holds a private key; give the public keys (.pub) (value not shown)",
    ]);
  });

  it("accepts Proxmox calendar events and refuses a bad schedule, storage or keep-last", () => {
    for (const schedule of [
      "daily",
      "02:30",
      "mon..fri 02:00",
      "*-*-* 03:15",
      "sat *-1..7 15:00",
    ]) {
      assert.deepStrictEqual(parsed({ proxmoxBackupSchedule: schedule }).errors, [], schedule);
    }
    assert.deepStrictEqual(
      parsed({
        proxmoxBackupSchedule: "daily; rm -rf /",
        proxmoxBackupStorage: "local storage",
        proxmoxBackupKeepLast: "0",
        proxmoxFirewall: "yes",
      }).errors,
      [
        'proxmoxFirewall: must be true or false (got "yes")',
        'proxmoxBackupSchedule: must be empty or a Proxmox calendar event like daily or 02:30 (got "daily; rm -rf /")',
        'proxmoxBackupStorage: must be a storage id (got "local storage")',
        "proxmoxBackupKeepLast: must be between 1 and 1000 (got 0)",
      ],
    );
    assert.match(
      parsed({ proxmoxBackupSchedule: " daily" }).errors.join(),
      /proxmoxBackupSchedule/,
    );
  });

  it("names the vzdump job after the stack, in the characters Proxmox accepts", () => {
    assert.strictEqual(vzdumpJobId("dev"), "pve-ha-stack-dev");
    assert.strictEqual(vzdumpJobId("Org.Prod"), "pve-ha-stack-org-prod");
    assert.ok(vzdumpJobId("x".repeat(80)).length <= 50);
  });
});
