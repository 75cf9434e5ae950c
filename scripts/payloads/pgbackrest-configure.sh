#!/usr/bin/env bash
# pgBackRest on a PostgreSQL node: installs it, writes this node's TLS certificate (from the
# repository node's bundle), pgbackrest.conf (the repository is remote) and the TLS server the
# repository node's backups connect to; restarts that server when any of them changed.
# Vars: PACKAGES, NODE_NAME, TLS_BUNDLE, TLS_DIR, CONF, CONF_PATH, SERVER_UNIT, SERVER_UNIT_NAME.
set -Eeuo pipefail

wait_network
read -r -a packages <<<"$PACKAGES"
apt_install "${packages[@]}"
id postgres >/dev/null 2>&1 || die "no postgres user: postgresql-15 is not installed"

line=$(printf '%s\n' "$TLS_BUNDLE" | awk -v n="$NODE_NAME" '$1 == "pgbackrest-tls" && $2 == n { print $3 }')
[[ -n "$line" ]] || die "the repository node issued no certificate for $NODE_NAME"
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
printf '%s' "$line" | base64 -d | tar -C "$unpacked" -xf -
install -d -m 0750 -o root -g postgres "$TLS_DIR"
write_file "$TLS_DIR/ca.crt" 0644 postgres:postgres "$SERVER_UNIT_NAME" <"$unpacked/ca.crt" >/dev/null
write_file "$TLS_DIR/node.crt" 0644 postgres:postgres "$SERVER_UNIT_NAME" <"$unpacked/node.crt" >/dev/null
write_file "$TLS_DIR/node.key" 0600 postgres:postgres "$SERVER_UNIT_NAME" <"$unpacked/node.key" >/dev/null

printf '%s' "$CONF" | write_file "$CONF_PATH" 0640 postgres:postgres "$SERVER_UNIT_NAME" >/dev/null
printf '%s' "$SERVER_UNIT" | write_file "/etc/systemd/system/$SERVER_UNIT_NAME" 0644 root:root "$SERVER_UNIT_NAME" >/dev/null
install -d -m 0770 -o postgres -g postgres /var/log/pgbackrest /var/spool/pgbackrest
ensure_service "$SERVER_UNIT_NAME"
echo "pgbackrest configured on $NODE_NAME"
