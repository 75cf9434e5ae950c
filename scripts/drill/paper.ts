/** Figures of the source paper (Maulana & Santoso), Tables 1-4, for side-by-side reports. */
export const PAPER = {
  table1: [
    { trial: 1, requests: 4, node1: 2, node2: 2, successPct: 100 },
    { trial: 2, requests: 6, node1: 3, node2: 3, successPct: 100 },
    { trial: 3, requests: 10, node1: 5, node2: 5, successPct: 100 },
  ],
  table2: {
    cpuSpikeMs: [2.32, 2.35, 2.3, 2.33, 2.31],
    latency: "< 1 s each",
    integrityPct: 100,
    state: "streaming",
    syncState: "async",
  },
  table3: [
    { trial: 1, trigger: "normal load", maxLag: 0, recoveryS: 0, dataLoss: "none" },
    { trial: 2, trigger: "heartbeat delay", maxLag: 2, recoveryS: 30, dataLoss: "none" },
    { trial: 3, trigger: "heartbeat delay", maxLag: 2, recoveryS: 28, dataLoss: "none" },
    { trial: 4, trigger: "heartbeat delay", maxLag: 2, recoveryS: 32, dataLoss: "none" },
  ],
  topic: { partitionCount: 1, replicationFactor: 2, isr: "both brokers" },
  table4: {
    webserverCpuPct: 27.8,
    systemLoadPct: 49.5,
    pgCpuSpikeMs: 2.32,
    promScrapeMs: 50,
    jmxScrapeMs: 360,
    consumerLagMax: 2,
    thresholdPct: 70,
  },
} as const;
