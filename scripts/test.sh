#!/usr/bin/env bash
# The whole test suite, as the README and CI run it. On a fresh machine it first installs what
# the tests use: Go (Debian's; with a Go older than 1.21 the script fetches the toolchain go.mod
# names from the Go module proxy), redis-server, redis-sentinel, nginx, curl, jq, the aws CLI and
# systemd-analyze from Debian's packages, and a Vault built from source (scripts/build-vault.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || need_apt+=(golang-go)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# The Sentinel failover tests start redis-sentinel, which Debian packages on its own.
command -v redis-sentinel >/dev/null 2>&1 || need_apt+=(redis-sentinel)
# The README's Terraform walkthrough, which a test runs as written, uses curl and jq.
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
# The emulators are tested with the aws CLI as users configure it.
command -v aws >/dev/null 2>&1 || need_apt+=(awscli)
# broker bench's public-document figures measure against nginx serving the same bytes.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
# The deployment tests rate the systemd unit with systemd-analyze (verify, security).
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test.sh: installing ${need_apt[*]} with apt-get" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  # Debian's redis-server and nginx packages start system services; the tests start their own.
  $SUDO systemctl disable --now redis-server redis-sentinel nginx >/dev/null 2>&1 || true
  $SUDO /usr/sbin/nginx -s quit >/dev/null 2>&1 || true
fi
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH=$PATH:/usr/sbin ;; esac
command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
# A Go older than 1.21 (Debian bookworm's golang-go is 1.19) neither reads go.mod's go line
# nor switches toolchains: fetch the one go.mod names, once, as the module the Go module proxy
# serves it as, and put it first on PATH (the module cache leaves its programs not executable).
case $(go env GOVERSION) in
go1.[0-9] | go1.[0-9].* | go1.1[0-9] | go1.1[0-9].* | go1.20 | go1.20.*)
  want=$(sed -n 's/^go \([0-9][0-9.]*\)$/\1/p' go.mod)
  tc=${XDG_CACHE_HOME:-$HOME/.cache}/broker/go$want
  if [ ! -x "$tc/bin/go" ]; then
    echo "test.sh: $(go env GOVERSION) is too old: fetching go$want from the Go module proxy" >&2
    mod=golang.org/toolchain@v0.0.1-go$want.$(go env GOOS)-$(go env GOARCH)
    dir=$(cd / && go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -n "$dir" ] || { echo "test.sh: no directory for $mod" >&2; exit 1; }
    rm -rf "$tc.tmp" && mkdir -p "$(dirname "$tc")" && cp -r "$dir" "$tc.tmp"
    chmod -R u+w "$tc.tmp" && chmod +x "$tc.tmp"/bin/* "$tc.tmp"/pkg/tool/*/*
    rm -rf "$tc" && mv "$tc.tmp" "$tc"
  fi
  export PATH=$tc/bin:$PATH GOROOT=$tc GOTOOLCHAIN=local
  ;;
esac

BROKER_VAULT_BIN=$(scripts/build-vault.sh)
export BROKER_VAULT_BIN
export BROKER_REQUIRE_VAULT=1 BROKER_REQUIRE_REDIS=1
# What this script installs, a test needing it may not skip for want of it.
export BROKER_REQUIRE_TOOLS=aws,bash,curl,jq,nginx,redis-server,systemd-analyze
# No registry this machine reaches carries terraform, its hashicorp/aws provider or the
# Google Cloud CLI: the tests that run them skip without them, and say so here too.
command -v terraform >/dev/null 2>&1 && [ -d /opt/tf-plugins/registry.terraform.io/hashicorp/aws ] ||
  echo "test.sh: SKIPPING the terraform tests (TestTerraformInFiveMinutes, TestTerraformCallerIdentity): no terraform with the hashicorp/aws provider under /opt/tf-plugins" >&2
[ -x /usr/lib/google-cloud-sdk/platform/bundledpythonunix/bin/python3 ] ||
  echo "test.sh: SKIPPING the Google Cloud CLI's auth library test of gcp-executable: no Google Cloud CLI" >&2

# vet takes the same build flags as the tests (-race): its compiled packages are then the ones
# the tests link, not a second build of every dependency. No file is built only with or
# without the race detector, so vet reads the same sources either way.
echo "test.sh: go vet (at ${SECONDS}s)" >&2
go vet -race ./...
echo "test.sh: go test -race (at ${SECONDS}s)" >&2
go test -race -count=1 -timeout 30m ./...
# The deployment files' tests live in their own module (Helm, Kubernetes and compose libraries
# stay out of broker's): they render the chart, parse the compose file, the Dockerfile and the
# systemd unit, and validate every configuration with broker's own rules.
echo "test.sh: deploy/ (go vet, go test -race) (at ${SECONDS}s)" >&2
(cd deploy && go vet -race ./... && go test -race -count=1 -timeout 10m ./...)
echo "test.sh: done in ${SECONDS}s" >&2
