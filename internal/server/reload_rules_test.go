package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestReloadDetailBoundIs16KiB: the detail of a config.reload event (and the logged
// refusal) is at most 16 KiB however long the refusal is, and a detail of exactly 16 KiB is
// kept whole.
// Guards against: maxReloadDetail raised (16 << 10 -> 64 << 10)
func TestReloadDetailBoundIs16KiB(t *testing.T) {
	const bound = 16 << 10
	for _, tc := range []struct {
		name string
		in   string
		want int // length of the result, or -1 for "at most bound and cut"
	}{
		{"at 16 KiB", strings.Repeat("a", bound), bound},
		{"just past 16 KiB", strings.Repeat("a", bound+1), -1},
		{"64 KiB", strings.Repeat("a", 64<<10), -1},
	} {
		got := cutDetail(tc.in)
		switch {
		case tc.want >= 0 && len(got) != tc.want:
			t.Errorf("%s: cutDetail kept %d bytes, want %d", tc.name, len(got), tc.want)
		case tc.want < 0 && (len(got) > bound || !strings.HasSuffix(got, "bytes in all)")):
			t.Errorf("%s: cutDetail kept %d bytes (cut: %v), want at most %d and cut",
				tc.name, len(got), strings.HasSuffix(got, "bytes in all)"), bound)
		}
	}
}

// TestReloadSuccessEventBounded: the success event a reload records before its objects
// are in force carries its detail cut to maxReloadDetail, however many objects the file
// changed (the detail names each one).
// Guards against: reloadRecord.Before records r.detail uncut
func TestReloadSuccessEventBounded(t *testing.T) {
	srv, _, trail := unservedServer(t)
	detail := "configuration file objects reloaded: " + strings.Repeat("stack s-added, ", 8000)
	if err := (reloadRecord{s: srv, detail: detail}).Before(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	outcome, got := lastReload(t, trail)
	if len(got) > maxReloadDetail || !strings.HasSuffix(got, "bytes in all)") {
		t.Errorf("config.reload %s event carries %d bytes, want at most %d and cut", outcome,
			len(got), maxReloadDetail)
	}
}

// TestRefusedReloadLogBounded: the log line of a refused reload carries the refusal cut
// to maxReloadDetail, as the audit event does: a file's many problems do not make a huge line.
// Guards against: reloadCatalog logs err.Error() uncut
func TestRefusedReloadLogBounded(t *testing.T) {
	srv, _, _ := unservedServer(t)
	logs := &logBuffer{}
	srv.log = slog.New(slog.NewJSONHandler(logs, nil))
	huge := make(config.Errors, 0, 100)
	for range 100 {
		huge = append(huge, &config.FieldError{Source: "broker.yaml", Line: 3,
			Path: "spaces[0].id", Msg: "id \"" + strings.Repeat("A", 1000) + "\" is invalid"})
	}
	if err := srv.Reload(context.Background(), nil, huge); err == nil {
		t.Fatal("reload not refused")
	}
	var seen bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec struct{ Msg, Err string }
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "config reload refused" {
			continue
		}
		seen = true
		if len(rec.Err) > maxReloadDetail {
			t.Errorf("the refusal is logged with a %d-byte err, want at most %d", len(rec.Err),
				maxReloadDetail)
		}
	}
	if !seen {
		t.Fatalf("no \"config reload refused\" line in the log:\n%.500s", logs.String())
	}
}

// TestReloadCatalogDespiteRefusedCertificate: a reload whose new TLS pair is refused still
// puts the file's objects in force (the two are independent), and its error names the refused
// certificate.
// Guards against: Reload returns on a refused certificate without reloading the catalog
func TestReloadCatalogDespiteRefusedCertificate(t *testing.T) {
	ctx := context.Background()
	certFile, keyFile, _ := writeServingCert(t)
	cfg := tlsConfig(t, "127.0.0.1:8443", certFile, keyFile)
	srv, err := New(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer func() { _ = srv.Close() }()

	// A key file others may read: the new pair is refused.
	newServingPair(t, 7).install(t, certFile, keyFile, 0o644)
	yaml := "issuer: https://127.0.0.1:8443\ntls: {cert_file: \"" + certFile +
		"\", key_file: \"" + keyFile + "\"}\nspaces:\n  - id: root\n  - id: reload-added\n" +
		"    parent: root\n"
	next, err := config.Parse("tls.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	err = srv.Reload(ctx, next, nil)
	if err == nil || !strings.Contains(err.Error(), "tls certificate reload refused") {
		t.Errorf("Reload = %v, want the refused certificate named", err)
	}
	if err != nil && strings.Contains(err.Error(), "configuration reload refused") {
		t.Errorf("Reload = %v, the file's objects were refused too", err)
	}
	var found bool
	for _, sp := range srv.catalog.File().Spaces {
		found = found || sp.ID == "reload-added"
	}
	if !found {
		t.Error("the space the re-read file adds is not in force after a refused certificate")
	}
}

// TestStartRecordRefusesWithoutTrail: the changes of a file edited while no replica ran
// are not committed at start-up unless their config.reload event is recorded first: when the
// trail cannot be written, startRecord.Before returns an error (which stops the commit).
// Guards against: startRecord.Before ignores the trail's error
func TestStartRecordRefusesWithoutTrail(t *testing.T) {
	srv, _, trail := unservedServer(t)
	trail.down.Store(true)
	defer trail.down.Store(false)
	ch := catalog.StartChange{Added: []string{"stack fresh"}}
	if err := (startRecord{s: srv}).Before(context.Background(), ch); err == nil {
		t.Error("startRecord.Before = nil with the trail down, want the recording error")
	}
}
