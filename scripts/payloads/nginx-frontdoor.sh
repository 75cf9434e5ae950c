#!/usr/bin/env bash
# The LB's front-door files, before nginx-configure writes the nginx.conf that names them:
#   TLS (TLS_MODE provided): TLS_CERT -> CERT_PATH (0644), TLS_KEY -> KEY_PATH (0600 root);
#   TLS (TLS_MODE self-signed): a certificate this LB makes for itself (EC P-256, 825 days,
#     SAN = TLS_SAN_IPS), kept while it is valid for 30 more days, names every SAN address and
#     matches the key. A test convenience: each LB has its own.
#   /admin auth (ADMIN_AUTH true): HTPASSWD_PATH (0640 root:www-data), one ADMIN_USER line with an
#     apr1 hash made by `openssl passwd -stdin` (the password never on a command line); the line
#     is kept while it still matches the password (same salt), so a re-run changes nothing.
# When a file changed and nginx runs, nginx is checked (nginx -t) and reloaded: a rotated
# certificate or password applies without nginx.conf changing. Secrets are never printed.
# Vars: TLS_MODE, TLS_CERT, TLS_KEY, TLS_SAN_IPS, TLS_CN, CERT_PATH, KEY_PATH, ADMIN_AUTH,
# ADMIN_USER, ADMIN_PASSWORD, HTPASSWD_PATH.
set -Eeuo pipefail

readonly UNIT=nginx
readonly SELF_SIGNED_DAYS=825
readonly RENEW_BEFORE_SECONDS=$((30 * 24 * 3600))

command -v openssl >/dev/null || die "openssl not found (it comes with ca-certificates)"
umask 077

# True when the certificate at CERT_PATH is valid for RENEW_BEFORE_SECONDS more, names every
# address of TLS_SAN_IPS and belongs to the key at KEY_PATH.
self_signed_usable() {
  local sans ip
  [[ -s "$CERT_PATH" && -s "$KEY_PATH" ]] || return 1
  openssl x509 -in "$CERT_PATH" -noout -checkend "$RENEW_BEFORE_SECONDS" >/dev/null 2>&1 || return 1
  sans=$(openssl x509 -in "$CERT_PATH" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' \n') || return 1
  for ip in $TLS_SAN_IPS; do
    [[ ",$sans," == *",IPAddress:$ip,"* ]] || return 1
  done
  [[ "$(openssl x509 -in "$CERT_PATH" -noout -pubkey 2>/dev/null)" == \
    "$(openssl pkey -in "$KEY_PATH" -pubout 2>/dev/null)" ]]
}

make_self_signed() {
  local dir san ip
  san=""
  for ip in $TLS_SAN_IPS; do san+="${san:+,}IP:$ip"; done
  [[ -n "$san" ]] || die "TLS_SAN_IPS is empty"
  mkdir -p "$(dirname "$CERT_PATH")" "$(dirname "$KEY_PATH")"
  dir=$(mktemp -d "$(dirname "$KEY_PATH")/.self-signed.XXXXXX")
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -days "$SELF_SIGNED_DAYS" -subj "/CN=$TLS_CN" -addext "subjectAltName=$san" \
    -keyout "$dir/key" -out "$dir/crt" >/dev/null 2>&1 || {
    rm -rf "$dir"
    die "openssl could not make the self-signed certificate"
  }
  chown root:root "$dir/key" "$dir/crt"
  chmod 0600 "$dir/key"
  chmod 0644 "$dir/crt"
  mv -f "$dir/key" "$KEY_PATH"
  mv -f "$dir/crt" "$CERT_PATH"
  rm -rf "$dir"
  mark_restart "$UNIT"
  log "self-signed certificate made for $san"
}

# The htpasswd line for the password, with the given apr1 salt (empty: a new random one).
htpasswd_line() {
  local salt="$1" hash
  if [[ -n "$salt" ]]; then
    hash=$(printf '%s\n' "$ADMIN_PASSWORD" | openssl passwd -apr1 -salt "$salt" -stdin)
  else
    hash=$(printf '%s\n' "$ADMIN_PASSWORD" | openssl passwd -apr1 -stdin)
  fi
  printf '%s:%s\n' "$ADMIN_USER" "$hash"
}

write_htpasswd() {
  local current="" line=""
  [[ -n "$ADMIN_PASSWORD" ]] || die "ADMIN_PASSWORD is empty"
  [[ ! -f "$HTPASSWD_PATH" ]] || current=$(head -n 1 "$HTPASSWD_PATH")
  # user:$apr1$<salt>$<hash>: the current line is kept when the password still gives it.
  if [[ "$current" == "$ADMIN_USER:\$apr1\$"* ]]; then
    line=$(htpasswd_line "$(cut -d '$' -f 3 <<<"$current")")
  fi
  if [[ -n "$line" && "$line" == "$current" ]]; then
    log "htpasswd unchanged"
  else
    line=$(htpasswd_line "")
    log "htpasswd written for $ADMIN_USER"
  fi
  printf '%s\n' "$line" | write_file "$HTPASSWD_PATH" 0640 root:www-data "$UNIT" >/dev/null
}

case "$TLS_MODE" in
  off) ;;
  provided)
    printf '%s\n' "$TLS_CERT" | write_file "$CERT_PATH" 0644 root:root "$UNIT" >/dev/null
    printf '%s\n' "$TLS_KEY" | write_file "$KEY_PATH" 0600 root:root "$UNIT" >/dev/null
    [[ "$(openssl x509 -in "$CERT_PATH" -noout -pubkey 2>/dev/null)" == \
      "$(openssl pkey -in "$KEY_PATH" -pubout 2>/dev/null)" ]] \
      || die "the provided certificate and key do not belong together"
    log "provided certificate in place"
    ;;
  self-signed)
    if self_signed_usable; then
      chmod 0600 "$KEY_PATH"
      chown root:root "$KEY_PATH"
      log "self-signed certificate kept"
    else
      make_self_signed
    fi
    ;;
  *) die "unknown TLS_MODE: $TLS_MODE" ;;
esac

[[ "$ADMIN_AUTH" != true ]] || write_htpasswd

if [[ -f "$PVE_HA_RESTART_DIR/$UNIT" ]] && systemctl is-active --quiet "$UNIT"; then
  nginx -t -q || die "nginx -t failed after the front-door files changed"
  log "reloading nginx (front-door files changed)"
  systemctl reload "$UNIT"
  rm -f "$PVE_HA_RESTART_DIR/$UNIT"
fi
echo "front door files in place"
