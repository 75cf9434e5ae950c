/**
 * Fixed service ports of the stack (DESIGN.md "Ports"): the one home of every port. The app's
 * port is the appPort setting (default PORTS.app); everything else is fixed.
 */
export const PORTS = {
  http: 80,
  /** The LB's TLS listener (nginx `tls` option, issue "Security of the front door"). */
  https: 443,
  nginxStubStatus: 8081,
  app: 3000,
  haproxyReadWrite: 5000,
  haproxyReadOnly: 5001,
  haproxyStats: 8404,
  postgres: 5432,
  pgRoleCheck: 8008,
  /**
   * Patroni's REST API (pgFailover auto): HAProxy's /primary and /replica checks. The same port
   * as the role check it replaces; a node runs one or the other.
   */
  patroniRestApi: 8008,
  /** etcd (pgFailover auto): clients (Patroni) and the members' peer traffic. */
  etcdClient: 2379,
  etcdPeer: 2380,
  /** pgBackRest's TLS server (repository host and PostgreSQL nodes). */
  pgbackrestTls: 8432,
  /** The scratch PostgreSQL a restore drill starts on the backup repository node. */
  pgRestoreScratch: 5439,
  kafka: 9092,
  kafkaController: 9093,
  prometheus: 9090,
  alertmanager: 9093,
  grafana: 3000,
  nodeExporter: 9100,
  nginxExporter: 9113,
  postgresExporter: 9187,
  jmxAgent: 7071,
  kafkaExporter: 9308,
} as const;
