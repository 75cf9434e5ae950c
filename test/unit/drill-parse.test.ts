import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { pageServedBy, parseAdminRows } from "../../scripts/drill/parse/admin";
import { parseQuorumStatus, parseTopicDescribe } from "../../scripts/drill/parse/kafka";
import { parseMetricsText, sumMetric } from "../../scripts/drill/parse/metrics";
import {
  compareLsn,
  digestSql,
  parseDigest,
  parsePsqlRows,
  parseReplicationRows,
} from "../../scripts/drill/parse/postgres";
import {
  parseDurationS,
  parseQueryResult,
  parseTargets,
  samplesByLabel,
} from "../../scripts/drill/parse/prometheus";
import { parseEnvFile, shellQuote, sshPctArgv } from "../../scripts/drill/runtime/commandLine";
import { parseCpuStatUsec } from "../../scripts/drill/runtime/cgroup";

const fixture = (name: string): string =>
  readFileSync(path.join(__dirname, "../../scripts/drill/fixtures", name), "utf8");

describe("drill parsers: PostgreSQL", () => {
  it("reads psql -At rows and pg_stat_replication", () => {
    assert.deepEqual(parsePsqlRows("a|b\n\nc|d\n"), [
      ["a", "b"],
      ["c", "d"],
    ]);
    const rows = parseReplicationRows(
      "pg2|10.213.47.14|streaming|async|0.812|0\npg2|10.213.47.14|catchup|async||4096\n",
    );
    assert.deepEqual(rows[0], {
      applicationName: "pg2",
      clientAddr: "10.213.47.14",
      state: "streaming",
      syncState: "async",
      replayLagMs: 0.812,
      replayLagBytes: 0,
    });
    assert.equal(rows[1].replayLagMs, null);
    assert.throws(() => parseReplicationRows("pg2|x\n"), /row 1: expected 6 fields \(got pg2\|x\)/);
  });

  it("reads a digest and compares LSNs", () => {
    assert.deepEqual(parseDigest("1042|9e107d9d372bb6826bd81d3542a419d6|0/3000148|f\n"), {
      count: 1042,
      md5: "9e107d9d372bb6826bd81d3542a419d6",
      walLsn: "0/3000148",
      inRecovery: false,
    });
    assert.throws(() => parseDigest(""), /expected one row of 4 fields/);
    assert.equal(compareLsn("0/3000148", "0/3000148"), 0);
    assert.equal(compareLsn("0/FFFFFFFF", "1/0"), -1);
    assert.equal(compareLsn("1/10", "0/FFFFFFF0"), 1);
    assert.throws(() => compareLsn("x", "0/1"), /not a PostgreSQL LSN: "x"/);
  });

  it("builds digest SQL only for safe uid prefixes", () => {
    assert.match(digestSql("0a1b2c3d-0002-"), /where message_uid like '0a1b2c3d-0002-%'/);
    assert.doesNotMatch(digestSql(), /where/);
    assert.throws(() => digestSql("x'; drop table messages; --"), /uid prefix may hold only/);
  });
});

describe("drill parsers: Kafka", () => {
  it("reads kafka-topics --describe", () => {
    const t = parseTopicDescribe(fixture("kafka-topics-describe.txt"), "messages");
    assert.equal(t.partitionCount, 1);
    assert.equal(t.replicationFactor, 2);
    assert.equal(
      t.configs,
      "min.insync.replicas=1,segment.bytes=1073741824,unclean.leader.election.enable=false",
    );
    assert.deepEqual(t.partitions, [{ partition: 0, leader: 1, replicas: [1, 2], isr: [1, 2] }]);
    const d = parseTopicDescribe(fixture("kafka-topics-describe-degraded.txt"), "messages");
    assert.deepEqual(d.partitions[0], { partition: 0, leader: 2, replicas: [1, 2], isr: [2] });
    assert.equal(
      parseTopicDescribe(
        "Topic: m\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n\tTopic: m\tPartition: 0\tLeader: none\tReplicas: 1\tIsr: \n",
        "m",
      ).partitions[0].leader,
      null,
    );
    assert.throws(
      () => parseTopicDescribe("Error: topic missing", "messages"),
      /topic messages not found/,
    );
  });

  it("reads kafka-metadata-quorum describe --status (4.x objects and 3.x id lists)", () => {
    const q = parseQuorumStatus(fixture("kafka-quorum-status.txt"));
    assert.deepEqual(q, { leaderId: 1, voters: [1, 2, 3], observers: [], maxFollowerLag: 0 });
    const old = parseQuorumStatus("LeaderId: 2\nCurrentVoters: [1,2,3]\nCurrentObservers: [4]\n");
    assert.deepEqual([old.voters, old.observers], [[1, 2, 3], [4]]);
    assert.throws(() => parseQuorumStatus("Error"), /no LeaderId/);
  });
});

