import { strict as assert } from "assert";
import { localPsqlArgv, PG_SOCKET_DIR } from "../../components/render/postgres";

describe("localPsqlArgv", () => {
  it("names the socket directory and the port, so pg_wrapper never reads postgresql.conf", () => {
    // pg_wrapper skips its cluster lookup (postgresql.conf: socket, port, data directory) only
    // when -h is on the command line; Patroni rewrites that file in place.
    const argv = localPsqlArgv(5433, "messages", ["-XAtq"]);
    assert.deepEqual(argv.slice(0, 5), ["runuser", "-u", "postgres", "--", "psql"]);
    const at = (flag: string) => argv[argv.indexOf(flag) + 1];
    assert.equal(at("-h"), PG_SOCKET_DIR);
    assert.equal(at("-p"), "5433");
    assert.equal(at("-d"), "messages");
    assert.equal(argv[argv.length - 1], "-XAtq");
  });
});
