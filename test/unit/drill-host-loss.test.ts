import { HOST_LOSS_BOUNDS } from "../../scripts/drill/bounds";
import { strict as assert } from "node:assert";
import {
  hostLossChecks,
  kafkaChecks,
  lbSplitChecks,
  minInsyncOf,
} from "../../scripts/drill/conditions";
import { exampleOutputs, THREE_HOST_PLACEMENT } from "../../scripts/drill/fixtures/example-outputs";
import { hostLoss, passingResults } from "../../scripts/drill/fixtures/results";
import {
  hostLossPlans,
  outageText,
  probeClient,
  SINGLE_HOST_NOTE,
} from "../../scripts/drill/hostLoss/plan";
import { nodeNamed, nodesByHost, parseStackOutputs } from "../../scripts/drill/outputs";
import { windowProgress } from "../../scripts/drill/progress";
import { hostLossRow, hostLossSection } from "../../scripts/drill/report/hostLoss";
import { renderMarkdownReport } from "../../scripts/drill/report/markdown";
import { pctVmid, sshPctArgv, sshTargetFor } from "../../scripts/drill/runtime/commandLine";
import { hostRoutedPct } from "../../scripts/drill/runtime/pct";
import type { Check, DrillResults } from "../../scripts/drill/types";

const threeHosts = (): ReturnType<typeof parseStackOutputs> =>
  parseStackOutputs(JSON.stringify(exampleOutputs(THREE_HOST_PLACEMENT)));
const failed = (checks: Check[]): string[] => checks.filter((c) => !c.pass).map((c) => c.name);

describe("drill outputs: settings and hosts are read, never guessed", () => {
  it("refuses outputs without settings, naming the missing key", () => {
    const raw: Record<string, unknown> = exampleOutputs();
    delete raw.settings;
    assert.throws(() => parseStackOutputs(JSON.stringify(raw)), /settings: missing/);
    const noPort = exampleOutputs();
    noPort.settings = { ...(noPort.settings as object), appPort: undefined };
    assert.throws(() => parseStackOutputs(JSON.stringify(noPort)), /settings\.appPort/);
    const noAlgo = exampleOutputs();
    noAlgo.settings = { ...(noAlgo.settings as object), lbAlgorithm: "" };
    assert.throws(() => parseStackOutputs(JSON.stringify(noAlgo)), /settings\.lbAlgorithm/);
  });

  it("refuses outputs without proxmoxHosts or with a node on an unknown host", () => {
    const raw: Record<string, unknown> = exampleOutputs();
    delete raw.proxmoxHosts;
    assert.throws(() => parseStackOutputs(JSON.stringify(raw)), /proxmoxHosts: expected/);
    const stray = exampleOutputs(THREE_HOST_PLACEMENT);
    (stray.nodes as Record<string, { proxmoxNode: string }>).lb.proxmoxNode = "pve9";
    assert.throws(
      () => parseStackOutputs(JSON.stringify(stray)),
      /nodes\.lb\.proxmoxNode: expected one of proxmoxHosts \(pve1, pve2, pve3; got "pve9"\)/,
    );
  });

  it("groups the nodes by host", () => {
    const byHost = nodesByHost(threeHosts()).map((h) => [h.host, h.nodes.map((n) => n.name)]);
    assert.deepEqual(byHost, [
      ["pve1", ["lb", "pg1", "kafka1", "monitor"]],
      ["pve2", ["webserver1", "pg2", "kafka2"]],
      ["pve3", ["webserver2", "pgproxy", "kafka3"]],
    ]);
  });
});

