package config

import "regexp"

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
		v.add("keys.redis.encryption_key_env", r.EncryptionKeyEnv, "%q is not an environment variable name (want %s)",
			r.EncryptionKeyEnv, envNamePattern)
	}
}
