#!/usr/bin/env bash
# Unpacks $TARBALL (first path component stripped) into $TARGET_DIR, replacing what was there,
# unless the same tarball was unpacked before. $CHECK_PATH must exist afterwards.
set -Eeuo pipefail

[[ -s "$TARBALL" ]] || die "$TARBALL is missing"
stamp="$TARGET_DIR/.pve-ha-tarball.sha256"
digest=$(sha256sum "$TARBALL" | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$digest" && -e "$TARGET_DIR/$CHECK_PATH" ]]; then
  echo "unchanged: $TARGET_DIR"
  exit 0
fi
staging="$TARGET_DIR.new"
rm -rf "$staging"
mkdir -p "$staging"
tar -xzf "$TARBALL" -C "$staging" --strip-components=1 --no-same-owner
[[ -e "$staging/$CHECK_PATH" ]] || die "$TARBALL has no */$CHECK_PATH"
echo "$digest" >"$staging/.pve-ha-tarball.sha256"
rm -rf "$TARGET_DIR.old"
[[ ! -e "$TARGET_DIR" ]] || mv "$TARGET_DIR" "$TARGET_DIR.old"
mv "$staging" "$TARGET_DIR"
rm -rf "$TARGET_DIR.old"
[[ -z "$RESTART_UNIT" ]] || mark_restart "$RESTART_UNIT"
echo "changed: $TARGET_DIR"