describe("drill host loss: plan from the outputs", () => {
  it("does not drill a single-host stack", () => {
    assert.equal(hostLossPlans(parseStackOutputs(JSON.stringify(exampleOutputs()))), null);
    assert.match(SINGLE_HOST_NOTE, /total outage, not drilled/);
  });

  it("names the single points each host's loss takes and which hosts must keep writes going", () => {
    const plans = hostLossPlans(threeHosts());
    assert.ok(plans);
    assert.deepEqual(
      plans.map((p) => [
        p.host,
        p.nodes.map((n) => n.name),
        p.outages,
        p.absorbed,
        p.consumerPause,
      ]),
      [
        ["pve1", ["lb", "pg1", "kafka1", "monitor"], ["lb", "pg-primary"], false, false],
        ["pve2", ["webserver1", "pg2", "kafka2"], [], true, true],
        ["pve3", ["webserver2", "pgproxy", "kafka3"], ["haproxy"], false, false],
      ],
    );
    assert.deepEqual(
      plans[2].layers.map((l) => `${l.node.name}:${l.layer}`),
      ["webserver2:app", "pgproxy:haproxy", "kafka3:kafka-controller"],
    );
    assert.match(outageText(plans[0].outages) ?? "", /every LB.*PG primary/);
    assert.equal(outageText(plans[1].outages), null);
  });

  it("with an LB pair on two hosts, losing one LB's host is no LB outage", () => {
    const o = parseStackOutputs(
      JSON.stringify(exampleOutputs({ ...THREE_HOST_PLACEMENT, lb2: "pve2" }, true)),
    );
    const plans = hostLossPlans(o) ?? [];
    assert.deepEqual(
      plans.map((p) => [p.host, p.outages]),
      [
        ["pve1", ["pg-primary"]],
        ["pve2", []],
        ["pve3", ["haproxy"]],
      ],
    );
    const both = parseStackOutputs(
      JSON.stringify(exampleOutputs({ ...THREE_HOST_PLACEMENT, lb2: "pve1" }, true)),
    );
    assert.deepEqual(hostLossPlans(both)?.[0].outages, ["lb", "pg-primary"]);
  });

  it("probes HAProxy from a PostgreSQL container off the lost host", () => {
    const o = threeHosts();
    const plans = hostLossPlans(o) ?? [];
    const pg = [nodeNamed(o, "pg1"), nodeNamed(o, "pg2")];
    assert.equal(probeClient(plans[0], pg)?.name, "pg2");
    assert.equal(probeClient(plans[1], pg)?.name, "pg1");
    assert.equal(probeClient(plans[2], pg)?.name, "pg1");
  });

  it("counts acks and stored rows between the loss and the restart", () => {
    const samples: Array<[number, number, number]> = [
      [0, 0, 0],
      [1000, 40, 35],
      [2000, 80, 75],
      [3000, 100, 75],
      [4000, 140, 120],
    ];
    assert.deepEqual(windowProgress(samples, 1500, 3500), { acked: 60, stored: 40 });
    assert.deepEqual(windowProgress(samples, 1500, 3500, [3000]), { acked: 60, stored: null });
    assert.deepEqual(windowProgress(samples, 1500, 3500, [4000]), { acked: 60, stored: 40 });
  });
});

