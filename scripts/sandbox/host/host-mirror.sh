#!/usr/bin/env bash
# Prints the Debian mirror URI this host's apt uses for bookworm (read at run time, never stored).
set -Eeuo pipefail

# shellcheck disable=SC2016 # the $(...) fields are apt-get format fields, not shell
apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(IDENTIFIER)' \
  | awk '$2 == "bookworm" && $3 == "Packages" { print $1; exit }' \
  | grep . || { echo "no bookworm apt source found on this host" >&2; exit 1; }
