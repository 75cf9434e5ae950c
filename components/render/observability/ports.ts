import { PORTS } from "../../config/ports";

/** Ports of every metrics endpoint (docs/DESIGN.md "Ports"). */
export const METRICS_PORTS = {
  nodeExporter: PORTS.nodeExporter,
  nginxExporter: PORTS.nginxExporter,
  app: PORTS.app,
  haproxy: PORTS.haproxyStats,
  postgresExporter: PORTS.postgresExporter,
  jmxAgent: PORTS.jmxAgent,
  kafkaExporter: PORTS.kafkaExporter,
  prometheus: PORTS.prometheus,
  alertmanager: PORTS.alertmanager,
  grafana: PORTS.grafana,
} as const;

/** nginx stub_status, bound to loopback on the LB (docs/DESIGN.md). */
export const NGINX_STUB_STATUS_PORT = PORTS.nginxStubStatus;
export const NGINX_STUB_STATUS_URL = `http://127.0.0.1:${NGINX_STUB_STATUS_PORT}/stub_status`;

/** Kafka PLAINTEXT listener kafka_exporter connects to. */
export const KAFKA_BROKER_PORT_FOR_EXPORTER = PORTS.kafka;
