#!/usr/bin/env bash
# Builds a real HashiCorp Vault (v1.21.0) from the Go module proxy into a cache directory outside
# the repository, once. Tests that need Vault look for it at the path this script prints.
#
#   scripts/build-vault.sh            # build if missing, print the binary path
#   BROKER_CACHE=/some/dir scripts/build-vault.sh
#
# v1.21.0 is the newest release whose module builds this way: its go.mod replaces vault/api,
# vault/api/auth/* and vault/sdk with local folders; dropping those replaces makes Go take the
# released modules instead. (v1.21.4 and v1.20.4 ship an sdk folder matching no released sdk.)
set -euo pipefail
version=v1.21.0
cache=${BROKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/broker}
out=$cache/vault-$version/vault
if [ -x "$out" ] && "$out" version >/dev/null 2>&1; then
  echo "$out"
  exit 0
fi
mkdir -p "$cache/vault-$version"
dir=$(go mod download -json "github.com/hashicorp/vault@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { echo "build-vault: go mod download gave no directory" >&2; exit 1; }
src=$(mktemp -d "$cache/vault-src.XXXXXX")
trap 'chmod -R u+w "$src" 2>/dev/null; rm -rf "$src"' EXIT
cp -r "$dir"/. "$src"/
chmod -R u+w "$src"
cd "$src"
# Drop the replace directives that point at folders inside the repository.
sed -i -E '/^replace[[:space:]]+github.com\/hashicorp\/vault\/(api|sdk)([[:space:]]|\/)/d' go.mod
sed -i -E '/^[[:space:]]*github.com\/hashicorp\/vault\/(api|sdk)(\/[^ ]*)?[[:space:]]+=>[[:space:]]+\.\//d' go.mod
if grep -nE '=>[[:space:]]+\./(api|sdk)' go.mod >&2; then
  echo "build-vault: local replace directives remain in go.mod" >&2
  exit 1
fi
echo "build-vault: building vault $version (9 to 10 minutes on 2 cores)" >&2
# Vault's own `minimal` build tag keeps its core (with the identity OIDC provider and in-memory
# storage, which the dev server uses) and the JWT/OIDC, KV, AppRole, cert, userpass, PKI, SSH and
# transit plugins; the tests use JWT auth, transit and userpass. It leaves out the other plugins
# and storage backends, whose cloud and database SDKs are a quarter of the packages and more of
# the compile time. Without the symbol table and DWARF (-s -w), which no test reads, the link
# takes a third of the time.
GOFLAGS=-mod=mod go build -tags minimal -ldflags='-s -w' -o "$out.tmp" .
mv "$out.tmp" "$out"
"$out" version >&2
echo "$out"
