package server

import (
	"errors"
	"fmt"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/keys"
)

// keyEncryptionKey reads the key that encrypts the key set in Redis from where keys.redis says:
// a file (which must be mode 0600 and owned by the user broker runs as) or an environment
// variable, looked up with lookupEnv. Errors name the file or variable, never the key.
func keyEncryptionKey(r *config.KeysRedis, lookupEnv func(string) (string, bool)) (*redisstore.KeyEncryptionKey, error) {
	switch {
	case r == nil:
		return nil, errors.New("keys.redis: the redis key backend needs encryption_key_file or encryption_key_env")
	case r.EncryptionKeyFile != "":
		data, err := keys.ReadPrivateFile(r.EncryptionKeyFile)
		if err != nil {
			return nil, fmt.Errorf("keys.redis.encryption_key_file: %w", err)
		}
		defer clear(data)
		kek, err := redisstore.ParseKeyEncryptionKey(data)
		if err != nil {
			return nil, fmt.Errorf("keys.redis.encryption_key_file %s: %w", r.EncryptionKeyFile, err)
		}
		return kek, nil
	case r.EncryptionKeyEnv != "":
		text, ok := lookupEnv(r.EncryptionKeyEnv)
		if !ok || text == "" {
			return nil, fmt.Errorf("keys.redis.encryption_key_env: environment variable %s is not set", r.EncryptionKeyEnv)
		}
		kek, err := redisstore.ParseKeyEncryptionKey([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("keys.redis.encryption_key_env %s: %w", r.EncryptionKeyEnv, err)
		}
		return kek, nil
	default:
		return nil, errors.New("keys.redis: set encryption_key_file or encryption_key_env")
	}
}
