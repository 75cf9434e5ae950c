#!/usr/bin/env bash
# Grafana on the monitor node (:3000) from the pushed .deb, with the provisioned Prometheus
# datasource and dashboard provider (dashboards are pushed as files and picked up by the provider).
# The admin password comes from the environment file; Grafana reads it only when it creates its
# database, so a changed password is also set with grafana-cli.
# Vars: DEB_PATH, DATASOURCE_YML, DATASOURCE_PATH, PROVIDER_YML, PROVIDER_PATH, DASHBOARDS_DIR,
#       GRAFANA_ENV, ADMIN_PASSWORD (secret).
set -Eeuo pipefail

wait_network
wait_dpkg_lock
unit=grafana-server.service
if ! is_installed grafana; then
  log "installing $DEB_PATH"
  apt-get -q update >&2
  apt-get -q install -y --no-install-recommends "$DEB_PATH" >&2
fi

mkdir -p "$DASHBOARDS_DIR"
printf '%s\n' "$DATASOURCE_YML" | write_file "$DATASOURCE_PATH" 0640 root:grafana "$unit"
printf '%s\n' "$PROVIDER_YML" | write_file "$PROVIDER_PATH" 0640 root:grafana "$unit"
env_state=$(printf '%s\n' "$GRAFANA_ENV" | write_file /etc/grafana/pve-ha.env 0640 root:grafana "$unit")
printf '[Service]\nEnvironmentFile=/etc/grafana/pve-ha.env\n' |
  write_file "/etc/systemd/system/$unit.d/pve-ha.conf" 0644 root:root "$unit" >/dev/null
ensure_restart_policy "$unit"
ensure_service "$unit"
wait_tcp 127.0.0.1 3000 120
if [[ "$env_state" == "changed" ]]; then
  runuser -u grafana -- grafana-cli --homepath /usr/share/grafana --config /etc/grafana/grafana.ini \
    admin reset-admin-password "$ADMIN_PASSWORD" >/dev/null
  log "grafana admin password set"
fi
log "grafana up on :3000"
