package vaulttransit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// A renewable token with a short TTL stays valid past that TTL while the backend runs: it
// renews it (lookup-self shows a renewal), and still signs after the original TTL.
func TestTokenRenewed(t *testing.T) {
	v := vaulttest.Start(t)
	v.EnableTransit(t, mount)
	const ttl = 4 * time.Second
	token := v.TransitToken(t, mount, "broker-", vaulttest.TokenOptions{TTL: ttl, Renewable: true})
	b := newBackend(t, v, token, vaulttransit.Config{})
	k, err := b.Generate(context.Background(), keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl + 2*time.Second)
	keystest.SignAndVerify(t, keys.ES256, k.Signer, k.Public())

	c := v.Client()
	c.SetToken(token)
	sec, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("lookup-self after the original TTL: %v (the token was not renewed)", err)
	}
	if last, _ := sec.Data["last_renewal_time"].(json.Number); last == "" || last == "0" {
		t.Fatalf("lookup-self shows no renewal: %v", sec.Data)
	}
	if remaining, _ := sec.Data["ttl"].(json.Number).Int64(); remaining <= 0 {
		t.Fatalf("token ttl %d after renewal", remaining)
	}
}

// A token that is not renewable is used as it is, and New refuses a token Vault does not know.
func TestTokenChecks(t *testing.T) {
	v := vaulttest.Start(t)
	v.EnableTransit(t, mount)
	token := v.TransitToken(t, mount, "broker-", vaulttest.TokenOptions{TTL: time.Hour})
	b := newBackend(t, v, token, vaulttransit.Config{})
	if _, err := b.Generate(context.Background(), keys.RS256, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: v.Addr(), Mount: mount, Key: uniqueKey(), Token: "hvs.not-a-token",
	})
	if err == nil || !strings.Contains(err.Error(), "Vault answered 403") {
		t.Fatalf("New with an unknown token = %v, want Vault's 403", err)
	}
	if _, err := vaulttransit.New(context.Background(), vaulttransit.Config{Address: v.Addr(), Mount: mount, Key: "k"}); err == nil {
		t.Fatal("New without a token succeeded")
	}
}
