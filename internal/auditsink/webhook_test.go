package auditsink_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
)

func TestWebhookDelivery(t *testing.T) {
	var gotBody, gotSig, gotType string
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotSig, gotType = string(b), r.Header.Get(auditsink.SignatureHeader), r.Header.Get("Content-Type")
		if status == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", status)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	ctx := context.Background()
	events := []audit.Event{{ID: "a", Prev: ""}, {ID: "b", Prev: "x"}}

	wh := auditsink.NewWebhook(auditsink.WebhookConfig{URL: srv.URL + "/in", Secret: []byte("k")})
	if err := wh.Deliver(ctx, events); err != nil {
		t.Fatalf("2xx: %v", err)
	}
	if !strings.HasPrefix(gotBody, `{"events":[{"id":"a",`) || gotType != "application/json" {
		t.Errorf("body %s, type %q", gotBody, gotType)
	}
	// HMAC-SHA256 of "{}" under "k", computed independently (printf '{}' | openssl dgst -sha256 -hmac k).
	if s := auditsink.Sign([]byte("k"), []byte("{}")); s != "sha256=add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff" {
		t.Errorf("Sign = %s", s)
	}
	if gotSig != auditsink.Sign([]byte("k"), []byte(gotBody)) {
		t.Errorf("signature %q does not sign the body", gotSig)
	}
	for _, st := range []int{http.StatusInternalServerError, http.StatusBadRequest, http.StatusFound} {
		status = st
		if err := wh.Deliver(ctx, events); !errors.Is(err, auditsink.ErrRejected) {
			t.Errorf("status %d: err %v, want ErrRejected", st, err)
		}
	}
	status = http.StatusOK
	unsigned := auditsink.NewWebhook(auditsink.WebhookConfig{URL: srv.URL})
	if err := unsigned.Deliver(ctx, events); err != nil || gotSig != "" {
		t.Errorf("without a secret: %v, signature %q", err, gotSig)
	}
}

// A webhook URL's path may hold a token: errors never show it.
func TestWebhookErrorsHideTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens
	wh := auditsink.NewWebhook(auditsink.WebhookConfig{URL: "http://" + addr + "/hooks/T0K3N-s3cr3t"})
	err = wh.Deliver(context.Background(), []audit.Event{{ID: "a"}})
	if err == nil || strings.Contains(err.Error(), "T0K3N") {
		t.Fatalf("err = %v", err)
	}
}
