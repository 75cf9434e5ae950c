#!/usr/bin/env bash
# One member of Patroni's etcd cluster (pgFailover auto): /etc/default/etcd as rendered
# (render/etcd.ts), etcd started, then a bounded wait until `etcdctl endpoint health` passes on
# this member. Health needs a quorum (two of the three members), so the three members' steps run
# side by side and etcd is started without blocking (its unit is Type=notify: a start would wait
# for the quorum). The members are fixed at the first start: a changed member list on a member
# that holds data is refused (etcdctl member add/remove by hand, docs/DESIGN.md). Idempotent.
# Vars: PACKAGES, ETCD_ENV, DATA_DIR, SELF_IP, CLIENT_PORT, HEALTH_TIMEOUT_SECONDS.
set -Eeuo pipefail

readonly ENV_FILE=/etc/default/etcd
readonly UNIT=etcd.service

wait_network
read -r -a packages <<<"$PACKAGES"
apt_install "${packages[@]}"

initial_cluster() {
  sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p'
}
if [[ -d "$DATA_DIR/member" && -f "$ENV_FILE" ]]; then
  had=$(initial_cluster <"$ENV_FILE")
  want=$(printf '%s\n' "$ETCD_ENV" | initial_cluster)
  [[ "$had" == "$want" ]] \
    || die "etcd on $SELF_IP already belongs to the cluster $had; the stack now wants $want." \
      "Changing the members is not done by a deploy: use etcdctl member add/remove (docs/DESIGN.md)"
fi

changed=$(printf '%s' "$ETCD_ENV" | write_file "$ENV_FILE" 0644 root:root)
ensure_restart_policy "$UNIT"
systemctl daemon-reload
systemctl enable --quiet "$UNIT"
if systemctl is-failed --quiet "$UNIT"; then
  log "resetting failed $UNIT"
  systemctl reset-failed "$UNIT"
fi
if [[ "$changed" == changed ]]; then
  log "restarting $UNIT ($ENV_FILE changed)"
  systemctl restart --no-block "$UNIT"
else
  systemctl start --no-block "$UNIT"
fi

deadline=$((SECONDS + HEALTH_TIMEOUT_SECONDS))
until health=$(ETCDCTL_API=3 etcdctl --endpoints="http://$SELF_IP:$CLIENT_PORT" \
  --command-timeout=3s endpoint health 2>&1); do
  ((SECONDS < deadline)) \
    || die "etcd on $SELF_IP:$CLIENT_PORT not healthy after ${HEALTH_TIMEOUT_SECONDS}s (it needs" \
      "2 of the 3 members; $UNIT $(systemctl is-active "$UNIT" || true)): ${health//$'\n'/ | }"
  sleep 2
done
echo "etcd member $SELF_IP ($ENV_FILE $changed): $health"

# The witness keeps the etcd leader (render/etcd.ts, renderEtcdLeaderKeeperScript); the other
# members get empty KEEPER_* and run no keeper.
if [[ -n "${KEEPER_SCRIPT:-}" ]]; then
  printf '%s' "$KEEPER_SCRIPT" | write_file "$KEEPER_PATH" 0755 root:root "$KEEPER_UNIT_NAME" >/dev/null
  printf '%s' "$KEEPER_UNIT" | write_file "/etc/systemd/system/$KEEPER_UNIT_NAME" 0644 root:root \
    "$KEEPER_UNIT_NAME" >/dev/null
  ensure_service "$KEEPER_UNIT_NAME"
  echo "etcd leader keeper: $KEEPER_UNIT_NAME $(systemctl is-active "$KEEPER_UNIT_NAME" || true)"
fi
