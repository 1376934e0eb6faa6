package config

import (
	"regexp"
	"strings"
)

// envNamePattern is the form of an environment variable name broker reads a secret from.
var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkKeysRedis checks keys.redis for the redis key backend: exactly one of
// encryption_key_file and encryption_key_env. Whether the file or variable holds a usable key is
// checked at start-up, where it is read.
func (v *validator) checkKeysRedis() {
	r := v.c.Keys.Redis
	if r == nil || r.EncryptionKeyFile == "" && r.EncryptionKeyEnv == "" {
		v.add("keys.redis", "", "required when keys.backend is redis: name the key that encrypts the private keys "+
			"in Redis with encryption_key_file (a file of mode 0600) or encryption_key_env (an environment variable), "+
			"holding the base64 of 32 random bytes (openssl rand -base64 32)")
		return
	}
	if r.EncryptionKeyFile != "" && r.EncryptionKeyEnv != "" {
		v.add("keys.redis", "", "sets both encryption_key_file and encryption_key_env; exactly one")
		return
	}
	if r.EncryptionKeyEnv != "" && !envNamePattern.MatchString(r.EncryptionKeyEnv) {
		// Not quoted: a value that is no variable name is most often the key itself.
		v.add("keys.redis.encryption_key_env", "", "is not an environment variable name (want %s; the value is "+
			"not shown, as it may be the key itself)", envNamePattern)
	}
}

// Forms of the names keys.vault_transit puts in Vault paths.
var (
	transitKeyPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	transitMountPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$`)
)

// checkVaultTransit checks the mount, key and namespace of keys.vault_transit: names that go
// into Vault paths as they are.
func (v *validator) checkVaultTransit(vt *VaultTransit) {
	switch mount := strings.Trim(vt.Mount, "/"); {
	case mount == "":
		v.add("keys.vault_transit.mount", "", "required when keys.backend is vault-transit")
	case !transitMountPattern.MatchString(mount):
		v.add("keys.vault_transit.mount", vt.Mount, "%q is not a mount path (letters, digits, '_', '.', '-', separated by '/')", vt.Mount)
	}
	switch {
	case vt.Key == "":
		v.add("keys.vault_transit.key", "", "required when keys.backend is vault-transit")
	case !transitKeyPattern.MatchString(vt.Key):
		v.add("keys.vault_transit.key", vt.Key, "%q is not a Transit key name (up to 128 letters, digits, '_', '.', '-')", vt.Key)
	}
	if ns := strings.Trim(vt.Namespace, "/"); vt.Namespace != "" && !transitMountPattern.MatchString(ns) {
		v.add("keys.vault_transit.namespace", vt.Namespace, "%q is not a namespace path (letters, digits, '_', '.', '-', separated by '/')", vt.Namespace)
	}
}
