// Package vaulttest runs a real Vault dev server as a child process for tests, and sets up
// what broker's Vault tests need on it: the JWT auth method, its roles and (on Vault
// Enterprise) namespaces.
//
// The binary is the one scripts/build-vault.sh builds: $BROKER_VAULT_BIN, else
// ~/.cache/broker/vault-v1.21.0/vault. Without it the tests using Start are skipped, or fail
// when BROKER_REQUIRE_VAULT=1 (as scripts/test.sh sets). That script builds Vault with its
// `minimal` tag: the core (identity OIDC included) and the JWT/OIDC, KV, AppRole, cert,
// userpass, PKI, SSH and transit plugins. A test that mounts any other plugin needs the script
// changed first.
package vaulttest
