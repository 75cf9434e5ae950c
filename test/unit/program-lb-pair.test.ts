import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { previewProblems } from "./preview-walk";
import {
  exampleRaw,
  reveal,
  runProgram,
  transitiveDeps,
  type ProgramRun,
  type Recorded,
} from "./program-harness";

const CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy";
const COMMAND = "command:remote:Command";

function names(run: ProgramRun, type: string): string[] {
  return run.resources.filter((r) => r.type === type).map((r) => r.name);
}

function stdin(run: ProgramRun, name: string): string {
  return String(reveal(run.byName(name).inputs.stdin));
}

function waitsFor(run: ProgramRun, r: Recorded, target: pulumi.Resource): boolean {
  return transitiveDeps(run, r).has(target);
}

/** The value of `readonly NAME='…'` in a rendered payload (single-quoted, '\'' escapes). */
function payloadVar(script: string, name: string): string {
  const match = new RegExp(`^readonly ${name}='((?:[^']|'\\\\'')*)'$`, "ms").exec(script);
  assert.ok(match, `no variable ${name}`);
  return match[1].replace(/'\\''/g, "'");
}

describe("program: the LB pair (lbReplicas 2, the default)", function () {
  this.timeout(60000);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(exampleRaw());
  });

  it("creates lb and lb2 under NginxBalancer, each with the same nginx.conf", () => {
    const balancer = run.resources.find((r) => r.type === "pve-ha:lb:NginxBalancer");
    assert.ok(balancer);
    const lbNodes = run.resources.filter(
      (r) => r.type === "pve-ha:proxmox:LxcNode" && r.parent === balancer.resource,
    );
    assert.deepStrictEqual(
      lbNodes.map((r) => r.name),
      ["lb", "lb2"],
    );
    assert.ok(names(run, CONTAINER).includes("lb2"));
    const lb2 = run.resources.find((r) => r.type === CONTAINER && r.name === "lb2");
    assert.strictEqual(lb2?.inputs.vmId, 210);
    const conf = (n: string) => payloadVar(stdin(run, `${n}-nginx-configure`), "NGINX_CONF");
    assert.strictEqual(conf("lb"), conf("lb2"));
    assert.match(conf("lb"), /location = \/lb-health \{/);
  });

  it("runs the active check of the app nodes on each LB after its nginx, before it serves", () => {
    for (const n of ["lb", "lb2"]) {
      const watch = run.byName(`${n}-upstream-watch-configure`);
      assert.ok(waitsFor(run, watch, run.byName(`${n}-nginx-configure`).resource), n);
      const script = payloadVar(stdin(run, `${n}-upstream-watch-configure`), "SCRIPT");
      assert.match(script, /^readonly HOSTS=\(192\.168\.100\.\d+ 192\.168\.100\.\d+\)$/m);
      assert.match(script, /^readonly INTERVAL_S=0\.200$/m);
      assert.match(script, /^readonly TIMEOUT_S=0\.250$/m);
      assert.match(script, /^readonly FAILURES=2$/m);
      // the LB counts as serving (exporters, firewall, status) only after the watch runs
      assert.ok(waitsFor(run, run.byName(`${n}-obs-node-exporter`), watch.resource), n);
    }
  });

  it("has no active check with lbProbeIntervalMs 0", async () => {
    const off = await runProgram(exampleRaw({ lbProbeIntervalMs: "0" }));
    assert.deepStrictEqual(
      names(off, COMMAND).filter((n) => n.includes("upstream-watch")),
      [],
    );
  });

  it("configures keepalived on both after their nginx, lb's first", () => {
    assert.deepStrictEqual(
      names(run, COMMAND).filter((n) => n.includes("keepalived")),
      ["lb-keepalived-configure", "lb2-keepalived-configure"],
    );
    for (const n of ["lb", "lb2"]) {
      const keepalived = run.byName(`${n}-keepalived-configure`);
      assert.ok(waitsFor(run, keepalived, run.byName(`${n}-nginx-configure`).resource), n);
    }
    const lb2 = run.byName("lb2-keepalived-configure");
    assert.ok(waitsFor(run, lb2, run.byName("lb-keepalived-configure").resource));
    // the node exporters (and Prometheus) wait for each LB's keepalived
    const exporter = run.byName("lb2-obs-node-exporter");
    assert.ok(waitsFor(run, exporter, lb2.resource));
  });

  it("points each keepalived at the other LB, with the virtual IP and the settings", () => {
    const conf = (n: string) =>
      payloadVar(stdin(run, `${n}-keepalived-configure`), "KEEPALIVED_CONF");
    const lb = conf("lb");
    const lb2 = conf("lb2");
    assert.match(lb, /^ {2}unicast_src_ip 192\.168\.100\.10$/m);
    assert.match(lb, /^ {4}192\.168\.100\.20 min_ttl 255 max_ttl 255$/m);
    assert.match(lb, /^ {2}priority 150$/m);
    assert.match(lb2, /^ {2}unicast_src_ip 192\.168\.100\.20$/m);
    assert.match(lb2, /^ {4}192\.168\.100\.10 min_ttl 255 max_ttl 255$/m);
    assert.match(lb2, /^ {2}priority 100$/m);
    for (const c of [lb, lb2]) {
      assert.match(c, /^ {4}192\.168\.100\.254\/24 dev eth0$/m);
      assert.match(c, /^ {2}virtual_router_id 51$/m);
      assert.match(c, /^ {2}advert_int 0\.5$/m);
    }
    const vars = stdin(run, "lb-keepalived-configure");
    assert.strictEqual(payloadVar(vars, "PACKAGES"), "keepalived curl");
    assert.match(payloadVar(vars, "CHECK_SCRIPT"), /http:\/\/127\.0\.0\.1:8081\/lb-health/);
    // nothing secret in it: no logging off, no secret stdin
    assert.notStrictEqual(run.byName("lb-keepalived-configure").inputs.logging, "none");
  });

  it("follows lbVrrpRouterId, lbVrrpAdvertIntervalMs and lbVirtualIp", async () => {
    const other = await runProgram(
      exampleRaw({
        lbVrrpRouterId: "77",
        lbVrrpAdvertIntervalMs: "300",
        lbVirtualIp: "192.168.100.200",
      }),
    );
    const conf = payloadVar(stdin(other, "lb2-keepalived-configure"), "KEEPALIVED_CONF");
    assert.match(conf, /^ {2}virtual_router_id 77$/m);
    assert.match(conf, /^ {2}advert_int 0\.3$/m);
    assert.match(conf, /^ {4}192\.168\.100\.200\/24 dev eth0$/m);
    assert.strictEqual(other.outputs.lbUrl, "https://192.168.100.200/");
    assert.strictEqual(other.outputs.lbVirtualIp, "192.168.100.200");
  });

  it("exports the virtual IP, the LB nodes and the pair's settings", () => {
    assert.strictEqual(run.outputs.lbUrl, "https://192.168.100.254/");
    assert.strictEqual(run.outputs.lbVirtualIp, "192.168.100.254");
    assert.deepStrictEqual(run.outputs.lbNodes, ["lb", "lb2"]);
    const settings = run.outputs.settings as Record<string, unknown>;
    assert.strictEqual(settings.lbReplicas, 2);
    assert.strictEqual(settings.lbVrrpAdvertIntervalMs, 500);
  });

  it("previews with no secret unknown trigger and every asset file present", async () => {
    const preview = await runProgram(exampleRaw(), { preview: true });
    assert.deepStrictEqual(await previewProblems(preview), []);
    assert.ok(names(preview, COMMAND).includes("lb2-keepalived-configure"));
  });
});

