/** Ports of every metrics endpoint (docs/DESIGN.md "Ports"). */
export const METRICS_PORTS = {
  nodeExporter: 9100,
  nginxExporter: 9113,
  app: 3000,
  haproxy: 8404,
  postgresExporter: 9187,
  jmxAgent: 7071,
  kafkaExporter: 9308,
  prometheus: 9090,
  alertmanager: 9093,
  grafana: 3000,
} as const;

/** nginx stub_status, bound to loopback on the LB (docs/DESIGN.md). */
export const NGINX_STUB_STATUS_URL = "http://127.0.0.1:8081/stub_status";
export const NGINX_STUB_STATUS_PORT = 8081;

/** Kafka PLAINTEXT listener kafka_exporter connects to. */
export const KAFKA_BROKER_PORT_FOR_EXPORTER = 9092;
