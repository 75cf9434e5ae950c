import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
  exampleRaw,
  reveal,
  secretInput,
  runProgram,
  transitiveDeps,
  type ProgramRun,
  type Recorded,
} from "./program-harness";

const CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy";
const COMMAND = "command:remote:Command";
const MOCK_PASSWORD = /mock-password-/;

function countByType(run: ProgramRun): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

function dependsOn(run: ProgramRun, r: Recorded, target: pulumi.Resource): boolean {
  return transitiveDeps(run, r).has(target);
}

describe("program: the example stack under mocks", function () {
  this.timeout(60000);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(exampleRaw());
  });

  it("creates the paper's ten containers and lb2, unprivileged with nesting and a static IP", () => {
    const containers = run.resources.filter((r) => r.type === CONTAINER);
    assert.deepStrictEqual(
      containers.map((c) => c.name),
      [
        "pg1",
        "pg2",
        "pgproxy",
        "kafka1",
        "kafka2",
        "kafka3",
        "webserver1",
        "webserver2",
        "lb",
        "lb2",
        "monitor",
      ],
    );
    for (const c of containers) {
      assert.strictEqual(c.inputs.unprivileged, true, c.name);
      assert.deepStrictEqual(c.inputs.features, { nesting: true }, c.name);
      assert.strictEqual(c.inputs.startOnBoot, true, c.name);
      const init = c.inputs.initialization as { ipConfigs: { ipv4: { address: string } }[] };
      assert.match(init.ipConfigs[0].ipv4.address, /^192\.168\.100\.\d+\/24$/);
      const os = c.inputs.operatingSystem as { templateFileId: string };
      assert.strictEqual(os.templateFileId, "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst");
    }
  });

  it("creates the expected number of resources of each kind", () => {
    const counts = countByType(run);
    assert.strictEqual(counts[CONTAINER], 11);
    assert.strictEqual(counts["proxmoxve:download/file:File"], 1);
    assert.strictEqual(counts["pve-ha:proxmox:LxcNode"], 11);
    // Database roles, Grafana, the trigger key and (lbAdminAuth, on by default) the /admin password.
    assert.strictEqual(counts["random:index/randomPassword:RandomPassword"], 6);
    assert.strictEqual(counts["random:index/randomUuid:RandomUuid"], 1);
    for (const t of [
      "pve-ha:lb:NginxBalancer",
      "pve-ha:app:AppNodes",
      "pve-ha:database:PgReplicatedPair",
      "pve-ha:messaging:KafkaCluster",
      "pve-ha:observability:Stack",
    ]) {
      assert.strictEqual(counts[t], 1, t);
    }
    assert.ok(counts[COMMAND] > 40, `only ${counts[COMMAND]} commands`);
  });

  it("parents every resource to the PveHaStack component, its children aliased from the top level", () => {
    const topLevel = run.resources.filter(
      (r) => !r.parent || r.parent.constructor.name === "Stack",
    );
    assert.deepStrictEqual(
      topLevel.map((r) => `${r.type} ${r.name}`),
      ["pve-ha:stack:PveHaStack pve-ha-stack"],
    );
    const stack = topLevel[0].resource;
    const children = run.resources.filter((r) => r.parent === stack);
    assert.deepStrictEqual(children.map((r) => r.name).sort(), [
      "app",
      "backups",
      "database",
      "host-staging-dir-pve",
      "kafka",
      "lb",
      "monitor",
      "observability",
      "template-pve",
      "trigger-key",
    ]);
    // Stacks from before the component had these at the top level: an alias keeps their URNs.
    for (const child of children) {
      const aliases = (child.opts.aliases ?? []) as Array<Record<string, unknown>>;
      assert.ok(
        aliases.some((a) => Object.hasOwn(a, "parent") && a.parent === undefined),
        `${child.name} has no alias from the top level`,
      );
    }
    for (const node of run.resources.filter((r) => r.type === "pve-ha:proxmox:LxcNode")) {
      const children = run.resources.filter((r) => r.parent === node.resource);
      assert.ok(
        children.some((c) => c.type === CONTAINER),
        `${node.name} has no container`,
      );
    }
  });

  it("waits for the container and its ready step before any step inside it", () => {
    for (const cmd of run.resources.filter(
      (r) => r.type === COMMAND && !r.name.startsWith("host-staging-dir"),
    )) {
      const nodeName = cmd.name.split("-")[0];
      const container = run.resources.find((r) => r.type === CONTAINER && r.name === nodeName);
      assert.ok(container, `no container for ${cmd.name}`);
      assert.ok(
        dependsOn(run, cmd, container.resource),
        `${cmd.name} does not wait for ${nodeName}`,
      );
      if (!cmd.name.endsWith("-ready")) {
        assert.ok(dependsOn(run, cmd, run.byName(`${nodeName}-ready`).resource), cmd.name);
      }
    }
  });

  it("bootstraps the standby after the primary is ready", () => {
    assert.ok(
      dependsOn(
        run,
        run.byName("pg2-pg-standby-setup"),
        run.byName("pg1-pg-primary-setup").resource,
      ),
    );
  });

  it("creates the topic after every Kafka voter and broker is up", () => {
    const topic = run.byName("kafka1-kafka-topic");
    for (const n of ["kafka1", "kafka2", "kafka3"]) {
      assert.ok(dependsOn(run, topic, run.byName(`${n}-kafka-configure`).resource), n);
    }
  });

  it("starts the apps after the database, the proxy and the topic", () => {
    for (const n of ["webserver1", "webserver2"]) {
      const start = run.byName(`${n}-app-configure`);
      for (const dep of [
        "pg1-pg-primary-setup",
        "pgproxy-haproxy-configure",
        "kafka1-kafka-topic",
      ]) {
        assert.ok(dependsOn(run, start, run.byName(dep).resource), `${n} before ${dep}`);
      }
    }
  });

  it("rolls app updates: webserver2's restarting steps wait for webserver1 to be ready again", () => {
    const first = run.byName("webserver1-app-configure").resource;
    for (const step of ["app-unpack", "node-runtime-unpack", "app-configure"]) {
      const second = run.byName(`webserver2-${step}`);
      assert.ok(dependsOn(run, second, first), `webserver2-${step} after webserver1-app-configure`);
      assert.ok(
        !dependsOn(
          run,
          run.byName(`webserver1-${step}`),
          run.byName("webserver2-app-configure").resource,
        ),
        `webserver1-${step} does not wait for webserver2`,
      );
    }
    const script = String(reveal(run.byName("webserver1-app-configure").inputs.stdin));
    assert.match(script, /wait_http_ready 127\.0\.0\.1 "\$APP_PORT" "\$READY_PATH"/);
    assert.match(script, /readonly READY_PATH='\/readyz'/);
    // the LB's fail_timeout (lbFailTimeoutSeconds 2) and 1 s more after a restart
    assert.match(script, /readonly LB_SETTLE_SECONDS='3'/);
  });

  it("rolls Kafka updates: each node's restarting steps wait for the previous node's configure", () => {
    for (const [prev, next] of [
      ["kafka1", "kafka2"],
      ["kafka2", "kafka3"],
    ]) {
      const first = run.byName(`${prev}-kafka-configure`).resource;
      for (const step of ["kafka-unpack", "kafka-configure"]) {
        assert.ok(
          dependsOn(run, run.byName(`${next}-${step}`), first),
          `${next}-${step} after ${prev}`,
        );
      }
    }
    const script = String(reveal(run.byName("kafka1-kafka-configure").inputs.stdin));
    assert.match(script, /--under-replicated-partitions/);
    assert.match(script, /readonly IS_CONTROLLER='true'/);
  });

  it("configures the LB after the apps and Prometheus after every exporter", () => {
    const lb = run.byName("lb-nginx-configure");
    assert.ok(dependsOn(run, lb, run.byName("webserver1-app-configure").resource));
    const prometheus = run.byName("monitor-obs-prometheus");
    const exporters = run.resources.filter(
      (r) => r.type === COMMAND && /-obs-.*exporter$/.test(r.name),
    );
    assert.ok(exporters.length >= 10, `${exporters.length} exporters`);
    for (const e of exporters) assert.ok(dependsOn(run, prometheus, e.resource), e.name);
  });

  it("exports every endpoint", () => {
    const o = run.outputs;
    assert.strictEqual(o.lbUrl, "https://192.168.100.254/");
    assert.strictEqual(o.adminUrl, "https://192.168.100.254/admin");
    assert.strictEqual(o.lbVirtualIp, "192.168.100.254");
    assert.deepStrictEqual(o.lbNodes, ["lb", "lb2"]);
    assert.strictEqual(o.haproxyReadWrite, "192.168.100.15:5000");
    assert.strictEqual(o.haproxyReadOnly, "192.168.100.15:5001");
    assert.strictEqual(o.kafkaBootstrapServers, "192.168.100.16:9092,192.168.100.17:9092");
    assert.strictEqual(o.kafkaTopic, "messages");
    assert.strictEqual(o.prometheusUrl, "http://192.168.100.19:9090");
    assert.strictEqual(o.alertmanagerUrl, "http://192.168.100.19:9093");
    // The example stack turns Grafana off (its .deb is an artifact the user provides).
    assert.strictEqual(o.grafanaUrl, "");
    assert.strictEqual(o.proxmoxHost, "pve.example.internal");
    assert.match(String(o.kafkaClusterId), /^[A-Za-z0-9_-]{22}$/);
    const nodes = o.nodes as Record<string, { vmid: number; ip: string; role: string }>;
    assert.deepStrictEqual(Object.keys(nodes).length, 11);
    assert.deepStrictEqual(nodes.pg1, {
      vmid: 203,
      ip: "192.168.100.13",
      role: "pg-primary",
      proxmoxNode: "pve",
    });
  });

  it("keeps every password out of plaintext outputs; the password outputs are secret", () => {
    for (const [key, value] of Object.entries(run.outputs)) {
      if (key === "grafanaAdminPassword" || key === "adminPassword") continue;
      assert.ok(!MOCK_PASSWORD.test(JSON.stringify(value)), `${key} leaks a password`);
    }
    assert.deepStrictEqual([...run.secretOutputs], ["grafanaAdminPassword", "adminPassword"]);
    // /admin auth is on by default: the generated password, in the secret output only.
    assert.strictEqual(run.outputs.adminPassword, "mock-password-lb-admin-password");
  });

  it("turns logging off and marks outputs secret on every Command that carries a secret", () => {
    const carriers = run.resources.filter(
      (r) => r.type === COMMAND && MOCK_PASSWORD.test(String(reveal(r.inputs.stdin) ?? "")),
    );
    assert.deepStrictEqual(carriers.map((c) => c.name).sort(), [
      "lb-nginx-frontdoor",
      "lb2-nginx-frontdoor",
      "pg1-pg-primary-setup",
      "pg2-pg-standby-setup",
      "webserver1-app-configure",
      "webserver2-app-configure",
    ]);
    for (const c of carriers) {
      assert.strictEqual(c.inputs.logging, "none", c.name);
      assert.ok(secretInput(c.inputs.stdin).secret, `${c.name}: stdin is not secret`);
      assert.deepStrictEqual(c.additionalSecretOutputs.slice(0, 2), ["stdout", "stderr"], c.name);
    }
    for (const cmd of run.resources.filter((r) => r.type === COMMAND)) {
      assert.ok(
        !MOCK_PASSWORD.test(String(cmd.inputs.create ?? "")),
        `${cmd.name}: secret in create`,
      );
    }
  });

  it("connects to the Proxmox host with the SSH key and runs payloads through pct", () => {
    const cmd = run.byName("pg1-pg-configure");
    // The private key makes the whole connection secret.
    const connection = secretInput(cmd.inputs.connection);
    assert.ok(connection.secret, "the connection (private key) is not secret");
    const conn = reveal(connection.value) as Record<string, unknown>;
    assert.strictEqual(conn.privateKey, "placeholder-private-key");
    assert.deepStrictEqual(Object.keys(conn).sort(), [
      "dialErrorLimit",
      "host",
      "perDialTimeout",
      "port",
      "privateKey",
      "user",
    ]);
    assert.strictEqual(conn.host, "pve.example.internal");
    assert.strictEqual(cmd.inputs.create, "pct exec 203 -- bash -s");
    assert.match(String(cmd.inputs.stdin), /^#!\/usr\/bin\/env bash\n# payload: pg-configure\n/);
  });
});

