import { strict as assert } from "node:assert";
import { parseDrillArgs } from "../../scripts/drill/args";
import { FAULT_BOUNDS } from "../../scripts/drill/bounds";
import {
  allChecks,
  failoverChecks,
  hardFaultChecks,
  kafkaChecks,
} from "../../scripts/drill/conditions";
import { exampleOutputs } from "../../scripts/drill/fixtures/example-outputs";
import { passingHardFault, passingResults } from "../../scripts/drill/fixtures/results";
import { faultBars, hardFaultFilter, hardFaultPlans } from "../../scripts/drill/hardFaults/plan";
import {
  defaultGateway,
  interfaceOf,
  linkDownScript,
  linkUpScript,
  parseQuorumReplication,
  parseUnitShow,
  presentVoters,
} from "../../scripts/drill/hardFaults/shell";
import { appPort, endpointPort, parseStackOutputs } from "../../scripts/drill/outputs";
import { hardFaultRow } from "../../scripts/drill/report/hardFaults";
import { renderMarkdownReport } from "../../scripts/drill/report/markdown";
import { failureKind } from "../../scripts/drill/runtime/load";
import type { Check } from "../../scripts/drill/types";

const outputs = (): ReturnType<typeof parseStackOutputs> =>
  parseStackOutputs(JSON.stringify(exampleOutputs()));
const failed = (checks: Check[]): string[] => checks.filter((c) => !c.pass).map((c) => c.name);

/** `kafka-metadata-quorum describe --replication` as Kafka 4 prints it (tab separated, padded). */
const REPLICATION = [
  "NodeId\tDirectoryId           \tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus  \t",
  "2     \tAAAAAAAAAAAAAAAAAAAAAA\t639         \t0  \t1796045796620     \t1796045796620        \tLeader  \t",
  "1     \tAAAAAAAAAAAAAAAAAAAAAA\t639         \t0  \t1796045796349     \t1796045796349        \tFollower\t",
  "3     \tAAAAAAAAAAAAAAAAAAAAAA\t639         \t0  \t1796045796377     \t1796045796377        \tFollower\t",
].join("\n");

describe("drill hard faults: plans from the stack outputs", () => {
  it("plans a SIGKILL and a link down for every node, front to back, with its unit and layer", () => {
    const plans = hardFaultPlans(outputs());
    assert.equal(plans.length, 20);
    assert.deepEqual(
      plans.filter((p) => p.kind === "sigkill").map((p) => `${p.node.name}:${p.layer}:${p.unit}`),
      [
        "lb:lb:nginx.service",
        "webserver1:app:pve-ha-app.service",
        "webserver2:app:pve-ha-app.service",
        "pg1:pg-primary:postgresql@15-main.service",
        "pg2:pg-standby:postgresql@15-main.service",
        "pgproxy:haproxy:haproxy.service",
        "kafka1:kafka-broker:kafka.service",
        "kafka2:kafka-broker:kafka.service",
        "kafka3:kafka-controller:kafka.service",
        "monitor:monitor:prometheus.service",
      ],
    );
    assert.deepEqual(
      plans.slice(0, 4).map((p) => p.id),
      ["kill-lb", "link-lb", "kill-webserver1", "link-webserver1"],
    );
    assert.equal(plans.find((p) => p.id === "link-kafka3")?.node.vmid, 208);
  });

  it("takes names, VMIDs and the broker set from the outputs, not from the example", () => {
    const raw = exampleOutputs() as {
      nodes: Record<string, unknown>;
      kafkaBootstrapServers: string;
    };
    raw.nodes = {
      front: { vmid: 900, ip: "10.0.0.2", role: "nginx", proxmoxNode: "pve" },
      k9: { vmid: 950, ip: "10.0.0.9", role: "kafka", proxmoxNode: "pve" },
      k8: { vmid: 940, ip: "10.0.0.8", role: "kafka", proxmoxNode: "pve" },
    };
    raw.kafkaBootstrapServers = "10.0.0.9:9092";
    const plans = hardFaultPlans(parseStackOutputs(JSON.stringify(raw)));
    assert.deepEqual(
      plans.filter((p) => p.kind === "link-down").map((p) => `${p.id}:${p.node.vmid}:${p.layer}`),
      ["link-front:900:lb", "link-k8:940:kafka-controller", "link-k9:950:kafka-broker"],
    );
  });

  it("reads the app port from the outputs' settings and ports from endpoint outputs", () => {
    assert.equal(appPort(outputs()), 3000);
    const base = exampleOutputs();
    const raw = { ...base, settings: { ...(base.settings as object), appPort: 3100 } };
    assert.equal(appPort(parseStackOutputs(JSON.stringify(raw))), 3100);
    assert.equal(endpointPort(outputs().haproxyReadWrite), 5000);
    assert.throws(() => endpointPort("10.213.47.15"), /no port in 10.213.47.15/);
  });

  it("refuses a role it has no service for", () => {
    const raw = exampleOutputs() as { nodes: Record<string, unknown> };
    raw.nodes = {
      ...raw.nodes,
      cache: { vmid: 300, ip: "10.213.47.30", role: "redis", proxmoxNode: "pve" },
    };
    assert.throws(() => hardFaultPlans(parseStackOutputs(JSON.stringify(raw))), /cache.*redis/);
  });

  it("selects faults by id or node name and names the ones that do not exist", () => {
    const pick = hardFaultFilter(outputs(), ["kill-kafka1", "lb"]);
    assert.deepEqual(
      hardFaultPlans(outputs())
        .filter(pick)
        .map((p) => p.id),
      ["kill-lb", "link-lb", "kill-kafka1"],
    );
    assert.equal(hardFaultPlans(outputs()).filter(hardFaultFilter(outputs(), [])).length, 20);
    assert.throws(() => hardFaultFilter(outputs(), ["kill-kafka7"]), /no fault named kill-kafka7/);
  });

  it("holds brokers and app nodes to the issue's bar, the monitor to zero failures", () => {
    assert.deepEqual(faultBars("kafka-broker"), {
      absorbed: true,
      consumerPause: true,
      noFailure: false,
      pgPrimary: false,
    });
    assert.equal(faultBars("app").absorbed, true);
    assert.equal(faultBars("app").consumerPause, false);
    assert.equal(faultBars("monitor").noFailure, true);
    assert.equal(faultBars("pg-primary").pgPrimary, true);
    for (const layer of ["lb", "haproxy", "pg-standby", "kafka-controller"] as const) {
      assert.deepEqual(Object.values(faultBars(layer)), [false, false, false, false], layer);
    }
  });
});

