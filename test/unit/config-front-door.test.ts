import * as assert from "assert";
import { parseConfig, validateConfig, type RawConfig } from "../../components/config";
import { exampleRaw } from "./program-harness";
import { selfSignedPem } from "./self-signed";

const pem = (kind: "rsa" | "ec") => selfSignedPem(kind);

const errorsOf = (changes: RawConfig) => validateConfig(exampleRaw(changes));

describe("config: front door and container firewall settings", function () {
  this.timeout(30000);
  const ec = pem("ec");
  const rsa = pem("rsa");

  it("defaults: TLS (self-signed), redirect, admin auth, POST limits, firewall; operators = networkCidr", () => {
    const { config } = parseConfig(exampleRaw());
    assert.ok(config);
    assert.deepStrictEqual(config.frontDoor, {
      tls: "self-signed",
      tlsCertificate: "",
      tlsPrivateKey: "",
      redirectHttp: true,
      adminAuth: true,
      adminUser: "admin",
      adminPassword: "",
      postRatePerSecond: 50,
      postBurst: 100,
      maxBodyBytes: 32768,
    });
    assert.deepStrictEqual(config.firewall, { enabled: true, operatorCidr: "192.168.100.0/24" });
  });

  it("lbTls auto: provided when a certificate is set, else self-signed; off drops the default redirect", () => {
    const provided = parseConfig(
      exampleRaw({ lbTlsCertificate: ec.cert, lbTlsPrivateKey: ec.key }),
    ).config;
    assert.strictEqual(provided?.frontDoor.tls, "provided");
    assert.strictEqual(
      parseConfig(exampleRaw({ lbTls: "auto" })).config?.frontDoor.tls,
      "self-signed",
    );
    const off = parseConfig(exampleRaw({ lbTls: "off" })).config;
    assert.strictEqual(off?.frontDoor.tls, "off");
    assert.strictEqual(off?.frontDoor.redirectHttp, false);
    const plain = parseConfig(exampleRaw({ lbRedirectHttp: "false" })).config;
    assert.deepStrictEqual(
      [plain?.frontDoor.tls, plain?.frontDoor.redirectHttp],
      ["self-signed", false],
    );
  });

  it("accepts every option on, with a provided EC or RSA pair", () => {
    for (const pair of [ec, rsa]) {
      const raw = {
        lbTls: "provided",
        lbTlsCertificate: pair.cert,
        lbTlsPrivateKey: pair.key,
        lbRedirectHttp: "true",
        lbAdminAuth: "true",
        lbAdminUser: "ops.team",
        lbAdminPassword: "a-long-enough-password",
        lbPostRatePerSecond: "10",
        lbPostBurst: "20",
        lbMaxBodyBytes: "32768",
        containerFirewall: "true",
        operatorCidr: "10.0.0.0/8",
      };
      assert.deepStrictEqual(errorsOf(raw), []);
    }
    assert.deepStrictEqual(errorsOf({ lbTls: "self-signed", operatorCidr: "0.0.0.0/0" }), []);
    assert.deepStrictEqual(errorsOf({ operatorCidr: "203.0.113.7/32" }), []);
  });

  const refusals: { what: string; changes: () => RawConfig; errors: string[] }[] = [
    {
      what: "an unknown lbTls",
      changes: () => ({ lbTls: "on" }),
      errors: ['lbTls: must be one of auto, off, self-signed, provided (got "on")'],
    },
    {
      what: "provided without the material",
      changes: () => ({ lbTls: "provided" }),
      errors: [
        "lbTlsCertificate: required with lbTls provided (set it with `pulumi config set --secret lbTlsCertificate < cert.pem`)",
        "lbTlsPrivateKey: required with lbTls provided (set it with `pulumi config set --secret lbTlsPrivateKey < key.pem`)",
      ],
    },
    {
      what: "a certificate that is no PEM and a key that is the certificate",
      changes: () => ({ lbTls: "provided", lbTlsCertificate: "hello", lbTlsPrivateKey: ec.cert }),
      errors: [
        "lbTlsCertificate: must be a PEM certificate (-----BEGIN CERTIFICATE-----)",
        "lbTlsPrivateKey: must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC)",
      ],
    },
    {
      what: "a key of another certificate",
      changes: () => ({ lbTls: "provided", lbTlsCertificate: ec.cert, lbTlsPrivateKey: rsa.key }),
      errors: ["lbTlsPrivateKey: does not belong to lbTlsCertificate"],
    },
    {
      what: "a damaged certificate",
      changes: () => ({
        lbTls: "provided",
        lbTlsCertificate: ec.cert.replace(/\n[A-Za-z0-9+/]{8}/, "\nAAAAAAAA"),
        lbTlsPrivateKey: ec.key,
      }),
      errors: ["lbTlsCertificate: the PEM certificate does not parse"],
    },
    {
      what: "an encrypted key",
      changes: () => ({
        lbTls: "provided",
        lbTlsCertificate: ec.cert,
        lbTlsPrivateKey:
          "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
      }),
      errors: [
        "lbTlsPrivateKey: must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC)",
      ],
    },
    {
      what: "TLS material without lbTls provided",
      changes: () => ({ lbTls: "self-signed", lbTlsCertificate: ec.cert, lbTlsPrivateKey: ec.key }),
      errors: [
        'lbTlsCertificate: only used with lbTls provided (lbTls is "self-signed"); unset it',
        'lbTlsPrivateKey: only used with lbTls provided (lbTls is "self-signed"); unset it',
      ],
    },
    {
      what: "a redirect without TLS",
      changes: () => ({ lbTls: "off", lbRedirectHttp: "true" }),
      errors: ['lbRedirectHttp: needs lbTls self-signed or provided (lbTls is "off") (got true)'],
    },
    {
      what: "a non-boolean lbRedirectHttp, lbAdminAuth and containerFirewall",
      changes: () => ({ lbRedirectHttp: "yes", lbAdminAuth: "1", containerFirewall: "on" }),
      errors: [
        'lbRedirectHttp: must be true or false (got "yes")',
        'lbAdminAuth: must be true or false (got "1")',
        'containerFirewall: must be true or false (got "on")',
      ],
    },
    {
      what: "a user name with a colon",
      changes: () => ({ lbAdminAuth: "true", lbAdminUser: "ad:min" }),
      errors: [`lbAdminUser: must be 1-64 letters, digits, '.', '_' or '-' (got "ad:min")`],
    },
    {
      what: "a short admin password (not shown)",
      changes: () => ({ lbAdminAuth: "true", lbAdminPassword: "short" }),
      errors: [
        "lbAdminPassword: must be 12-128 characters without line breaks or control characters (value not shown: secret)",
      ],
    },
    {
      what: "an admin password with a line break",
      changes: () => ({ lbAdminAuth: "true", lbAdminPassword: "first-line-long\nsecond" }),
      errors: [
        "lbAdminPassword: must be 12-128 characters without line breaks or control characters (value not shown: secret)",
      ],
    },
    {
      what: "an admin password without lbAdminAuth",
      changes: () => ({ lbAdminAuth: "false", lbAdminPassword: "a-long-enough-password" }),
      errors: ["lbAdminPassword: only used with lbAdminAuth true; unset it"],
    },
    {
      what: "limits out of range",
      changes: () => ({
        lbPostRatePerSecond: "-1",
        lbPostBurst: "100001",
        lbMaxBodyBytes: "2147483648",
      }),
      errors: [
        "lbPostRatePerSecond: must be between 0 and 100000 (got -1)",
        "lbPostBurst: must be between 0 and 100000 (got 100001)",
        "lbMaxBodyBytes: must be between 0 and 1073741824 (got 2147483648)",
      ],
    },
    {
      what: "a non-integer rate",
      changes: () => ({ lbPostRatePerSecond: "2.5", lbPostBurst: "0" }),
      errors: ['lbPostRatePerSecond: must be an integer (got "2.5")'],
    },
    {
      what: "a burst without a rate",
      changes: () => ({ lbPostRatePerSecond: "0", lbPostBurst: "20" }),
      errors: ["lbPostBurst: needs lbPostRatePerSecond above 0 (0 = no POST rate limit) (got 20)"],
    },
    {
      what: "operatorCidr with host bits, a bad prefix or no prefix",
      changes: () => ({ operatorCidr: "10.0.0.1/8" }),
      errors: [
        'operatorCidr: must be empty or an IPv4 CIDR a.b.c.d/0..32 with zero host bits (got "10.0.0.1/8")',
      ],
    },
    {
      what: "operatorCidr without a prefix",
      changes: () => ({ operatorCidr: "10.0.0.1" }),
      errors: [
        'operatorCidr: must be empty or an IPv4 CIDR a.b.c.d/0..32 with zero host bits (got "10.0.0.1")',
      ],
    },
    {
      what: "operatorCidr /33",
      changes: () => ({ operatorCidr: "10.0.0.0/33" }),
      errors: [
        'operatorCidr: must be empty or an IPv4 CIDR a.b.c.d/0..32 with zero host bits (got "10.0.0.0/33")',
      ],
    },
  ];
  for (const { what, changes, errors } of refusals) {
    it(`refuses ${what}, naming the key`, () => {
      const got = errorsOf(changes());
      assert.deepStrictEqual(got, errors);
      // Secret values never appear in a problem (a password, a line of a key).
      const secrets = [
        ec.key.split("\n")[1],
        rsa.key.split("\n")[1],
        "a-long-enough",
        "first-line",
        '"short"',
      ];
      for (const e of got) for (const secret of secrets) assert.ok(!e.includes(secret), e);
    });
  }
});