describe("drill parsers: Prometheus", () => {
  const targets = {
    status: "success",
    data: {
      activeTargets: [
        {
          labels: { job: "node", instance: "10.213.47.10:9100" },
          health: "up",
          lastError: "",
          scrapeTimeout: "10s",
          lastScrapeDuration: 0.012,
        },
        {
          labels: { job: "kafka-jmx", instance: "10.213.47.16:7071" },
          health: "down",
          lastError: "connection refused",
          scrapeTimeout: "1m30s",
          lastScrapeDuration: 0,
        },
      ],
    },
  };

  it("reads targets and durations", () => {
    const t = parseTargets(targets);
    assert.equal(t.length, 2);
    assert.deepEqual(t[1], {
      job: "kafka-jmx",
      instance: "10.213.47.16:7071",
      health: "down",
      lastError: "connection refused",
      scrapeTimeoutS: 90,
      lastScrapeDurationS: 0,
    });
    assert.equal(parseDurationS("500ms"), 0.5);
    assert.ok(Number.isNaN(parseDurationS("10 s")));
    assert.throws(() => parseTargets({ status: "error" }), /not a success response/);
  });

  it("reads matrix and vector results and groups samples by a label", () => {
    const m = parseQueryResult({
      status: "success",
      data: {
        resultType: "matrix",
        result: [
          {
            metric: { job: "node", instance: "a" },
            values: [
              [1, "0.01"],
              [2, "0.02"],
            ],
          },
          {
            metric: { job: "node", instance: "b" },
            values: [
              [1, "0.03"],
              [2, "NaN"],
            ],
          },
          { metric: { job: "app" }, values: [[1, "0.004"]] },
        ],
      },
    });
    assert.deepEqual(samplesByLabel(m, "job"), { node: [0.01, 0.02, 0.03], app: [0.004] });
    const v = parseQueryResult({
      status: "success",
      data: { resultType: "vector", result: [{ metric: {}, value: [5, "1"] }] },
    });
    assert.deepEqual(v[0].values, [[5, 1]]);
  });

  it("reads the text exposition format", () => {
    const s = parseMetricsText(
      [
        "# HELP app_duplicates_skipped_total Duplicates skipped",
        "# TYPE app_duplicates_skipped_total counter",
        "app_duplicates_skipped_total 20",
        'app_http_requests_total{route="/messages",status="202"} 1500',
        'app_http_requests_total{route="/",status="200",note="a \\"q\\""} 7',
        'app_consumer_lag{partition="0"} 3 1732476000000',
      ].join("\n"),
    );
    assert.equal(sumMetric(s, "app_duplicates_skipped_total"), 20);
    assert.equal(sumMetric(s, "app_http_requests_total"), 1507);
    assert.equal(sumMetric(s, "app_http_requests_total", { status: "200" }), 7);
    assert.equal(s.find((x) => x.labels.note)?.labels.note, 'a "q"');
    assert.equal(sumMetric(s, "app_consumer_lag"), 3);
    assert.equal(sumMetric(s, "missing_metric"), null);
  });
});

describe("drill parsers: app pages, env file, cgroup, ssh", () => {
  it("reads the admin table rendered by the app", () => {
    const html = fixture("admin-page.html.txt");
    const rows = parseAdminRows(html);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], {
      uid: "0a1b2c3d-0002-4000-8000-000000000001",
      body: "drill form message 1 <&> ü",
      producedBy: "webserver2",
      storedBy: "webserver1",
    });
    assert.equal(pageServedBy(html), "webserver2");
  });

  it("reads the app env file as renderAppEnv writes it", () => {
    assert.deepEqual(
      parseEnvFile('# app\nNODE_NAME="webserver1"\nPG_PASSWORD="a\\"b\\\\c"\nPORT=3000\n'),
      { NODE_NAME: "webserver1", PG_PASSWORD: 'a"b\\c', PORT: "3000" },
    );
    assert.throws(() => parseEnvFile("not a line"), /cannot parse line "not a line"/);
  });

  it("reads cgroup v2 cpu.stat and the v1 cpuacct usage", () => {
    assert.equal(
      parseCpuStatUsec("usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n"),
      123456,
    );
    assert.equal(parseCpuStatUsec("cpuacct_usage_ns 123456789\n"), 123456.789);
    assert.equal(parseCpuStatUsec("proc_ticks 250 100\n"), 2_500_000);
    assert.throws(
      () => parseCpuStatUsec("user_usec 1\n"),
      /no usage_usec, cpuacct_usage_ns or proc_ticks line/,
    );
  });

  it("quotes pct arguments for the remote shell", () => {
    assert.equal(shellQuote("pct"), "pct");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.deepEqual(
      sshPctArgv({ host: "pve1", user: "root", options: ["ConnectTimeout=5"] }, [
        "exec",
        "101",
        "--",
        "psql",
        "-c",
        "select 1; x",
      ]),
      [
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=5",
        "root@pve1",
        "pct exec 101 -- psql -c 'select 1; x'",
      ],
    );
    assert.throws(
      () => sshPctArgv({ host: "a b", user: "root", options: [] }, []),
      /proxmoxHost is not a host name or address \(got "a b"\)/,
    );
    assert.throws(
      () => sshPctArgv({ host: "h", user: "r;m", options: [] }, []),
      /ssh user is not a valid user name/,
    );
  });
});
