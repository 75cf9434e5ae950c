#!/usr/bin/env bash
# Prometheus on the monitor node (:PORT): config and alert rules are checked by promtool before
# they replace the running ones.
# Vars: PROMETHEUS_YML, RULES_YML, PROMETHEUS_DEFAULTS, CONFIG_PATH, RULES_PATH, PORT.
set -Eeuo pipefail

wait_network
wait_dpkg_lock
apt_install prometheus
unit=prometheus.service

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
mkdir "$staging/rules"
printf '%s\n' "$RULES_YML" >"$staging/rules/rules.yml"
promtool check rules "$staging/rules/rules.yml" >&2 || die "rendered alert rules are invalid"
# promtool check config resolves rule_files: check the config against the staged rules.
rules_dir="$(dirname "$RULES_PATH")/"
printf '%s\n' "${PROMETHEUS_YML//"$rules_dir"/"$staging/rules/"}" >"$staging/prometheus.yml"
promtool check config "$staging/prometheus.yml" >&2 || die "rendered prometheus.yml is invalid"

write_file "$RULES_PATH" 0644 root:root "$unit" <"$staging/rules/rules.yml"
printf '%s\n' "$PROMETHEUS_YML" | write_file "$CONFIG_PATH" 0644 root:root "$unit"
printf '%s\n' "$PROMETHEUS_DEFAULTS" | write_file /etc/default/prometheus 0644 root:root "$unit"
ensure_restart_policy "$unit"
ensure_service "$unit"
wait_tcp 127.0.0.1 "$PORT" 60
wait_http_ready 127.0.0.1 "$PORT" /-/ready 60
log "prometheus ready on :$PORT"
