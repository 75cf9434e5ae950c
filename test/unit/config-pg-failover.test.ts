import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
  loadConfig,
  runtimeConfigOf,
  validateConfig,
  type RawConfig,
} from "../../components/config";
import {
  HAPROXY_CHECK_DEFAULT,
  PATRONI_TIMINGS_DEFAULT,
  patroniTimingRuleProblem,
  writeResumeBoundMs,
} from "../../components/config/pgFailover";
import { SCALAR_SETTINGS } from "../../components/config/schema";
import { exampleRaw } from "./program-harness";

function withSettings(changes: RawConfig): RawConfig {
  return { ...exampleRaw(), ...changes };
}

describe("config: pgFailover and the Patroni/HAProxy timings", () => {
  it("fails over automatically by default and reads the timings' defaults", () => {
    // exampleRaw() pins manual for the paper's tests: without the key the stack is auto.
    const unset = exampleRaw();
    delete unset.pgFailover;
    pulumi.runtime.setAllConfig(runtimeConfigOf(unset));
    const cfg = loadConfig(new pulumi.Config("pve-ha-stack"));
    assert.deepStrictEqual(cfg.pg.failover, {
      mode: "auto",
      synchronous: false,
      patroni: PATRONI_TIMINGS_DEFAULT,
      haproxyCheck: HAPROXY_CHECK_DEFAULT,
    });
  });

  it("declares the same defaults in the schema as in pgFailover.ts", () => {
    assert.strictEqual(
      SCALAR_SETTINGS.patroniTtlSeconds.default,
      PATRONI_TIMINGS_DEFAULT.ttlSeconds,
    );
    assert.strictEqual(
      SCALAR_SETTINGS.patroniLoopWaitSeconds.default,
      PATRONI_TIMINGS_DEFAULT.loopWaitSeconds,
    );
    assert.strictEqual(
      SCALAR_SETTINGS.patroniRetryTimeoutSeconds.default,
      PATRONI_TIMINGS_DEFAULT.retryTimeoutSeconds,
    );
    assert.strictEqual(
      SCALAR_SETTINGS.haproxyCheckIntervalMs.default,
      HAPROXY_CHECK_DEFAULT.intervalMs,
    );
    assert.strictEqual(SCALAR_SETTINGS.haproxyCheckFall.default, HAPROXY_CHECK_DEFAULT.fall);
    assert.strictEqual(SCALAR_SETTINGS.haproxyCheckRise.default, HAPROXY_CHECK_DEFAULT.rise);
  });

  it("lets writes resume within 10 s of a hard loss of the primary with the defaults", () => {
    assert.strictEqual(patroniTimingRuleProblem(PATRONI_TIMINGS_DEFAULT), undefined);
    assert.strictEqual(writeResumeBoundMs(PATRONI_TIMINGS_DEFAULT, HAPROXY_CHECK_DEFAULT), 8500);
  });

  it("accepts auto with synchronous mode", () => {
    assert.deepStrictEqual(
      validateConfig(withSettings({ pgFailover: "auto", pgSynchronous: "true" })),
      [],
    );
  });

  const bad: Array<[string, RawConfig, string[]]> = [
    [
      "an unknown mode",
      { pgFailover: "patroni" },
      ['pgFailover: must be one of manual, auto (got "patroni")'],
    ],
    [
      "a non-boolean pgSynchronous",
      { pgSynchronous: "yes" },
      ['pgSynchronous: must be true or false (got "yes")'],
    ],
    [
      "timings out of range",
      { patroniLoopWaitSeconds: "0", haproxyCheckIntervalMs: "50" },
      [
        "patroniLoopWaitSeconds: must be between 1 and 60 (got 0)",
        "haproxyCheckIntervalMs: must be between 100 and 60000 (got 50)",
      ],
    ],
    [
      "HAProxy fall and rise of 0",
      { haproxyCheckFall: "0", haproxyCheckRise: "x" },
      [
        "haproxyCheckFall: must be between 1 and 20 (got 0)",
        'haproxyCheckRise: must be an integer (got "x")',
      ],
    ],
    [
      "timings that break loop_wait + 2 x retry_timeout <= ttl",
      { patroniRetryTimeoutSeconds: "4" },
      [
        "patroniTtlSeconds, patroniLoopWaitSeconds, patroniRetryTimeoutSeconds: loop_wait + 2 x retry_timeout must be <= ttl (1 + 2 x 4 = 9 > 5)",
      ],
    ],
  ];
  for (const [what, changes, errors] of bad) {
    it(`rejects ${what}, naming key and value`, () => {
      assert.deepStrictEqual(validateConfig(withSettings(changes)), errors);
    });
  }
});