describe("drill hard faults: shell and parsers", () => {
  it("parses systemctl show and the container's interface and gateway", () => {
    assert.deepEqual(parseUnitShow("MainPID=4121\nActiveState=active\n"), {
      activeState: "active",
      mainPid: 4121,
    });
    assert.deepEqual(parseUnitShow("ActiveState=failed\nMainPID=0"), {
      activeState: "failed",
      mainPid: 0,
    });
    assert.throws(() => parseUnitShow("Failed to connect to bus"), /cannot parse/);
    const addrs =
      "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
      "2: eth0    inet 10.213.47.10/24 brd 0.0.0.255 scope global eth0\\       valid_lft forever";
    assert.equal(interfaceOf(addrs, "10.213.47.10"), "eth0");
    assert.throws(() => interfaceOf(addrs, "10.213.47.11"), /no interface holds 10.213.47.11/);
    assert.equal(defaultGateway("default via 10.213.47.1 dev eth0 \n", "eth0"), "10.213.47.1");
    assert.equal(defaultGateway("default via 10.213.47.1 dev eth1", "eth0"), null);
  });

  it("renders a detached link down that brings the link and the default route back", () => {
    assert.equal(
      linkDownScript("eth0", 12, "10.213.47.1"),
      "exec </dev/null >/dev/null 2>&1; ip link set eth0 down; sleep 12; " +
        "ip link set eth0 up; ip route replace default via 10.213.47.1 dev eth0",
    );
    assert.equal(linkUpScript("eth0", null), "ip link set eth0 up");
    assert.throws(() => linkDownScript("eth0; reboot", 5, null), /not an interface name/);
    assert.throws(() => linkUpScript("eth0", "$(reboot)"), /not an IPv4 gateway/);
    assert.throws(() => linkDownScript("eth0", 0, null), /bad seconds/);
  });

  it("parses the quorum's replication state and finds voters that fell behind", () => {
    const rows = parseQuorumReplication(REPLICATION);
    assert.deepEqual(rows[0], {
      nodeId: 2,
      lag: 0,
      lastFetchMs: 1796045796620,
      lastCaughtUpMs: 1796045796620,
      status: "Leader",
    });
    const b = { lag: FAULT_BOUNDS.maxVoterLag, age: FAULT_BOUNDS.maxVoterCatchUpAgeS * 1000 };
    assert.deepEqual(presentVoters(rows, [1, 2, 3], b.lag, b.age), {
      present: [1, 2, 3],
      missing: [],
    });
    const stale = rows.map((r) =>
      r.nodeId === 3 ? { ...r, lag: 40, lastCaughtUpMs: r.lastCaughtUpMs - 30_000 } : r,
    );
    assert.deepEqual(presentVoters(stale, [1, 2, 3], b.lag, b.age).missing, [3]);
    assert.deepEqual(presentVoters(rows.slice(0, 2), [1, 2, 3], b.lag, b.age).missing, [3]);
    assert.throws(() => parseQuorumReplication("Error: timed out"), /no NodeId header/);
  });

  it("names a failed request by its status, a timeout or the transport error", () => {
    assert.equal(failureKind(503), "HTTP 503");
    assert.equal(failureKind(null, new Error("request timed out")), "timeout");
    assert.equal(
      failureKind(null, Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })),
      "ECONNREFUSED",
    );
  });
});

