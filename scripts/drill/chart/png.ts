import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { renderTimelineSvg, type TimelineData } from "./timeline";

export interface ChartFiles {
  svg: string;
  png: string | null;
  warning?: string;
}

/**
 * Writes the recorded data (<base>.json), the chart (<base>.svg) and converts it to <base>.png
 * with rsvg-convert (Debian: librsvg2-bin).
 */
export function writeTimeline(data: TimelineData, base: string): ChartFiles {
  const svg = `${base}.svg`;
  const png = `${base}.png`;
  writeFileSync(`${base}.json`, `${JSON.stringify(data)}\n`);
  writeFileSync(svg, renderTimelineSvg(data));
  const r = spawnSync("rsvg-convert", ["--format", "png", "--output", png, svg], {
    encoding: "utf8",
  });
  if (r.error || r.status !== 0) {
    return {
      svg,
      png: null,
      warning: `rsvg-convert failed (${r.error?.message ?? r.stderr.trim()}); install librsvg2-bin`,
    };
  }
  return { svg, png };
}
