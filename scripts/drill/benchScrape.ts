import { BENCH_SCRAPE_USAGE, parseBenchScrapeArgs, type BenchScrapeOptions } from "./args";
import { refuseForeignEndpoints } from "./outputs";
import { queryScrapeFigures } from "./runtime/prometheus";
import { readStackOutputs } from "./runtime/stackOutputs";
import { formatScrapeLines } from "./scrapeFigures";

/**
 * `npm run bench:scrape`: p50/p99/max of every successful scrape per job over the last N minutes,
 * from Prometheus' raw samples. Runs no drill and sends only read-only queries to Prometheus.
 */
async function main(): Promise<number> {
  let opts: BenchScrapeOptions;
  try {
    opts = parseBenchScrapeArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${BENCH_SCRAPE_USAGE}`);
    return 2;
  }
  const outputs = readStackOutputs(opts);
  refuseForeignEndpoints(outputs, [outputs.prometheusUrl]);
  const endMs = Date.now();
  const { scrape } = await queryScrapeFigures(outputs.prometheusUrl, opts.minutes * 60, endMs);
  console.log(
    `${outputs.prometheusUrl}: successful scrapes of the ${opts.minutes} min up to ${new Date(endMs).toISOString()}`,
  );
  for (const line of formatScrapeLines(scrape)) console.log(line);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`bench:scrape: ${(e as Error).message}`);
    process.exit(2);
  },
);
