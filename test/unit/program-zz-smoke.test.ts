import { exampleRaw, runProgram } from "/work/main/test/unit/program-harness";
describe("smoke", () => {
  it("runs", async () => {
    const run = await runProgram(exampleRaw());
    const counts: Record<string, number> = {};
    for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    console.log(counts, Object.keys(run.outputs), [...run.secretOutputs]);
    console.log(run.outputs.kafkaBootstrapServers, run.outputs.kafkaClusterId);
  });
});
