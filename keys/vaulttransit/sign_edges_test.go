package vaulttransit_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestSignRefusesOtherDigests pins that a Transit signer signs SHA-256 digests only: Sign
// with any other hash in its options, and SignJWS or Sign with a digest that is not 32 bytes,
// fail without a signature, for both algorithms (an ECDSA signature of a truncated longer digest
// would otherwise verify).
// Guards against: opts.HashFunc() != crypto.SHA256 check dropped in signer.go:Sign
// Guards against: len(digest) != sha256.Size check dropped in signer.go:sign
func TestSignRefusesOtherDigests(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	good := sha256.Sum256([]byte("header.payload"))
	long := sha512.Sum384([]byte("header.payload"))
	for _, alg := range []string{keys.ES256, keys.RS256} {
		t.Run(alg, func(t *testing.T) {
			b := newBackend(t, v, token, vaulttransit.Config{Alg: alg})
			k, err := b.Generate(ctx, alg, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			cs := k.Signer.(keys.ContextSigner)
			if _, err := cs.SignJWS(ctx, good[:]); err != nil {
				t.Fatalf("SignJWS of a SHA-256 digest: %v", err)
			}
			if sig, err := k.Signer.Sign(rand.Reader, good[:], crypto.SHA384); err == nil {
				t.Errorf("Sign with opts SHA-384 = %d bytes, nil; want an error", len(sig))
			}
			for _, d := range [][]byte{long[:], good[:20], nil} {
				if sig, err := cs.SignJWS(ctx, d); err == nil {
					t.Errorf("SignJWS of a %d-byte digest = %d bytes, nil; want an error", len(d), len(sig))
				}
				if sig, err := k.Signer.Sign(rand.Reader, d, crypto.SHA256); err == nil {
					t.Errorf("Sign of a %d-byte digest = %d bytes, nil; want an error", len(d), len(sig))
				}
			}
		})
	}
}

// sigEdit rewrites the signature bytes of every answer to a sign call (Vault's own
// signature, decoded from base64url) with edit, when set, and encodes them again in encoding
// (base64url, unpadded, when nil); it carries every call to Vault.
type sigEdit struct {
	edit     func(sig []byte) []byte
	encoding *base64.Encoding
}

func (p sigEdit) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.Contains(r.URL.Path, "/"+mount+"/sign/") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var answer map[string]any
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, err
	}
	data := answer["data"].(map[string]any)
	text := data["signature"].(string)
	i := strings.LastIndex(text, ":")
	sig, err := base64.RawURLEncoding.DecodeString(text[i+1:])
	if err != nil {
		return nil, err
	}
	if p.edit != nil {
		sig = p.edit(sig)
	}
	enc := p.encoding
	if enc == nil {
		enc = base64.RawURLEncoding
	}
	data["signature"] = text[:i+1] + enc.EncodeToString(sig)
	if body, err = json.Marshal(answer); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// TestES256SignatureOfWrongLengthRefused pins that an ES256 JWS signature is accepted from
// Vault only as exactly r||s of 32 bytes each: an answer of 65 bytes whose extra zero byte leaves
// s's value unchanged (r || 0x00 || s) is refused, since no relying party verifies it.
// Guards against: len(sig) != 2*size loosened to len(sig) < 2*size in signer.go:verifies
func TestES256SignatureOfWrongLengthRefused(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Transport: sigEdit{edit: func(sig []byte) []byte {
		if len(sig) != 64 {
			return sig
		}
		return append(append(append([]byte{}, sig[:32]...), 0), sig[32:]...)
	}}})
	k, err := b.Generate(ctx, keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	if sig, err := k.Signer.(keys.ContextSigner).SignJWS(ctx, digest[:]); err == nil {
		t.Fatalf("SignJWS accepted a %d-byte ES256 signature, want an error", len(sig))
	}
}

// emptySign answers every sign call with 204 No Content (no signature), as a proxy in
// Vault's stead may, and carries every other call to Vault.
type emptySign struct{}

func (emptySign) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/"+mount+"/sign/") {
		return &http.Response{StatusCode: http.StatusNoContent, Status: "204 No Content", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestNoSignatureAnswerFails pins that a sign call Vault answers without any data (204) fails with
// keys.ErrUnavailable, never returning an empty signature a token would carry.
// Guards against: the `sec == nil || sec.Data == nil` failure replaced by `return nil, nil` in
// signer.go:sign
func TestNoSignatureAnswerFails(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Transport: emptySign{}})
	k, err := b.Generate(ctx, keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	sig, err := k.Signer.(keys.ContextSigner).SignJWS(ctx, digest[:])
	if !errors.Is(err, keys.ErrUnavailable) || len(sig) != 0 {
		t.Fatalf("SignJWS with Vault answering 204 = %d bytes, %v; want no signature and keys.ErrUnavailable", len(sig), err)
	}
}
