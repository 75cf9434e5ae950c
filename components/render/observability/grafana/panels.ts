import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as statetimeline from "@grafana/grafana-foundation-sdk/statetimeline";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { GRAFANA_DATASOURCE_REF } from "./datasource";

export interface Query {
  expr: string;
  legend: string;
}

export interface PanelSize {
  width?: number;
  height?: number;
}

const REF_IDS = "ABCDEFGHIJ";

function targets(queries: Query[]): prometheus.DataqueryBuilder[] {
  return queries.map((q, i) =>
    new prometheus.DataqueryBuilder()
      .datasource(GRAFANA_DATASOURCE_REF)
      .expr(q.expr)
      .legendFormat(q.legend)
      .refId(REF_IDS[i]),
  );
}

/** A time series panel on the provisioned Prometheus datasource. */
export function timeSeries(
  title: string,
  unit: string,
  queries: Query[],
  size: PanelSize = {},
): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .datasource(GRAFANA_DATASOURCE_REF)
    .unit(unit)
    .span(size.width ?? 12)
    .height(size.height ?? 8)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(["lastNotNull", "max"]),
    )
    .targets(targets(queries));
}

/** A single-value panel (last value of each series). */
export function statValue(
  title: string,
  unit: string,
  queries: Query[],
  size: PanelSize = {},
): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .datasource(GRAFANA_DATASOURCE_REF)
    .unit(unit)
    .span(size.width ?? 6)
    .height(size.height ?? 4)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .targets(targets(queries));
}

/** How a state timeline shows one value. */
export interface StateText {
  text: string;
  color: string;
}

/** A state timeline: one row per series, each value shown as its named, coloured state. */
export function stateTimeline(
  title: string,
  queries: Query[],
  states: Record<number, StateText>,
  size: PanelSize = {},
): statetimeline.PanelBuilder {
  const options = Object.fromEntries(
    Object.entries(states).map(([value, state], index) => [value, { ...state, index }]),
  );
  return new statetimeline.PanelBuilder()
    .title(title)
    .datasource(GRAFANA_DATASOURCE_REF)
    .span(size.width ?? 24)
    .height(size.height ?? 6)
    .showValue(common.VisibilityMode.Auto)
    .mappings([{ type: dashboard.MappingType.ValueToText, options }])
    .targets(targets(queries));
}
