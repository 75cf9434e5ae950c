import { strict as assert } from "assert";
import { AppEnvVars, renderAppEnv, renderAppUnit } from "../../components/render/app";

function minimal(): AppEnvVars {
  return { NODE_NAME: "webserver1", PG_PASSWORD: "s3cret", KAFKA_BROKERS: "10.0.0.16:9092" };
}

describe("app render: env file", () => {
  it("writes one quoted KEY=value line per given variable, in contract order", () => {
    const text = renderAppEnv({
      ...minimal(),
      PORT: 3000,
      PG_HOST: "10.0.0.15",
      PG_PORT: 5000,
      KAFKA_TOPIC: "messages",
      KAFKA_PUBLISH_DEADLINE_MS: 15000,
      KAFKA_CONNECT_TIMEOUT_MS: 1000,
      KAFKA_REQUEST_TIMEOUT_MS: 2000,
      LOG_LEVEL: "info",
    });
    const lines = text.trimEnd().split("\n").slice(1);
    assert.deepEqual(lines, [
      'NODE_NAME="webserver1"',
      'PORT="3000"',
      'PG_HOST="10.0.0.15"',
      'PG_PORT="5000"',
      'PG_PASSWORD="s3cret"',
      'KAFKA_BROKERS="10.0.0.16:9092"',
      'KAFKA_TOPIC="messages"',
      'KAFKA_PUBLISH_DEADLINE_MS="15000"',
      'KAFKA_CONNECT_TIMEOUT_MS="1000"',
      'KAFKA_REQUEST_TIMEOUT_MS="2000"',
      'LOG_LEVEL="info"',
    ]);
  });

  it("escapes quotes and backslashes so systemd reads the value back unchanged", () => {
    const text = renderAppEnv({ ...minimal(), PG_PASSWORD: 'a"b\\c$d' });
    assert.match(text, /^PG_PASSWORD="a\\"b\\\\c\$d"$/m);
  });

  it("rejects missing required variables, naming them", () => {
    assert.throws(() => renderAppEnv({ ...minimal(), NODE_NAME: "" }), /NODE_NAME is required/);
    assert.throws(
      () => renderAppEnv({ ...minimal(), KAFKA_BROKERS: " " }),
      /KAFKA_BROKERS is required/,
    );
  });

  it("rejects newlines, bad numbers and unknown names", () => {
    assert.throws(
      () => renderAppEnv({ ...minimal(), PG_PASSWORD: "a\nb" }),
      /PG_PASSWORD contains/,
    );
    assert.throws(
      () => renderAppEnv({ ...minimal(), PORT: -1 }),
      /PORT must be a positive integer \(got -1\)/,
    );
    assert.throws(
      () => renderAppEnv({ ...minimal(), KAFKA_PUBLISH_DEADLINE_MS: 1.5 }),
      /KAFKA_PUBLISH_DEADLINE_MS must be a positive integer \(got 1\.5\)/,
    );
    assert.throws(
      () => renderAppEnv({ ...minimal(), KAFKA_REQUEST_TIMEOUT_MS: 0 }),
      /KAFKA_REQUEST_TIMEOUT_MS must be a positive integer \(got 0\)/,
    );
    const withUnknown = { ...minimal(), PG_PASWORD: "x" } as unknown as AppEnvVars;
    assert.throws(() => renderAppEnv(withUnknown), /unknown variable PG_PASWORD/);
  });
});

describe("app render: systemd unit", () => {
  it("runs dist/server.js with the bundled node and the env file", () => {
    const unit = renderAppUnit();
    assert.match(unit, /^ExecStart=\/opt\/node\/bin\/node \/opt\/pve-ha-app\/dist\/server\.js$/m);
    assert.match(unit, /^EnvironmentFile=\/etc\/pve-ha-app\/app\.env$/m);
    assert.match(unit, /^User=pve-ha-app$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^KillSignal=SIGTERM$/m);
  });

  it("accepts other paths and rejects relative ones", () => {
    assert.match(renderAppUnit({ appDir: "/srv/app" }), /\/srv\/app\/dist\/server\.js/);
    assert.throws(
      () => renderAppUnit({ nodeBin: "node" }),
      /nodeBin must be an absolute path \(got "node"\)/,
    );
    assert.throws(() => renderAppUnit({ user: "Bad User" }), /user is not a valid user name/);
  });
});
