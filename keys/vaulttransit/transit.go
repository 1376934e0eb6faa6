package vaulttransit

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"
	"strconv"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/keys"
)

// MinKeyTimeout is the least bound of a call that makes Vault create a key or key version: RSA
// key generation can take seconds on a busy Vault, and no request waits on it.
const MinKeyTimeout = 30 * time.Second

// transitType is the Transit key type of each algorithm.
var transitType = map[string]string{keys.RS256: "rsa-2048", keys.ES256: "ecdsa-p256"}

// keyInfo is what GET <mount>/keys/<name> tells of a Transit key.
type keyInfo struct {
	typ      string
	latest   int
	versions []version // ascending
	// exportable and plaintextBackup are the settings of the same names (see ErrExportable).
	exportable, plaintextBackup bool
}

// version is one Transit key version.
type version struct {
	version int
	created time.Time
	pub     crypto.PublicKey
}

func (b *Backend) keyPath(name string) string { return b.cfg.Mount + "/keys/" + name }

// readKey reads a Transit key; nil when it does not exist. It notes the key's settings (see
// usable) and fails with ErrExportable when they let its private halves leave Vault.
func (b *Backend) readKey(ctx context.Context, name string) (*keyInfo, error) {
	var sec *vaultapi.Secret
	err := b.call(ctx, "read Transit key "+name, func(ctx context.Context) (err error) {
		sec, err = b.vc.Logical().ReadWithContext(ctx, b.keyPath(name))
		return err
	})
	if err != nil {
		return nil, err
	}
	if sec == nil || sec.Data == nil {
		return nil, nil
	}
	info, err := parseKeyInfo(name, sec.Data)
	if err != nil {
		return nil, err
	}
	if err := b.note(name, info); err != nil {
		return nil, err
	}
	return info, nil
}

// parseKeyInfo parses the data of a Transit key read.
func parseKeyInfo(name string, data map[string]any) (*keyInfo, error) {
	info := &keyInfo{exportable: setting(data, "exportable"), plaintextBackup: setting(data, "allow_plaintext_backup")}
	info.typ, _ = data["type"].(string)
	latest, err := number(data["latest_version"])
	if err != nil {
		return nil, fmt.Errorf("vaulttransit: Transit key %s: latest_version: %w", name, err)
	}
	info.latest = latest
	versions, _ := data["keys"].(map[string]any)
	for v, raw := range versions {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("vaulttransit: Transit key %s: version %q is not a number", name, v)
		}
		entry, _ := raw.(map[string]any)
		pemText, _ := entry["public_key"].(string)
		pub, err := parsePublic(pemText)
		if err != nil {
			return nil, fmt.Errorf("vaulttransit: Transit key %s version %d: %w", name, n, err)
		}
		created, _ := entry["creation_time"].(string)
		ct, err := time.Parse(time.RFC3339Nano, created)
		if err != nil {
			return nil, fmt.Errorf("vaulttransit: Transit key %s version %d: creation_time %q: %w", name, n, created, err)
		}
		info.versions = append(info.versions, version{version: n, created: ct, pub: pub})
	}
	slices.SortFunc(info.versions, func(a, b version) int { return a.version - b.version })
	return info, nil
}

// setting reports whether the boolean setting key of a Transit key read is on: true, or present
// with any value but false (an answer broker cannot read does not pass for a key that stays in
// Vault).
func setting(data map[string]any, key string) bool {
	v, ok := data[key]
	if !ok {
		return false
	}
	on, isBool := v.(bool)
	return on || !isBool
}

// parsePublic parses a PEM public key of an RSA or P-256 Transit key.
func parsePublic(text string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, fmt.Errorf("no PEM public key (is the key asymmetric?)")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return p, nil
	case *ecdsa.PublicKey:
		if p.Curve == elliptic.P256() {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: public key type %T", keys.ErrUnsupportedAlg, pub)
}

// number reads a JSON number Vault sent (json.Number with the Vault client's decoder).
func number(v any) (int, error) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err
	case float64:
		return int(n), nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

// newVersion returns a key version nobody signs with yet: version 1 of a Transit key it creates,
// or a new version of an existing key of the right type.
func (b *Backend) newVersion(ctx context.Context, name, alg string) (int, error) {
	info, err := b.readKey(ctx, name)
	if err != nil {
		return 0, err
	}
	if info == nil {
		err := b.callWithin(ctx, "create Transit key "+name, max(b.cfg.Timeout, MinKeyTimeout), func(ctx context.Context) error {
			_, err := b.vc.Logical().WriteWithContext(ctx, b.keyPath(name), map[string]any{"type": transitType[alg]})
			return err
		})
		if err != nil {
			return 0, err
		}
		if info, err = b.readKey(ctx, name); err != nil {
			return 0, err
		}
		if info == nil {
			return 0, fmt.Errorf("vaulttransit: Transit key %s/keys/%s is missing right after its creation", b.cfg.Mount, name)
		}
		return info.latest, b.checkType(name, alg, info)
	}
	if err := b.checkType(name, alg, info); err != nil {
		return 0, err
	}
	var sec *vaultapi.Secret
	err = b.callWithin(ctx, "rotate Transit key "+name, max(b.cfg.Timeout, MinKeyTimeout), func(ctx context.Context) (err error) {
		sec, err = b.vc.Logical().WriteWithContext(ctx, b.keyPath(name)+"/rotate", nil)
		return err
	})
	if err != nil {
		return 0, err
	}
	if sec != nil && sec.Data != nil {
		// Vault answers with the key as rotated, under the key's lock: latest_version is ours.
		if rotated, err := parseKeyInfo(name, sec.Data); err == nil && rotated.latest > info.latest {
			if err := b.note(name, rotated); err != nil {
				return 0, err
			}
			for _, v := range rotated.versions {
				b.pubs.Store(ref{name, v.version}, v.pub)
			}
			return rotated.latest, nil
		}
	}
	if info, err = b.readKey(ctx, name); err != nil {
		return 0, err
	}
	return info.latest, nil
}

// checkType fails unless the Transit key has the type alg needs.
func (b *Backend) checkType(name, alg string, info *keyInfo) error {
	if info.typ != transitType[alg] {
		return fmt.Errorf("vaulttransit: Transit key %s/keys/%s has type %q; %s needs %q",
			b.cfg.Mount, name, info.typ, alg, transitType[alg])
	}
	return nil
}
