import * as assert from "assert";
import {
  ETCD_LEADER_KEEPER_INTERVAL_S,
  renderEtcdLeaderKeeperScript,
  renderEtcdLeaderKeeperUnit,
  etcdClientHosts,
  renderEtcdEnv,
  type EtcdEnvOptions,
  type EtcdMember,
} from "../../components/render/etcd";

const MEMBERS: EtcdMember[] = [
  { name: "pg1", ip: "10.0.0.21" },
  { name: "pg2", ip: "10.0.0.22" },
  { name: "pgproxy", ip: "10.0.0.30" },
];
const OPTS: EtcdEnvOptions = { self: MEMBERS[1], members: MEMBERS, clusterToken: "pve-ha-1" };

/** The env file as systemd's EnvironmentFile reads it: KEY="value" lines. */
function envOf(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)="([^"]*)"$/.exec(line);
    if (m) env[m[1]] = m[2];
    else assert.ok(line === "" || line.startsWith("#"), `not an env line: ${line}`);
  }
  return env;
}

describe("render: etcd member (pgFailover auto)", () => {
  it("describes the static 3-member cluster and this member's URLs", () => {
    const env = envOf(renderEtcdEnv(OPTS));
    assert.strictEqual(env.ETCD_NAME, "pg2");
    assert.strictEqual(
      env.ETCD_INITIAL_CLUSTER,
      "pg1=http://10.0.0.21:2380,pg2=http://10.0.0.22:2380,pgproxy=http://10.0.0.30:2380",
    );
    assert.strictEqual(env.ETCD_LISTEN_PEER_URLS, "http://10.0.0.22:2380");
    assert.strictEqual(env.ETCD_INITIAL_ADVERTISE_PEER_URLS, "http://10.0.0.22:2380");
    assert.strictEqual(env.ETCD_LISTEN_CLIENT_URLS, "http://10.0.0.22:2379,http://127.0.0.1:2379");
    assert.strictEqual(env.ETCD_ADVERTISE_CLIENT_URLS, "http://10.0.0.22:2379");
    assert.strictEqual(env.ETCD_INITIAL_CLUSTER_STATE, "new");
    assert.strictEqual(env.ETCD_INITIAL_CLUSTER_TOKEN, "pve-ha-1");
    assert.strictEqual(env.ETCD_DATA_DIR, "/var/lib/etcd/pve-ha");
    assert.strictEqual(env.ETCD_ENABLE_V2, "false");
    assert.strictEqual(env.ETCD_PRE_VOTE, "true");
  });

  it("uses LAN timings: heartbeat 100 ms, election 1000 ms", () => {
    const env = envOf(renderEtcdEnv(OPTS));
    assert.strictEqual(env.ETCD_HEARTBEAT_INTERVAL, "100");
    assert.strictEqual(env.ETCD_ELECTION_TIMEOUT, "1000");
  });

  it("listens on the member's address only when asked (loopback check)", () => {
    const env = envOf(renderEtcdEnv({ ...OPTS, listenLoopback: false, clientPort: 12379 }));
    assert.strictEqual(env.ETCD_LISTEN_CLIENT_URLS, "http://10.0.0.22:12379");
  });

  it("gives Patroni every member's client endpoint", () => {
    assert.deepStrictEqual(etcdClientHosts(MEMBERS), [
      "10.0.0.21:2379",
      "10.0.0.22:2379",
      "10.0.0.30:2379",
    ]);
  });

  it("refuses what would break the cluster, naming the value", () => {
    const bad: Array<[Partial<EtcdEnvOptions>, RegExp]> = [
      [{ members: MEMBERS.slice(0, 2) }, /members must be 3 \(got 2\)/],
      [
        { members: [...MEMBERS.slice(0, 2), { name: "x y", ip: "10.0.0.9" }] },
        /member name is invalid \(got "x y"\)/,
      ],
      [
        { members: [...MEMBERS.slice(0, 2), { name: "pg3", ip: "10.0.0.21" }] },
        /member ips must differ \(got "10.0.0.21" twice\)/,
      ],
      [{ self: { name: "pg9", ip: "10.0.0.29" } }, /self is not one of the members \(got "pg9"/],
      [{ clusterToken: 'a"b' }, /clusterToken is invalid \(got "a"b"\)/],
      [{ clientPort: 2380 }, /clientPort and peerPort must differ \(got 2380 twice\)/],
      [{ dataDir: "../x" }, /dataDir must be an absolute path \(got "..\/x"\)/],
    ];
    for (const [change, message] of bad) {
      assert.throws(() => renderEtcdEnv({ ...OPTS, ...change }), message);
    }
  });
});

describe("render: the etcd leader keeper on the witness", () => {
  const members = [
    { name: "pg1", ip: "10.0.0.21" },
    { name: "pg2", ip: "10.0.0.22" },
    { name: "pgproxy", ip: "10.0.0.23" },
  ];

  it("moves the leader to itself from whichever member leads, every few seconds", () => {
    const script = renderEtcdLeaderKeeperScript({ self: members[2], members });
    assert.match(script, /^readonly SELF=http:\/\/10\.0\.0\.23:2379$/m);
    assert.match(
      script,
      /^readonly ALL=http:\/\/10\.0\.0\.21:2379,http:\/\/10\.0\.0\.22:2379,http:\/\/10\.0\.0\.23:2379$/m,
    );
    assert.match(script, /--endpoints="\$leader" --command-timeout=3s move-leader "\$self_id"/);
    assert.match(script, new RegExp(`^  sleep ${ETCD_LEADER_KEEPER_INTERVAL_S}$`, "m"));
    assert.match(
      renderEtcdLeaderKeeperUnit(),
      /^ExecStart=\/usr\/local\/sbin\/pve-ha-etcd-leader$/m,
    );
  });

  it("refuses a keeper for a node that is no member", () => {
    assert.throws(
      () => renderEtcdLeaderKeeperScript({ self: { name: "x", ip: "10.0.0.9" }, members }),
      /x is not a member/,
    );
  });
});
