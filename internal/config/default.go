package config

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	_ "embed"

	"github.com/brokerhq/broker/internal/redact"
)

// DefaultSource is the Source of the configuration Default returns.
const DefaultSource = "embedded default"

// BootstrapKeyID is the id of the admin API key in the embedded default configuration.
const BootstrapKeyID = "bootstrap-admin"

// APIKeySecretPrefix starts every API key secret broker generates: the prefix of all of
// broker's secrets, which redaction looks for.
const APIKeySecretPrefix = redact.Prefix

//go:embed default.yaml
var defaultYAML []byte

// secretMarker in default.yaml is replaced by the bootstrap secret's SHA-256 hex.
var secretMarker = []byte("BOOTSTRAP_SECRET_SHA256")

// Default returns the embedded default configuration (in-memory store and key, a demo space,
// stack and integrations, an admin role) together with the secret of its bootstrap admin API key,
// freshly generated on each call. Only the secret's SHA-256 is in the Config.
func Default() (*Config, string, error) {
	secret, err := NewAPIKeySecret()
	if err != nil {
		return nil, "", err
	}
	if bytes.Count(defaultYAML, secretMarker) != 1 {
		return nil, "", fmt.Errorf("embedded default: want exactly one %s marker", secretMarker)
	}
	data := bytes.Replace(defaultYAML, secretMarker, []byte(HashAPIKeySecret(secret)), 1)
	cfg, err := Parse(DefaultSource, data)
	if err != nil {
		return nil, "", fmt.Errorf("embedded default configuration is invalid: %w", err)
	}
	return cfg, secret, nil
}

// NewAPIKeySecret returns a fresh API key secret: "brk_" and 43 characters of unpadded
// base64url encoding 32 random bytes.
func NewAPIKeySecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate API key secret: %w", err)
	}
	return APIKeySecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashAPIKeySecret returns the lowercase hex SHA-256 of secret, as api_keys[].secret_sha256
// stores it.
func HashAPIKeySecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
