/** Fixed service ports of the stack (DESIGN.md "Ports"). */
export const PORTS = {
  http: 80,
  nginxStubStatus: 8081,
  app: 3000,
  haproxyReadWrite: 5000,
  haproxyReadOnly: 5001,
  haproxyStats: 8404,
  postgres: 5432,
  pgRoleCheck: 8008,
  kafka: 9092,
  kafkaController: 9093,
  prometheus: 9090,
  alertmanager: 9093,
  grafana: 3000,
} as const;
