package gcpemu

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Tokens are opaque to callers but self-contained: their content is sealed with AES-GCM under
// a key drawn when the Emulator is created, so the emulator keeps no token table and a token
// from another emulator instance, a tampered one or one of the other kind is refused.
// The additional data binds a token to its kind.
var (
	federatedTokens = tokenKind{
		name:   "sts-federated",
		prefix: "gcpemu.sts.", // the emulator's own marker for STS tokens
	}
	accessTokens = tokenKind{
		name:   "iam-access",
		prefix: "ya29.", // mimics the look of Google OAuth access tokens
	}
)

// tokenKind is one kind of token the sealer seals and opens: the prefix its tokens start with and
// the additional data that binds a token to the kind.
type tokenKind struct {
	// name names the kind in errors and is the AES-GCM additional data of its tokens, which
	// binds each token to its kind.
	name string
	// prefix starts every token of the kind, before its base64url-encoded sealed content.
	prefix string
}

var errBadToken = errors.New("token is not valid")

// federated is what an STS token carries.
type federated struct {
	Provider string            `json:"p"`
	Audience string            `json:"a"`
	Attrs    map[string]string `json:"at"`
	Scopes   []string          `json:"sc"`
	Expires  int64             `json:"exp"`
}

// TokenInfo describes an access token minted by generateAccessToken.
type TokenInfo struct {
	ServiceAccount string    `json:"sa"`
	Scopes         []string  `json:"sc"`
	ExpiresAt      time.Time `json:"exp"`
	// Subject is the google.subject of the federated identity that asked for it.
	Subject string `json:"sub"`
}

type sealer struct {
	aead cipher.AEAD
}

func newSealer() sealer {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(fmt.Sprintf("gcpemu: random key: %v", err))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(fmt.Sprintf("gcpemu: cipher: %v", err))
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("gcpemu: gcm: %v", err))
	}
	return sealer{aead: aead}
}

// seal returns a token of kind holding v's JSON.
func (s sealer) seal(kind tokenKind, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", kind.name, err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal %s: %w", kind.name, err)
	}
	sealed := s.aead.Seal(nonce, nonce, plain, []byte(kind.name))
	return kind.prefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open reads into v the content of token, a token of kind that s sealed; any other token is
// refused with errBadToken.
func (s sealer) open(kind tokenKind, token string, v any) error {
	body, ok := strings.CutPrefix(token, kind.prefix)
	if !ok {
		return errBadToken
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body) // one spelling per token, as an opaque token has
	if err != nil || len(raw) < s.aead.NonceSize() {
		return errBadToken
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(kind.name))
	if err != nil {
		return errBadToken
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return errBadToken
	}
	return nil
}
