import * as assert from "assert";
import {
  ANYWHERE,
  exposureOptionsOf,
  exposureRules,
  type ExposureRule,
} from "../../components/config/exposure";
import { PORTS } from "../../components/config/ports";
import { parseConfig, planNodes } from "../../components/config";
import {
  NFT_TABLE,
  normalizeSources,
  firewallPeers,
  renderAllNodeFirewalls,
  renderMidStreamRule,
  renderNodeFirewall,
} from "../../components/render/nftables";
import { exampleRaw } from "./program-harness";

function exampleStack() {
  const { config, errors } = parseConfig(exampleRaw());
  if (!config) throw new Error(errors.join("\n"));
  const plans = planNodes(config);
  const ip = (name: string) => plans.find((p) => p.name === name)?.ip as string;
  return { config, plans, ip, rules: exposureRules(plans, exposureOptionsOf(config)) };
}

/** The lines of the input chain, trimmed. */
function inputChain(text: string): string[] {
  const lines = text.split("\n").map((l) => l.trim());
  const start = lines.indexOf("chain input {");
  return lines.slice(start + 1, lines.indexOf("}", start));
}

/** The accept lines of the input chain matching `match` (a tcp dport or a protocol). */
function acceptLines(text: string, match: string): string[] {
  const tail = `${match} accept `;
  return inputChain(text).filter((l) => l.includes(` ${tail}`) || l.startsWith(tail));
}

/** The addresses of an `ip saddr` match: one address or an anonymous set. */
function saddrOf(line: string): string[] | "any" {
  const found = /^ip saddr (\{ ([^}]*) \}|\S+) /.exec(line);
  if (!found) return "any";
  return found[2] !== undefined ? found[2].split(", ") : [found[1]];
}

describe("render: nftables per container (from the exposure rules)", () => {
  const { plans, ip, rules } = exampleStack();
  const files = renderAllNodeFirewalls(plans, rules);

  it("renders one ruleset per planned node that replaces the table whole when applied again", () => {
    assert.deepStrictEqual(
      Object.keys(files),
      plans.map((p) => p.name),
    );
    for (const text of Object.values(files)) {
      const statements = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
      assert.deepStrictEqual(statements.slice(0, 3), [
        `table inet ${NFT_TABLE}`,
        `delete table inet ${NFT_TABLE}`,
        `table inet ${NFT_TABLE} {`,
      ]);
    }
  });

  it("drops input by default after established, invalid and loopback, leaves output open", () => {
    for (const text of Object.values(files)) {
      assert.deepStrictEqual(inputChain(text).slice(0, 4), [
        "type filter hook input priority 0; policy drop;",
        "ct state established,related accept",
        "ct state invalid drop",
        "iif lo accept",
      ]);
      assert.match(
        text,
        /chain output \{\n\s+type filter hook output priority 0; policy accept;\n/,
      );
      for (const line of inputChain(text).slice(4)) assert.match(line, / accept comment "[^"]*"$/);
    }
  });

  it("lets only HAProxy and the other PostgreSQL node reach pg1's PostgreSQL", () => {
    const lines = acceptLines(files.pg1, `tcp dport ${PORTS.postgres}`);
    assert.strictEqual(lines.length, 1, lines.join("\n"));
    assert.deepStrictEqual(saddrOf(lines[0]), normalizeSources([ip("pgproxy"), ip("pg2")]));
    assert.deepStrictEqual(acceptLines(files.pg1, `tcp dport ${PORTS.http}`), []);
  });

  it("opens the LBs' HTTP port to anywhere and VRRP only to the other LB", () => {
    for (const [lb, other] of [
      ["lb", "lb2"],
      ["lb2", "lb"],
    ]) {
      const http = acceptLines(files[lb], `tcp dport ${PORTS.http}`);
      assert.strictEqual(http.length, 1);
      assert.strictEqual(saddrOf(http[0]), "any");
      const vrrp = inputChain(files[lb]).filter((l) => / ip protocol \d+ accept /.test(l));
      assert.strictEqual(vrrp.length, 1);
      assert.deepStrictEqual(saddrOf(vrrp[0]), [ip(other)]);
    }
    for (const name of plans.map((p) => p.name).filter((n) => n !== "lb" && n !== "lb2")) {
      assert.ok(!/ip protocol/.test(files[name]), `${name} accepts VRRP`);
      const fromAnywhere = inputChain(files[name])
        .slice(5)
        .filter((l) => saddrOf(l) === "any");
      assert.deepStrictEqual(fromAnywhere, [], `${name} accepts from anywhere`);
    }
  });

  it("has one accept line per rule of the node and none of another node's", () => {
    for (const plan of plans) {
      const own = rules.filter((r) => r.node === plan.name);
      assert.strictEqual(inputChain(files[plan.name]).length, 5 + own.length, plan.name);
      assert.strictEqual(
        renderNodeFirewall(plan.name, own, firewallPeers(plans, plan.name)),
        files[plan.name],
      );
    }
  });

  it("gives the same text for the same rules in any order", () => {
    const shuffled = [...rules].reverse().map((r) => ({ ...r, sources: [...r.sources].reverse() }));
    assert.deepStrictEqual(renderAllNodeFirewalls(plans, shuffled), files);
    assert.deepStrictEqual(renderAllNodeFirewalls(plans, rules), files);
  });

  it("orders sources by address and drops those a wider source covers", () => {
    assert.deepStrictEqual(normalizeSources(["10.0.0.10", "10.0.0.9", "10.0.0.9"]), [
      "10.0.0.9",
      "10.0.0.10",
    ]);
    assert.deepStrictEqual(normalizeSources(["10.0.0.9", "10.1.0.0/16", "10.0.0.0/24"]), [
      "10.0.0.0/24",
      "10.1.0.0/16",
    ]);
    assert.deepStrictEqual(normalizeSources(["10.0.0.9", ANYWHERE]), [ANYWHERE]);
  });

  it("keeps a comment inside its quotes whatever the purpose holds", () => {
    const rule: ExposureRule = {
      node: "n",
      proto: "tcp",
      port: PORTS.http,
      sources: ["10.0.0.9"],
      purpose: 'the "front"\ndoor',
    };
    const [line] = inputChain(renderNodeFirewall("n", [rule])).slice(4);
    assert.strictEqual(
      line,
      `ip saddr 10.0.0.9 tcp dport ${PORTS.http} accept comment "the 'front' door"`,
    );
    const long = renderNodeFirewall("n", [{ ...rule, purpose: "x".repeat(300) }]);
    assert.match(long, / comment "x{128}"\n/);
  });

  it("lets the stack's other nodes continue flows met mid-stream, never open one", () => {
    for (const plan of plans) {
      const line = inputChain(files[plan.name])[4];
      assert.strictEqual(line, renderMidStreamRule(firewallPeers(plans, plan.name)));
      const peers = saddrOf(line);
      assert.ok(peers !== "any");
      assert.deepStrictEqual(
        [...peers].sort(),
        plans
          .filter((p) => p.name !== plan.name)
          .map((p) => p.ip)
          .sort(),
      );
      // A packet with SYN (or FIN, RST) never matches: only a bare ACK of a flow in progress.
      assert.match(line, / tcp flags & \(fin \| syn \| rst \| ack\) == ack ct state new accept /);
    }
    assert.ok(!/ct state new/.test(renderNodeFirewall("lonely", rules)));
  });

  it("accepts nothing but established traffic and loopback on a node without rules", () => {
    assert.strictEqual(inputChain(renderNodeFirewall("lonely", rules)).length, 4);
  });
});