describe("drill hard faults: pass conditions and report", () => {
  it("a healthy fault passes every condition of its layer", () => {
    for (const f of [
      passingHardFault("sigkill", "kafka1", "kafka-broker", "kafka.service"),
      passingHardFault("link-down", "webserver1", "app", "pve-ha-app.service"),
      passingHardFault("sigkill", "pg1", "pg-primary", "postgresql@15-main.service"),
      passingHardFault("link-down", "monitor", "monitor", "prometheus.service"),
      passingHardFault("link-down", "lb", "lb", "nginx.service"),
    ]) {
      assert.deepEqual(failed(hardFaultChecks(f)), [], f.id);
    }
    const names = hardFaultChecks(
      passingHardFault("sigkill", "kafka1", "kafka-broker", "kafka.service"),
    ).map((c) => c.name);
    assert.ok(names.includes(`SIGKILL kafka1: no-ack gap <= ${FAULT_BOUNDS.maxNoAckGapS} s`));
    assert.ok(
      names.includes(`SIGKILL kafka1: consumer pause <= ${FAULT_BOUNDS.maxConsumerPauseS} s`),
    );
    assert.ok(names.includes("SIGKILL kafka1: kafka.service restarted by itself within 15 s"));
  });

  it("a broker fault fails on 1.5 % failed requests, a gap over its bound, a lost row, a duplicate", () => {
    const f = passingHardFault("link-down", "kafka2", "kafka-broker", "kafka.service");
    const run = f.run!;
    run.load = { ...run.load, non2xx: 10, errors: 2, ok: 788 };
    run.failures = { "HTTP 503": 10, timeout: 2 };
    run.ackGapS = FAULT_BOUNDS.maxNoAckGapS + 0.5;
    run.missing = ["x-1"];
    run.duplicates = 1;
    const checks = hardFaultChecks(f);
    assert.deepEqual(failed(checks), [
      "link down kafka2: every acknowledged message stored (0 lost)",
      "link down kafka2: 0 duplicates",
      "link down kafka2: <= 1 % failed requests",
      `link down kafka2: no-ack gap <= ${FAULT_BOUNDS.maxNoAckGapS} s`,
    ]);
    assert.equal(
      checks.find((c) => c.name.endsWith("failed requests"))?.detail,
      "12/800 failed (1.50 %): HTTP 503 ×10, timeout ×2; bound 1 %",
    );
  });

  it("a killed unit that systemd does not restart fails, however well the layer came back", () => {
    const f = passingHardFault("sigkill", "pg1", "pg-primary", "postgresql@15-main.service");
    f.selfRestartS = null;
    f.startedByDrill = true;
    f.writablePrimaries = [1, 0, 2];
    assert.deepEqual(failed(hardFaultChecks(f)), [
      "SIGKILL pg1: postgresql@15-main.service restarted by itself within 15 s",
      "SIGKILL pg1: never two writable PostgreSQL nodes",
    ]);
    assert.match(hardFaultRow(f)[7], /started by the drill/);
  });

  it("the monitor must not cost a single write; state after the heal is checked for all", () => {
    const f = passingHardFault("link-down", "monitor", "monitor", "prometheus.service");
    f.run!.load = { ...f.run!.load, errors: 1, ok: 799 };
    f.after = { ...f.after!, standbyStreaming: false, missingVoters: [3] };
    f.linkUpByDrill = true;
    f.servingAfterHealS = null;
    assert.deepEqual(failed(hardFaultChecks(f)), [
      "link down monitor: after the heal: standby streaming, rows identical",
      "link down monitor: after the heal: full ISR, every voter present",
      "link down monitor: the container restored its own link",
      "link down monitor: serving again within 30 s of the heal (probe)",
      "link down monitor: write path unaffected: 0 failed requests",
    ]);
  });

  it("a fault that threw is one failing check", () => {
    const f = { ...passingHardFault("sigkill", "lb", "lb", "nginx.service"), run: null };
    f.error = "pct exec 200 failed";
    assert.deepEqual(
      hardFaultChecks(f).map((c) => [c.name, c.pass, c.detail]),
      [["SIGKILL lb: fault ran to the end", false, "pct exec 200 failed"]],
    );
  });

  it("broker stops of scenarios 4 and 6 are held to the same bar and a pause bound", () => {
    const r = passingResults();
    const trial = r.kafka!.trials[1];
    trial.ackGapS = FAULT_BOUNDS.maxNoAckGapS + 10;
    trial.pauseS = FAULT_BOUNDS.maxConsumerPauseS + 1;
    trial.load = { ...trial.load, non2xx: 478, ok: trial.load.requests - 478 };
    assert.deepEqual(failed(kafkaChecks(r.kafka!)), [
      `${trial.name}: <= 1 % failed requests`,
      `${trial.name}: no-ack gap <= ${FAULT_BOUNDS.maxNoAckGapS} s`,
      `${trial.name}: consumer pause <= ${FAULT_BOUNDS.maxConsumerPauseS} s`,
    ]);
    r.failover!.kafka!.ackGapS = FAULT_BOUNDS.maxNoAckGapS + 0.2;
    assert.deepEqual(failed(failoverChecks(r.failover!)), [
      `Failover: kafka1: no-ack gap <= ${FAULT_BOUNDS.maxNoAckGapS} s`,
    ]);
  });

  it("reports one row per fault with each figure and its bound", () => {
    const f = passingHardFault("link-down", "kafka2", "kafka-broker", "kafka.service");
    f.run!.load = { ...f.run!.load, non2xx: 3, ok: 797 };
    f.run!.failures = { "HTTP 503": 3 };
    f.run!.ackGapS = FAULT_BOUNDS.maxNoAckGapS + 0.5;
    f.servingBoundS = 60;
    f.servingAfterHealS = 8.3;
    assert.deepEqual(hardFaultRow(f), [
      "link down kafka2",
      "kafka-broker",
      "3/800 (0.4 %) HTTP 503 ×3",
      `${(FAULT_BOUNDS.maxNoAckGapS + 0.5).toFixed(1)} s`,
      "1 s",
      "800 / 800 / 0",
      "0",
      "link up after 10.4 s",
      "8.3 s (≤ 60 s)",
      "FAIL (1)",
    ]);
    const r = passingResults();
    r.hardFaults = {
      linkDownS: 10,
      durationS: 600,
      faults: [f, passingHardFault("sigkill", "lb", "lb", "nginx.service")],
    };
    const checks = allChecks(r);
    assert.deepEqual(failed(checks), [
      `link down kafka2: no-ack gap <= ${FAULT_BOUNDS.maxNoAckGapS} s`,
    ]);
    const md = renderMarkdownReport(r, checks);
    assert.match(md, /## Scenario 8 — hard faults/);
    assert.match(md, /2 faults, one at a time, .* link down 10 s; the family took 10 min\./);
    assert.match(md, /\| SIGKILL lb \| lb \| 0\/800 \(0.0 %\) \| 0.9 s \|.*\| PASS \|/);
    assert.doesNotMatch(md, /undefined|NaN/);
  });
});

describe("drill hard faults: arguments", () => {
  it("runs scenario 8 by number or name, with the link-down length and a fault selection", () => {
    const o = parseDrillArgs([
      "--target",
      "sandbox",
      "--scenarios",
      "hard-faults",
      "--link-down-seconds",
      "15",
      "--hard-faults",
      "kill-kafka1, link-lb",
    ]);
    assert.deepEqual(o.scenarios, [8]);
    assert.equal(o.linkDownSeconds, 15);
    assert.deepEqual(o.hardFaults, ["kill-kafka1", "link-lb"]);
    const d = parseDrillArgs(["--target", "sandbox"]);
    assert.deepEqual(d.scenarios, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(d.linkDownSeconds, 10);
    assert.throws(
      () => parseDrillArgs(["--target", "sandbox", "--link-down-seconds", "2"]),
      /--link-down-seconds must be at least 3 \(got 2\)/,
    );
    assert.throws(
      () => parseDrillArgs(["--target", "sandbox", "--link-down-seconds", "121"]),
      /--link-down-seconds must be an integer in 1..120/,
    );
  });
});
