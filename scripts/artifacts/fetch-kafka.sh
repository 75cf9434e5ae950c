#!/usr/bin/env bash
# Resolves the Kafka jars listed in scripts/artifacts/kafka/pom.xml with Maven and packs them as
# .cache/artifacts/kafka.tgz (top directory kafka/ with libs/), the artifact pushed to the Kafka
# nodes. Idempotent: nothing is fetched or packed again while the pom is unchanged.
set -Eeuo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)
pom="$script_dir/kafka/pom.xml"
out_dir="${ARTIFACTS_DIR:-$repo_root/.cache/artifacts}"
kafka_dir="$out_dir/kafka/kafka"
libs_dir="$kafka_dir/libs"
tgz="$out_dir/kafka.tgz"
stamp="$out_dir/kafka/.pom.sha256"

log() { printf 'fetch-kafka: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
[[ -f $pom ]] || die "missing $pom"

pom_sha=$(sha256sum "$pom" | cut -d' ' -f1)
if [[ -f $tgz && -f $stamp && $(cat "$stamp") == "$pom_sha" ]] && compgen -G "$libs_dir/kafka_2.13-*.jar" >/dev/null; then
  log "up to date: $tgz"
  exit 0
fi

mkdir -p "$out_dir/kafka"
staging=$(mktemp -d "$out_dir/kafka/libs.XXXXXX")
trap 'rm -rf "$staging"' EXIT

log "resolving jars with mvn"
mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$staging" >&2

compgen -G "$staging/kafka_2.13-*.jar" >/dev/null || die "mvn produced no kafka_2.13 jar"
compgen -G "$staging/kafka-tools-*.jar" >/dev/null || die "mvn produced no kafka-tools jar"

rm -rf "$libs_dir"
mkdir -p "$kafka_dir"
mv "$staging" "$libs_dir"
chmod 0755 "$libs_dir"
chmod 0644 "$libs_dir"/*.jar

# Reproducible archive: same jars -> same bytes -> same checksum in the Pulumi triggers.
tar -C "$out_dir/kafka" --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner \
  -cf - kafka | gzip -n >"$tgz.tmp"
mv "$tgz.tmp" "$tgz"
printf '%s\n' "$pom_sha" >"$stamp"
log "wrote $tgz ($(find "$libs_dir" -name '*.jar' | wc -l) jars)"
