package redisstore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// KeyEncryptionKeySize is the size in bytes of a key encryption key (AES-256).
const KeyEncryptionKeySize = 32

// kekIDLabel separates the key id's hash from any other use of the key.
const kekIDLabel = "broker keyset key id\x00"

// ErrInvalidKeyEncryptionKey is wrapped by the errors of NewKeyEncryptionKey and
// ParseKeyEncryptionKey. They never quote the key.
var ErrInvalidKeyEncryptionKey = errors.New("redisstore: invalid key encryption key")

// KeyEncryptionKey encrypts the key set at rest in Redis with AES-256-GCM. It lives outside
// Redis (a file or an environment variable named by the configuration), so that whoever can read
// Redis cannot sign tokens. Its ID, stored beside the ciphertext, tells a key set encrypted under
// another key apart from a corrupted one.
type KeyEncryptionKey struct {
	aead cipher.AEAD
	id   string
}

// NewKeyEncryptionKey returns the key encryption key made of secret, which must be
// KeyEncryptionKeySize random bytes. The caller may clear secret afterwards.
func NewKeyEncryptionKey(secret []byte) (*KeyEncryptionKey, error) {
	if len(secret) != KeyEncryptionKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidKeyEncryptionKey, len(secret), KeyEncryptionKeySize)
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKeyEncryptionKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKeyEncryptionKey, err)
	}
	h := sha256.New()
	h.Write([]byte(kekIDLabel))
	h.Write(secret)
	return &KeyEncryptionKey{aead: aead, id: hex.EncodeToString(h.Sum(nil)[:8])}, nil
}

// ParseKeyEncryptionKey returns the key encryption key written in text: the standard base64
// (with padding) of KeyEncryptionKeySize random bytes, as `openssl rand -base64 32` prints it.
// White space around it (a final newline) is ignored.
func ParseKeyEncryptionKey(text []byte) (*KeyEncryptionKey, error) {
	trimmed := bytes.TrimSpace(text)
	secret := make([]byte, base64.StdEncoding.DecodedLen(len(trimmed)))
	defer clear(secret)
	n, err := base64.StdEncoding.Strict().Decode(secret, trimmed)
	if err != nil {
		// base64 errors give an offset, never the input.
		return nil, fmt.Errorf("%w: not standard base64 (generate one with `openssl rand -base64 32`)", ErrInvalidKeyEncryptionKey)
	}
	if n != KeyEncryptionKeySize {
		return nil, fmt.Errorf("%w: it decodes to %d bytes, want %d (generate one with `openssl rand -base64 32`)",
			ErrInvalidKeyEncryptionKey, n, KeyEncryptionKeySize)
	}
	return NewKeyEncryptionKey(secret[:n])
}

// ID identifies the key without revealing it: the hex of the first 8 bytes of the SHA-256 of a
// fixed label followed by the key.
func (k *KeyEncryptionKey) ID() string { return k.id }

// keySetAAD is the additional data authenticated with a sealed key set: the format, the Redis
// key holding it and its generation, so that a ciphertext moved to another key or given another
// generation does not open.
func keySetAAD(redisKey string, generation int64) []byte {
	return []byte("broker keyset format " + strconv.Itoa(keySetFormat) + "\x00" + redisKey + "\x00" +
		strconv.FormatInt(generation, 10))
}

// seal encrypts plaintext under a fresh random 96-bit nonce.
func (k *KeyEncryptionKey) seal(plaintext, aad []byte) (nonce, ciphertext []byte, err error) {
	nonce = make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, fmt.Errorf("redisstore: draw a nonce: %w", err)
	}
	return nonce, k.aead.Seal(nil, nonce, plaintext, aad), nil
}

// open decrypts and authenticates a sealed key set; ok is false when it was changed, or sealed
// with other additional data.
func (k *KeyEncryptionKey) open(nonce, ciphertext, aad []byte) (plaintext []byte, ok bool) {
	if len(nonce) != k.aead.NonceSize() {
		return nil, false
	}
	plaintext, err := k.aead.Open(nil, nonce, ciphertext, aad)
	return plaintext, err == nil
}