describe("program: one LB (lbReplicas 1, the paper)", function () {
  this.timeout(60000);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(exampleRaw({ lbReplicas: "1" }));
  });

  it("creates the ten containers and no keepalived step", () => {
    const containers = names(run, CONTAINER);
    assert.strictEqual(containers.length, 10);
    assert.ok(!containers.includes("lb2"));
    assert.deepStrictEqual(
      names(run, COMMAND).filter((n) => n.includes("keepalived")),
      [],
    );
    assert.ok(!/keepalived/.test(stdin(run, "lb-install")));
  });

  it("keeps every other node's VMID and address of the pair's layout", async () => {
    const pair = await runProgram(exampleRaw());
    const layout = (r: ProgramRun) =>
      Object.fromEntries(
        Object.entries(r.outputs.nodes as Record<string, { vmid: number; ip: string }>).map(
          ([n, v]) => [n, `${v.vmid} ${v.ip}`],
        ),
      );
    const { lb2, ...others } = layout(pair);
    assert.strictEqual(lb2, "210 192.168.100.20");
    assert.deepStrictEqual(layout(run), others);
  });

  it("exports lbUrl at the one LB and no virtual IP", () => {
    assert.strictEqual(run.outputs.lbUrl, "https://192.168.100.10/");
    assert.strictEqual(run.outputs.adminUrl, "https://192.168.100.10/admin");
    assert.strictEqual(run.outputs.lbVirtualIp, "");
    assert.deepStrictEqual(run.outputs.lbNodes, ["lb"]);
    assert.strictEqual((run.outputs.settings as Record<string, unknown>).lbReplicas, 1);
  });

  it("previews with no secret unknown trigger and every asset file present", async () => {
    const preview = await runProgram(exampleRaw({ lbReplicas: "1" }), { preview: true });
    assert.deepStrictEqual(await previewProblems(preview), []);
    assert.ok(!names(preview, CONTAINER).includes("lb2"));
  });
});
