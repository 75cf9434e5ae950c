/**
 * OpenSSH public keys of the containers' root account (`containerSshPublicKeys`): one key a line,
 * `<type> <base64 blob> [comment]`, as in authorized_keys without options.
 */
import type { Problems } from "./problems";

export const SSH_KEY_TYPES: readonly string[] = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
];

const KEY_LINE = /^([a-z][a-z0-9@.-]*) ([A-Za-z0-9+/]+={0,2})(?: .*)?$/;

/** The key type written at the start of the blob (uint32 length, then the name). */
function blobType(base64: string): string | undefined {
  const blob = Buffer.from(base64, "base64");
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length > blob.length - 4) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

/** Why a line is not an OpenSSH public key; undefined when it is one. */
export function sshKeyProblem(line: string): string | undefined {
  const m = KEY_LINE.exec(line);
  if (!m) return "is not an OpenSSH public key (<type> <base64> [comment])";
  if (!SSH_KEY_TYPES.includes(m[1])) {
    return `has an unknown key type ${JSON.stringify(m[1])} (known: ${SSH_KEY_TYPES.join(", ")})`;
  }
  if (blobType(m[2]) !== m[1]) return `has a key blob that is not a ${m[1]} key`;
  return undefined;
}

/**
 * The keys of the setting, one a line, blank lines skipped; every bad line is a problem naming
 * `key`, the line number and the line (public keys are not secret). A pasted private key is one
 * problem that shows none of it.
 */
export function parseSshPublicKeys(text: string, key: string, p: Problems): string[] {
  if (/PRIVATE KEY/.test(text)) {
    p.addText(`${key}: holds a private key; give the public keys (.pub) (value not shown)`);
    return [];
  }
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim().replace(/\s+/g, " ");
    if (line === "") return;
    const problem = sshKeyProblem(line);
    if (problem) p.add(key, `line ${index + 1} ${problem}`, line);
    else keys.push(line);
  });
  return keys;
}
