/**
 * Checks of the front-door settings (lbTls*, lbAdmin*, lbPost*, lbMaxBodyBytes, operatorCidr).
 * Secret values never appear in a problem: only their key and what is wrong with them.
 */
import { X509Certificate, createPrivateKey } from "crypto";
import { isIpv4, ipToInt } from "./net";
import type { Problems } from "./problems";
import type { FrontDoorSettings, LbTlsMode, LbTlsSetting } from "./types";

/** nginx's body limit without lbMaxBodyBytes (the `client_max_body_size 1m` of nginx.conf). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A basic-auth user name: no `:` (htpasswd's separator), no spaces. */
export const ADMIN_USER = /^[A-Za-z0-9._-]{1,64}$/;
export const ADMIN_PASSWORD_LENGTH = { min: 12, max: 128 } as const;

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/;
const KEY_BLOCK =
  /-----BEGIN (RSA |EC )?PRIVATE KEY-----[A-Za-z0-9+/=\s]+-----END \1?PRIVATE KEY-----/;

/**
 * lbTlsCertificate / lbTlsPrivateKey with lbTls "provided": PEM, parseable, unencrypted, and the
 * key belongs to the (first) certificate.
 */
export function checkProvidedTls(cert: string, key: string, p: Problems): void {
  let x509: X509Certificate | undefined;
  if (cert === "") {
    p.addText(
      "lbTlsCertificate: required with lbTls provided (set it with `pulumi config set --secret lbTlsCertificate < cert.pem`)",
    );
  } else if (!CERT_BLOCK.test(cert)) {
    p.addText("lbTlsCertificate: must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
  } else {
    try {
      x509 = new X509Certificate(cert);
    } catch {
      p.addText("lbTlsCertificate: the PEM certificate does not parse");
    }
  }
  if (key === "") {
    p.addText(
      "lbTlsPrivateKey: required with lbTls provided (set it with `pulumi config set --secret lbTlsPrivateKey < key.pem`)",
    );
    return;
  }
  if (/ENCRYPTED/.test(key) || !KEY_BLOCK.test(key)) {
    p.addText(
      "lbTlsPrivateKey: must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC)",
    );
    return;
  }
  try {
    const parsed = createPrivateKey(key);
    if (x509 && !x509.checkPrivateKey(parsed)) {
      p.addText("lbTlsPrivateKey: does not belong to lbTlsCertificate");
    }
  } catch {
    p.addText("lbTlsPrivateKey: the PEM private key does not parse");
  }
}

/**
 * lbTls "auto" (the default): the provided certificate when lbTlsCertificate is set, else a
 * self-signed one per LB (a test convenience: nobody trusts it). Any other value stays as it is.
 */
export function resolveTlsMode(setting: LbTlsSetting, certificate: string): LbTlsMode {
  if (setting !== "auto") return setting;
  return certificate === "" ? "self-signed" : "provided";
}

/** An admin password from the settings; "" (unset) means a generated one. */
export function checkAdminPassword(password: string, p: Problems): void {
  if (password === "") return;
  const { min, max } = ADMIN_PASSWORD_LENGTH;
  if (password.length < min || password.length > max || /[\x00-\x1f\x7f]/.test(password)) {
    p.addText(
      `lbAdminPassword: must be ${min}-${max} characters without line breaks or control characters (value not shown: secret)`,
    );
  }
}

/** Cross-checks of the parsed front-door settings (each key valid on its own already). */
export function checkFrontDoor(fd: FrontDoorSettings, p: Problems): void {
  if (fd.tls === "provided") checkProvidedTls(fd.tlsCertificate, fd.tlsPrivateKey, p);
  else {
    for (const key of ["lbTlsCertificate", "lbTlsPrivateKey"] as const) {
      const value = key === "lbTlsCertificate" ? fd.tlsCertificate : fd.tlsPrivateKey;
      if (value !== "") {
        p.addText(`${key}: only used with lbTls provided (lbTls is "${fd.tls}"); unset it`);
      }
    }
  }
  if (fd.redirectHttp && fd.tls === "off") {
    p.add("lbRedirectHttp", 'needs lbTls self-signed or provided (lbTls is "off")', true);
  }
  if (fd.adminAuth) checkAdminPassword(fd.adminPassword, p);
  else if (fd.adminPassword !== "") {
    p.addText("lbAdminPassword: only used with lbAdminAuth true; unset it");
  }
  if (fd.postBurst > 0 && fd.postRatePerSecond === 0) {
    p.add(
      "lbPostBurst",
      "needs lbPostRatePerSecond above 0 (0 = no POST rate limit)",
      fd.postBurst,
    );
  }
}

/** operatorCidr: "" (the stack's network) or a.b.c.d/0..32 with zero host bits. */
export function parseOperatorCidr(text: string, networkCidr: string, p: Problems): string {
  if (text === "") return networkCidr;
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  const ok =
    match !== null &&
    isIpv4(match[1]) &&
    Number(match[2]) <= 32 &&
    ipToInt(match[1]) % 2 ** (32 - Number(match[2])) === 0;
  if (!ok)
    p.add("operatorCidr", "must be empty or an IPv4 CIDR a.b.c.d/0..32 with zero host bits", text);
  return text;
}
