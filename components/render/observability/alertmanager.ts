import { stringify } from "yaml";

export const ALERTMANAGER_CONFIG_PATH = "/etc/prometheus/alertmanager.yml";

export interface AlertmanagerOptions {
  /** Optional webhook receiving every notification (firing and resolved). */
  webhookUrl?: string;
  /** How long to wait before re-sending a still-firing alert group, e.g. "4h". */
  repeatInterval: string;
}

export const DEFAULT_ALERTMANAGER_OPTIONS: AlertmanagerOptions = { repeatInterval: "4h" };

const DURATION = /^[1-9]\d*(s|m|h)$/;

function webhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`alertmanager: webhookUrl is not a URL (got "${value}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`alertmanager: webhookUrl must be http(s) (got "${value}")`);
  }
  return value;
}

/** alertmanager.yml: one receiver, grouping per alert and node, critical inhibits warning. */
export function renderAlertmanagerConfig(opts: AlertmanagerOptions): string {
  if (!DURATION.test(opts.repeatInterval)) {
    throw new Error(
      `alertmanager: repeatInterval must be a duration like 4h (got "${opts.repeatInterval}")`,
    );
  }
  const receiver: Record<string, unknown> = { name: "default" };
  if (opts.webhookUrl !== undefined) {
    receiver.webhook_configs = [{ url: webhookUrl(opts.webhookUrl), send_resolved: true }];
  }
  const config = {
    route: {
      receiver: "default",
      group_by: ["alertname", "node"],
      group_wait: "10s",
      group_interval: "1m",
      repeat_interval: opts.repeatInterval,
    },
    receivers: [receiver],
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ["node"],
      },
    ],
  };
  return stringify(config, { lineWidth: 0 });
}
