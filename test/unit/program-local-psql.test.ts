/**
 * lib.sh's psql_su (and pg_query) name the local socket and port from PG_SOCKET_DIR and PG_PORT:
 * every step whose payload body calls them gets both, in either pgFailover mode.
 */
import * as assert from "assert";
import { PORTS } from "../../components/config/ports";
import { PG_SOCKET_DIR } from "../../components/render/postgres";
import { exampleRaw, reveal, runProgram, type ProgramRun } from "./program-harness";

const COMMAND = "command:remote:Command";

function scripts(run: ProgramRun): Array<{ step: string; script: string }> {
  return run.resources
    .filter((r) => r.type === COMMAND && typeof reveal(r.inputs.stdin) === "string")
    .map((r) => ({ step: r.name, script: String(reveal(r.inputs.stdin)) }));
}

function body(script: string): string {
  const at = script.search(/^# --- (?!lib\.sh)[a-z0-9-]+\.sh ---$/m);
  return at < 0 ? "" : script.slice(at);
}

for (const mode of ["manual", "auto"]) {
  describe(`program: local psql in pgFailover ${mode}`, function () {
    this.timeout(120000);

    it("gives PG_SOCKET_DIR and PG_PORT to every step that runs psql_su or pg_query", async () => {
      const run = await runProgram(exampleRaw({ pgFailover: mode }));
      const users = scripts(run).filter(({ script }) =>
        /\b(psql_su|pg_query)\b/.test(body(script)),
      );
      assert.ok(users.length >= 3, `only ${users.length} steps run psql_su or pg_query`);
      for (const { step, script } of users) {
        assert.ok(
          script.includes(`readonly PG_SOCKET_DIR='${PG_SOCKET_DIR}'`),
          `${step}: no PG_SOCKET_DIR`,
        );
        assert.ok(script.includes(`readonly PG_PORT='${PORTS.postgres}'`), `${step}: no PG_PORT`);
      }
    });
  });
}
