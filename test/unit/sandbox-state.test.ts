import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  emptyState,
  hashInputs,
  loadState,
  saveState,
  stableStringify,
} from "../../scripts/sandbox/state";

describe("sandbox state", () => {
  it("stringifies objects with sorted keys and drops undefined members", () => {
    assert.equal(stableStringify({ b: 1, a: [{ d: 2, c: undefined }] }), '{"a":[{"d":2}],"b":1}');
  });

  it("hashes equal inputs equally and different inputs or types differently", () => {
    const h = hashInputs("command:remote:Command", { create: "x", stdin: "y" });
    assert.equal(h, hashInputs("command:remote:Command", { stdin: "y", create: "x" }));
    assert.notEqual(h, hashInputs("command:remote:Command", { create: "x", stdin: "z" }));
    assert.notEqual(h, hashInputs("command:local:Command", { create: "x", stdin: "y" }));
  });

  it("round-trips through an owner-only file and starts empty without one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-state-"));
    try {
      const file = path.join(dir, "sub", "state.json");
      assert.deepEqual(loadState(file), emptyState());
      const state = emptyState();
      state.resources["t::n"] = {
        type: "t",
        hash: "h",
        id: "1",
        outputs: { result: "pw" },
        at: "now",
      };
      saveState(file, state);
      assert.deepEqual(loadState(file), state);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a state file of another version", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-state-"));
    try {
      const file = path.join(dir, "state.json");
      fs.writeFileSync(file, '{"version":9,"resources":{}}');
      assert.throws(() => loadState(file), /unreadable sandbox state \(version 9\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
