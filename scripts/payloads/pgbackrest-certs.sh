#!/usr/bin/env bash
# The backup repository node's certificate authority for pgBackRest's TLS connections: creates it
# once, issues (once, or again when a node's address changed) a certificate for the repository
# node and for each PostgreSQL node (CN = node name, SAN = its address, server and client use),
# installs the repository node's own, and prints each PostgreSQL node's certificate, key and the
# CA as one line "pgbackrest-tls <name> <base64 tar>" for that node's pgbackrest-configure step.
# The CA key never leaves this node. Vars: PACKAGES, CREATECLUSTER_CONF, REPO_NAME, REPO_IP,
# PG_NODES ("name=ip name=ip"), TLS_DIR, SERVER_UNIT_NAME.
set -Eeuo pipefail

readonly CA_DIR=/etc/pgbackrest/ca
readonly CERT_DAYS=3650

wait_network
# postgresql-15 is here for restores into a scratch directory: no cluster of its own.
printf '%s' "$CREATECLUSTER_CONF" | write_file /etc/postgresql-common/createcluster.conf 0644 root:root >/dev/null
read -r -a packages <<<"$PACKAGES"
apt_install "${packages[@]}"

install -d -m 0700 -o root -g root "$CA_DIR" "$CA_DIR/issued"
if [[ ! -s "$CA_DIR/ca.key" || ! -s "$CA_DIR/ca.crt" ]]; then
  log "creating the pgBackRest CA"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -keyout "$CA_DIR/ca.key" -out "$CA_DIR/ca.crt" -days "$CERT_DAYS" \
    -subj "/CN=pve-ha-stack pgBackRest CA" 2>/dev/null
  chmod 0600 "$CA_DIR/ca.key"
fi

# issue <name> <ip>: $CA_DIR/issued/<name>/{node.crt,node.key}, kept while valid for <ip>.
issue() {
  local name="$1" ip="$2" dir="$CA_DIR/issued/$1" ext
  if [[ -s "$dir/node.crt" && -s "$dir/node.key" ]] \
    && openssl verify -CAfile "$CA_DIR/ca.crt" "$dir/node.crt" >/dev/null 2>&1 \
    && openssl x509 -in "$dir/node.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$ip\b"; then
    return 0
  fi
  log "issuing the pgBackRest certificate of $name ($ip)"
  install -d -m 0700 "$dir"
  ext=$(mktemp)
  # pgBackRest 2.45 matches the host it connects to by name only: the address as a DNS name too.
  printf '%s\n' "subjectAltName=IP:$ip,DNS:$ip" "extendedKeyUsage=serverAuth,clientAuth" \
    "keyUsage=digitalSignature,keyEncipherment" "basicConstraints=CA:FALSE" >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -keyout "$dir/node.key" -out "$dir/node.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$dir/node.csr" -CA "$CA_DIR/ca.crt" -CAkey "$CA_DIR/ca.key" \
    -CAcreateserial -days "$CERT_DAYS" -sha256 -extfile "$ext" -out "$dir/node.crt" 2>/dev/null
  rm -f "$ext" "$dir/node.csr"
  chmod 0600 "$dir/node.key"
}

issue "$REPO_NAME" "$REPO_IP"
# A changed certificate restarts the TLS server (pgbackrest-repo's ensure_service does it).
write_file "$TLS_DIR/ca.crt" 0644 postgres:postgres "$SERVER_UNIT_NAME" <"$CA_DIR/ca.crt" >/dev/null
write_file "$TLS_DIR/node.crt" 0644 postgres:postgres "$SERVER_UNIT_NAME" <"$CA_DIR/issued/$REPO_NAME/node.crt" >/dev/null
write_file "$TLS_DIR/node.key" 0600 postgres:postgres "$SERVER_UNIT_NAME" <"$CA_DIR/issued/$REPO_NAME/node.key" >/dev/null
chmod 0750 "$TLS_DIR"
chown root:postgres "$TLS_DIR"

read -r -a pg_nodes <<<"$PG_NODES"
for entry in "${pg_nodes[@]}"; do
  name="${entry%%=*}"
  issue "$name" "${entry#*=}"
  cp "$CA_DIR/ca.crt" "$CA_DIR/issued/$name/ca.crt"
  printf 'pgbackrest-tls %s %s\n' "$name" \
    "$(tar -C "$CA_DIR/issued/$name" --owner=0 --group=0 --mtime=@0 -cf - ca.crt node.crt node.key | base64 -w0)"
done
