package redact

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/logging"
)

// rawToken is a named byte slice: slog's text handler writes it as a quoted string (its
// byteSlice check follows the kind, not the type), its JSON handler as base64.
type rawToken []byte

// TestNamedByteSliceTextHandler: the text handler (--log-format text) writes a named byte
// slice's bytes as a string, so the secret in it is cut.
// Guards against: handler.go printed knowing []byte itself only.
func TestNamedByteSliceTextHandler(t *testing.T) {
	const secret = "brk_run_AbCdEf0123456789-_xyz"
	var out bytes.Buffer
	slog.New(NewHandler(slog.NewTextHandler(&out, nil))).Info("m", "body", rawToken(secret))
	if strings.Contains(out.String(), strings.TrimPrefix(secret, Prefix)) {
		t.Errorf("the text line carries the secret: %s", strings.TrimSpace(out.String()))
	}
}

// TestNamedByteSliceJSONHandler: the JSON handler would write it base64-encoded, the secret in
// the line, only encoded; it is written as text, cut.
// Guards against: handler.go printed knowing []byte itself only.
func TestNamedByteSliceJSONHandler(t *testing.T) {
	const secret = "brk_run_AbCdEf0123456789-_xyz"
	var out bytes.Buffer
	slog.New(NewHandler(logging.NewJSONHandler(&out))).Info("m", "body", rawToken(secret))
	if enc := base64.StdEncoding.EncodeToString([]byte(secret)); strings.Contains(out.String(), enc) {
		t.Errorf("the JSON line carries the secret base64-encoded (%s): %s", enc, strings.TrimSpace(out.String()))
	}
}

// TestNilStringerDoesNotPanic: slog's own handlers write a nil pointer whose String method
// dereferences its receiver as <nil> (they recover a form's panic); the redact handler does not
// turn a log call into a panic either.
// Guards against: handler.go printed calling String, Error and MarshalText unguarded.
func TestNilStringerDoesNotPanic(t *testing.T) {
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return logging.NewJSONHandler(b) },
	} {
		var plain, out bytes.Buffer
		slog.New(h(&plain)).Info("m", "issuer", (*url.URL)(nil)) // slog alone: no panic
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: logging a nil *url.URL through the redact handler panics: %v (slog alone writes %s)",
						name, r, strings.TrimSpace(plain.String()))
				}
			}()
			slog.New(NewHandler(h(&out))).Info("m", "issuer", (*url.URL)(nil))
		}()
	}
}
