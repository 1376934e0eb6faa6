package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func splitJWT(t *testing.T, token string) []string {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	return parts
}

func jsonUnmarshal(s string, out any) error { return json.Unmarshal([]byte(s), out) }