describe("program: the app's Kafka publish deadline", function () {
  this.timeout(60000);

  it("reaches the app env and, 2 s longer, the LB's read timeout (twice that for a retry)", async () => {
    const run = await runProgram(exampleRaw({ appKafkaPublishDeadlineMs: "30000" }));
    const stdin = (name: string) => String(reveal(run.byName(name).inputs.stdin));
    for (const node of ["webserver1", "webserver2"]) {
      assert.match(stdin(`${node}-app-configure`), /^KAFKA_PUBLISH_DEADLINE_MS="30000"$/m, node);
    }
    assert.match(stdin("lb-nginx-configure"), /^ {6}proxy_read_timeout 32s;$/m);
    assert.match(stdin("lb-nginx-configure"), /^ {6}proxy_next_upstream_timeout 64s;$/m);
  });
});

describe("program: how long the app waits for a new Kafka partition leader", function () {
  this.timeout(60000);

  it("is the controller's time to move a dead broker's partitions, from the Kafka settings", async () => {
    const run = await runProgram(
      exampleRaw({
        kafkaQuorumFetchTimeoutMs: "1000",
        kafkaQuorumElectionTimeoutMs: "400",
        kafkaBrokerSessionTimeoutMs: "900",
        kafkaBrokerHeartbeatIntervalMs: "200",
      }),
    );
    const stdin = (name: string) => String(reveal(run.byName(name).inputs.stdin));
    // 1000 + the controller-only voters' 100 + 400 + 900 + 200
    for (const node of ["webserver1", "webserver2"]) {
      assert.match(stdin(`${node}-app-configure`), /^KAFKA_LEADER_WAIT_MS="2600"$/m, node);
    }
    assert.match(stdin("kafka3-kafka-configure"), /^controller\.quorum\.fetch\.timeout\.ms=1100$/m);
    assert.match(stdin("kafka1-kafka-configure"), /^controller\.quorum\.fetch\.timeout\.ms=1000$/m);
  });
});
