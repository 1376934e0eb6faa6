package server

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/config"
)

// TestRefusedReloadEventBounded: a refused reload's audit event carries the refusal cut to
// maxReloadDetail, saying it was cut, whatever the error it refuses: a file's problems quote
// their values, and an event is stored, chained and sent to every sink.
func TestRefusedReloadEventBounded(t *testing.T) {
	ts := startServer(t, serverOptions{})
	huge := make(config.Errors, 0, 200)
	for range 200 {
		huge = append(huge, &config.FieldError{Source: "broker.yaml", Line: 3, Path: "spaces[0].labels[0]",
			Msg: "label \"" + strings.Repeat("A", 1000) + "\" must match"})
	}
	if err := ts.srv.Reload(context.Background(), nil, huge); err == nil {
		t.Fatal("reload not refused")
	}
	for _, e := range auditEvents(t, ts, "root", 100) {
		if e.Action == "config.reload" && e.Outcome == "denied" {
			if n := len(e.Detail); n > maxReloadDetail {
				t.Errorf("the refused reload's audit event carries a %d-byte detail", n)
			}
			if !strings.Contains(e.Detail, "configuration reload refused") || !strings.Contains(e.Detail, "bytes in all)") {
				t.Errorf("detail does not say what was refused and that it was cut: %.200s ... %s",
					e.Detail, e.Detail[max(0, len(e.Detail)-100):])
			}
			return
		}
	}
	t.Fatal("no config.reload refusal in the trail")
}

// TestCutDetail: cutDetail keeps a short detail whole and cuts a long one to maxReloadDetail
// bytes on a character boundary, saying how long it was.
func TestCutDetail(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		cut      bool
	}{
		{"short", "configuration file objects reloaded: none changed", false},
		{"at the bound", strings.Repeat("a", maxReloadDetail), false},
		{"past the bound", strings.Repeat("a", maxReloadDetail+1), true},
		{"multi-byte", strings.Repeat("é", maxReloadDetail), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cutDetail(tc.in)
			switch {
			case !tc.cut && got != tc.in:
				t.Errorf("cut a detail of %d bytes", len(tc.in))
			case tc.cut && (len(got) > maxReloadDetail || !strings.HasSuffix(got, "bytes in all)")):
				t.Errorf("cut to %d bytes, ending %q", len(got), got[max(0, len(got)-40):])
			case !utf8.ValidString(got):
				t.Error("a character was split")
			}
		})
	}
}
