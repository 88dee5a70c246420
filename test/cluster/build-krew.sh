#!/usr/bin/env bash
# Build krew (the kubectl plugin manager) from the Go module proxy into a cache outside the repo,
# for the test that installs the packaged binary through the rendered krew manifest.
#
#   test/cluster/build-krew.sh   build if needed; last stdout line = path of krew
set -euo pipefail
export GOTOOLCHAIN=local CGO_ENABLED=0
KREW_VERSION=0.4.3
CACHE_ROOT=${PV_DOCTOR_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pv-doctor/k8s}
DIR=$CACHE_ROOT/krew-v$KREW_VERSION-$(go env GOVERSION)
if ! [[ -x $DIR/krew ]] || ! "$DIR/krew" version >/dev/null 2>&1; then
  echo "[krew-build] building krew v$KREW_VERSION" >&2
  mkdir -p "$DIR"
  GOBIN=$DIR go install "sigs.k8s.io/krew/cmd/krew@v$KREW_VERSION"
fi
echo "$DIR/krew"
