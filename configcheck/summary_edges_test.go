package configcheck

import (
	"slices"
	"strings"
	"testing"
)

// TestSummaryWithoutOptionalFiles pins that PrivateFiles lists only files the
// configuration names: a key encryption key read from the environment and a webhook without a
// secret file add no (empty) path, and the webhook's SecretFile stays empty.
// Guards against: `r.EncryptionKeyFile != ""` dropped, check.go:summarize
// Guards against: `a.SecretFile != ""` dropped, check.go:summarize
func TestSummaryWithoutOptionalFiles(t *testing.T) {
	got, err := Check("broker.yaml", []byte("issuer: https://broker.example.com\n"+
		"store: {redis: {url: \"rediss://redis:6379/0\"}}\n"+
		"keys: {backend: redis, redis: {encryption_key_env: BROKER_KEK}}\n"+
		"audit: {sinks: [{name: siem, webhook: {url: \"https://siem.example.com/in\"}}]}\n"))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if len(got.PrivateFiles) != 0 {
		t.Errorf("PrivateFiles = %q, want none", got.PrivateFiles)
	}
	want := []AuditSink{{Name: "siem", Kind: "webhook", Target: "https://siem.example.com/in"}}
	if !slices.Equal(got.AuditSinks, want) {
		t.Errorf("AuditSinks = %+v, want %+v", got.AuditSinks, want)
	}
	if !got.SharedStore || got.KeyBackend != "redis" {
		t.Errorf("SharedStore %v KeyBackend %q, want true redis", got.SharedStore, got.KeyBackend)
	}
}

// TestStoreWithoutRedisIsNotShared pins that SharedStore needs store.redis: a store
// block naming no Redis shares nothing.
// Guards against: SharedStore from `cfg.Store != nil` alone, check.go:summarize
func TestStoreWithoutRedisIsNotShared(t *testing.T) {
	got, err := Check("broker.yaml", []byte("issuer: https://broker.example.com\nstore: {}\n"))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if got.SharedStore {
		t.Error("SharedStore is true for a store without redis")
	}
}

// TestErrorsNameTheChecker pins that Check's and CheckFile's errors start with
// "configcheck: ", so a caller's log says which tool refused the file.
// Guards against: Check returning config.Parse's error unwrapped, check.go:Check
// Guards against: CheckFile returning config.Load's error unwrapped, check.go:CheckFile
func TestErrorsNameTheChecker(t *testing.T) {
	_, err := Check("broker.yaml", []byte("listen: [a]\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "configcheck: ") {
		t.Errorf("Check = %v, want an error starting configcheck:", err)
	}
	_, err = CheckFile(t.TempDir() + "/missing.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "configcheck: ") {
		t.Errorf("CheckFile = %v, want an error starting configcheck:", err)
	}
}
