/**
 * pve-ha-stack: an HA stack (Nginx LB, Node.js app nodes, PostgreSQL primary + standby behind
 * HAProxy, KRaft Kafka, Prometheus/Grafana) as LXC containers on one Proxmox VE host.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./components/config";
import { deployStack } from "./components/stack";

const stack = deployStack(loadConfig());
const e = stack.endpoints;

export const lbUrl = e.lbUrl;
export const adminUrl = e.adminUrl;
export const haproxyReadWrite = e.haproxyReadWrite;
export const haproxyReadOnly = e.haproxyReadOnly;
export const haproxyStatsUrl = e.haproxyStatsUrl;
export const pgPrimary = e.pgPrimary;
export const pgStandby = e.pgStandby;
export const kafkaBootstrapServers = e.kafkaBootstrapServers;
export const kafkaTopic = e.kafkaTopic;
export const prometheusUrl = stack.observability.prometheusUrl;
export const alertmanagerUrl = stack.observability.alertmanagerUrl;
export const grafanaUrl = stack.observability.grafanaUrl;
export const proxmoxHost = e.proxmoxHost;
export const nodes = e.nodes;
export const kafkaClusterId = stack.kafka.clusterId;
/** Secret: log in to Grafana as admin. */
export const grafanaAdminPassword = pulumi.secret(stack.observability.grafanaAdminPassword);
