package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/redis/go-redis/v9"
)

// needle is one encoding of some private key material to look for.
type needle struct {
	what  string
	bytes []byte
}

// exportedSecrets exports every version of the Transit keys names (which must be exportable)
// and returns every encoding of their private material a leak could take: the PEM as Vault
// exports it, its DER, the PKCS #8 DER, each in raw, base64, base64url and hex form, and the
// private scalars (ECDSA d; RSA d, p, q) the same ways.
func exportedSecrets(t *testing.T, root *vaultapi.Client, mount string, names ...string) []needle {
	t.Helper()
	var out []needle
	add := func(what string, b []byte) {
		out = append(out, needle{what, b},
			needle{what + " base64", []byte(base64.StdEncoding.EncodeToString(b))},
			needle{what + " base64 unpadded", []byte(base64.RawStdEncoding.EncodeToString(b))},
			needle{what + " base64url", []byte(base64.RawURLEncoding.EncodeToString(b))},
			needle{what + " hex", []byte(hex.EncodeToString(b))})
	}
	for _, name := range names {
		sec, err := root.Logical().ReadWithContext(context.Background(), mount+"/export/signing-key/"+name)
		if err != nil || sec == nil {
			t.Fatalf("export %s: %v", name, err)
		}
		versions, _ := sec.Data["keys"].(map[string]any)
		if len(versions) == 0 {
			t.Fatalf("export %s: no keys in %v", name, sec.Data)
		}
		for v, raw := range versions {
			text, _ := raw.(string)
			what := name + " v" + v
			block, _ := pem.Decode([]byte(text))
			if block == nil {
				t.Fatalf("export %s: not PEM", what)
			}
			out = append(out, needle{what + " PEM", []byte(strings.TrimSpace(text))})
			add(what+" DER", block.Bytes)
			var priv any
			if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
				priv = k
			} else if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
				priv = k
			} else if priv, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
				t.Fatalf("export %s: unknown private key form %q", what, block.Type)
			}
			p8, err := x509.MarshalPKCS8PrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			add(what+" PKCS8", p8)
			switch k := priv.(type) {
			case *ecdsa.PrivateKey:
				d, err := k.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				add(what+" d", d)
			case *rsa.PrivateKey:
				for i, n := range []*big.Int{k.D, k.Primes[0], k.Primes[1]} {
					add(what+" "+[]string{"d", "p", "q"}[i], n.Bytes())
				}
			default:
				t.Fatalf("export %s: key type %T", what, priv)
			}
		}
	}
	return out
}

// leaks returns the needles found in data.
func leaks(data []byte, needles []needle) []string {
	var found []string
	for _, n := range needles {
		if bytes.Contains(data, n.bytes) {
			found = append(found, n.what)
		}
	}
	return found
}

// filesHolding returns "file: needle" for every regular file under dir holding a needle.
func filesHolding(t *testing.T, dir string, needles []needle) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil // a file vanishing during the walk is no leak
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, what := range leaks(data, needles) {
			found = append(found, path+": "+what)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// redisHolding returns "key: needle" for every Redis value holding a needle, of any type.
func redisHolding(t *testing.T, rdb *redis.Client, needles []needle) []string {
	t.Helper()
	ctx := context.Background()
	var found []string
	iter := rdb.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		var values []string
		switch typ := rdb.Type(ctx, key).Val(); typ {
		case "string":
			values = []string{rdb.Get(ctx, key).Val()}
		case "hash":
			for f, v := range rdb.HGetAll(ctx, key).Val() {
				values = append(values, f, v)
			}
		case "list":
			values = rdb.LRange(ctx, key, 0, -1).Val()
		case "set":
			values = rdb.SMembers(ctx, key).Val()
		case "zset":
			values = rdb.ZRange(ctx, key, 0, -1).Val()
		case "stream":
			for _, m := range rdb.XRange(ctx, key, "-", "+").Val() {
				for f, v := range m.Values {
					values = append(values, f, toString(v))
				}
			}
		default:
			t.Fatalf("redis key %s of type %s not searched", key, typ)
		}
		for _, v := range values {
			for _, what := range leaks([]byte(v), needles) {
				found = append(found, key+": "+what)
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return found
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}