describe("drill host loss: pass conditions and report", () => {
  it("holds a host without single points to the host-loss bounds", () => {
    assert.deepEqual(failed(hostLossChecks(hostLoss("pve2", ["webserver1", "pg2"], []))), []);
    const bad = hostLoss("pve2", ["webserver1"], []);
    if (bad.run) bad.run = { ...bad.run, load: { ...bad.run.load, non2xx: 300, ok: 900 } };
    assert.deepEqual(failed(hostLossChecks(bad)), [
      `pve2 lost: <= ${HOST_LOSS_BOUNDS.maxFailedPct} % failed requests`,
    ]);
  });

  it("holds a host with the LB or the PG primary to the paper's bars only", () => {
    const h = hostLoss("pve1", ["lb", "pg1"], ["lb", "pg-primary"]);
    assert.deepEqual(failed(hostLossChecks(h)), []);
    assert.ok(!hostLossChecks(h).some((c) => /failed requests|no-ack gap/.test(c.name)));
    const split = { ...h, writablePrimaries: [0, 2, 1] };
    assert.deepEqual(failed(hostLossChecks(split)), [
      "pve1 lost: never two writable PostgreSQL nodes",
    ]);
    const slow = { ...h, servingAgainS: null, notServing: ["LB GET /"] };
    assert.match(
      hostLossChecks(slow).find((c) => !c.pass)?.detail ?? "",
      /still failing: LB GET \//,
    );
    const lost = h.run ? { ...h, run: { ...h.run, missing: ["u1"] } } : h;
    assert.deepEqual(failed(hostLossChecks(lost)), [
      "pve1 lost: every acknowledged message stored (0 lost)",
    ]);
  });

  it("turns an interrupted loss into one failing check", () => {
    const h = {
      ...hostLoss("pve3", ["pgproxy"], ["haproxy"]),
      run: null,
      error: "pct stop failed",
    };
    assert.deepEqual(hostLossChecks(h), [
      {
        scenario: 9,
        name: "pve3 lost: loss ran to the end",
        pass: false,
        detail: "pct stop failed",
      },
    ]);
  });

  it("renders one row per host and says which losses refuse writes by design", () => {
    const r: DrillResults = {
      ...passingResults(),
      hostLoss: {
        drilled: true,
        note: null,
        hosts: ["pve1", "pve2"],
        downS: 15,
        losses: [
          hostLoss("pve1", ["lb", "pg1"], ["lb", "pg-primary"]),
          hostLoss("pve2", ["webserver1", "pg2"], []),
        ],
        durationS: 120,
      },
    };
    const row = hostLossRow(r.hostLoss?.losses[1] ?? hostLoss("x", ["y"], []));
    assert.equal(row[0], "pve2");
    assert.equal(row[2], "none: writes must go on");
    assert.match(
      row[3],
      /LB GET \/ 14\/14, webserver1 \/readyz 200 14\/14, Kafka acks via LB 580, consumed 560/,
    );
    assert.equal(row[row.length - 1], "PASS");
    const md = hostLossSection(r).join("\n");
    assert.match(md, /\| pve1 \| lb, pg1 \| writes refused during the loss by design/);
    assert.match(md, /- pve1: writes refused .*held to the paper's bars only/);
    assert.match(renderMarkdownReport(r, []), /## Scenario 9 — host loss/);
    const single: DrillResults = {
      ...passingResults(),
      hostLoss: {
        drilled: false,
        note: SINGLE_HOST_NOTE,
        hosts: ["pve"],
        downS: 0,
        losses: [],
        durationS: 0,
      },
    };
    assert.match(
      hostLossSection(single).join("\n"),
      /one host: a host loss is a total outage, not drilled; no checks/,
    );
  });
});

describe("drill: judged by the outputs' settings", () => {
  it("checks an ip_hash LB for one pinned node instead of an even split", () => {
    const r = passingResults().lbSplit;
    assert.ok(r);
    const pinned = {
      ...r,
      lbAlgorithm: "ip_hash",
      sequential: r.sequential.map((t) => ({ ...t, servedBy: { webserver2: t.requests } })),
      viaLb: { ...r.viaLb, servedBy: { webserver2: r.viaLb.requests } },
    };
    assert.deepEqual(failed(lbSplitChecks(pinned)), []);
    assert.match(lbSplitChecks(pinned)[3].detail, /one client address only/);
    assert.ok(failed(lbSplitChecks({ ...pinned, lbAlgorithm: "round_robin" })).length > 0);
    assert.ok(failed(lbSplitChecks({ ...r, lbAlgorithm: "ip_hash" })).length > 0);
  });

  it("checks min.insync.replicas from the settings", () => {
    assert.equal(minInsyncOf("min.insync.replicas=2,segment.bytes=1"), 2);
    assert.equal(minInsyncOf("segment.bytes=1"), null);
    const k = passingResults().kafka;
    assert.ok(k);
    const topic = { ...k.topic, configs: "min.insync.replicas=1" };
    assert.deepEqual(failed(kafkaChecks({ ...k, topic, expectedMinInsync: 1 })), []);
    assert.deepEqual(failed(kafkaChecks({ ...k, topic, expectedMinInsync: 2 })), [
      "topic messages: min.insync.replicas 2",
    ]);
  });
});

describe("drill --target stack: pct on the host holding the container", () => {
  it("routes by VMID to the host's SSH address, port and user", () => {
    const o = threeHosts();
    const kafka2 = nodeNamed(o, "kafka2");
    const t = sshTargetFor(o, kafka2.vmid, ["ConnectTimeout=5"]);
    assert.deepEqual(t, {
      host: "pve2.example.internal",
      port: 23,
      user: "root",
      options: ["ConnectTimeout=5"],
    });
    assert.deepEqual(sshPctArgv(t, ["stop", String(kafka2.vmid)]), [
      "-o",
      "BatchMode=yes",
      "-p",
      "23",
      "-o",
      "ConnectTimeout=5",
      "root@pve2.example.internal",
      `pct stop ${kafka2.vmid}`,
    ]);
    assert.equal(
      sshTargetFor(o, nodeNamed(o, "lb").vmid, [], "admin").host,
      "pve1.example.internal",
    );
    assert.equal(sshTargetFor(o, nodeNamed(o, "lb").vmid, [], "admin").user, "admin");
    assert.throws(() => sshTargetFor(o, 999, []), /no node of the stack has VMID 999/);
  });

  it("refuses a pct command that names no container (no host to run it on)", async () => {
    await assert.rejects(hostRoutedPct(threeHosts(), []).run(["list"]), /names no container/);
  });

  it("finds the VMID a pct subcommand acts on", () => {
    assert.equal(pctVmid(["exec", "207", "--", "true"]), 207);
    assert.equal(pctVmid(["start", "200"]), 200);
    assert.equal(pctVmid(["list"]), null);
    assert.throws(
      () => sshPctArgv({ host: "h", port: 0, user: "root", options: [] }, ["list"]),
      /ssh port is not a port number/,
    );
  });
});
