/**
 * pve-ha-stack: an HA stack (Nginx LB, Node.js app nodes, PostgreSQL primary + standby behind
 * HAProxy, KRaft Kafka, Prometheus/Grafana) as LXC containers on one or several Proxmox VE hosts.
 */
import { loadConfig } from "./components/config";
import { deployStack, stackOutputs } from "./components/stack";

const outputs = stackOutputs(deployStack(loadConfig()));

export const lbUrl = outputs.lbUrl;
export const adminUrl = outputs.adminUrl;
export const lbVirtualIp = outputs.lbVirtualIp;
export const lbNodes = outputs.lbNodes;
export const haproxyReadWrite = outputs.haproxyReadWrite;
export const haproxyReadOnly = outputs.haproxyReadOnly;
export const haproxyStatsUrl = outputs.haproxyStatsUrl;
export const pgPrimary = outputs.pgPrimary;
export const pgStandby = outputs.pgStandby;
export const kafkaBootstrapServers = outputs.kafkaBootstrapServers;
export const kafkaTopic = outputs.kafkaTopic;
export const prometheusUrl = outputs.prometheusUrl;
export const alertmanagerUrl = outputs.alertmanagerUrl;
export const grafanaUrl = outputs.grafanaUrl;
export const proxmoxHost = outputs.proxmoxHost;
export const proxmoxHosts = outputs.proxmoxHosts;
export const settings = outputs.settings;
export const nodes = outputs.nodes;
export const pgBackup = outputs.pgBackup;
export const kafkaClusterId = outputs.kafkaClusterId;
export const grafanaAdminPassword = outputs.grafanaAdminPassword;
export const adminPassword = outputs.adminPassword;
export const lbHttpsUrl = outputs.lbHttpsUrl;
export const exposure = outputs.exposure;
export const pgFailover = outputs.pgFailover;
