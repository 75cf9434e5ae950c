import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * A throw-away self-signed certificate and its key (PEM), made with openssl for the TLS tests;
 * `sanIp` puts that address into subjectAltName (a client that verifies the certificate needs it).
 */
export function selfSignedPem(
  kind: "rsa" | "ec",
  commonName = "t",
  sanIp?: string,
): { cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "self-signed-"));
  try {
    const keyArgs =
      kind === "rsa" ? ["rsa:2048"] : ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    const san = sanIp === undefined ? [] : ["-addext", `subjectAltName=IP:${sanIp}`];
    const [key, cert] = [path.join(dir, "key"), path.join(dir, "crt")];
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", ...keyArgs, "-nodes", "-days", "2", "-subj", `/CN=${commonName}`]
        .concat(san)
        .concat(["-keyout", key, "-out", cert]),
      { stdio: "ignore" },
    );
    return { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8") };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
