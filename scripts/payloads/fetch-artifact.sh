#!/usr/bin/env bash
# Puts one artifact at $DEST: the pushed file $LOCAL_PATH or a download of $URL checked by
# $SHA256 / $SHA512.
set -Eeuo pipefail

wait_network
fetch_artifact "$DEST" "$LOCAL_PATH" "$URL" "$SHA256" "$SHA512"
echo "artifact: $DEST $(sha256sum "$DEST" | cut -d' ' -f1)"
