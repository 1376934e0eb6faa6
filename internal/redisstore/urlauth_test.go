package redisstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestURLAuth: a server with a password is reached through a URL without one when URLAuth
// gives the password (store.redis.password_file beside url), and refused without it.
func TestURLAuth(t *testing.T) {
	const password = "s3cret-pw"
	srv := redistest.StartWith(t, redistest.Config{Args: []string{"--requirepass", password}})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		url  string
		auth redisstore.Auth
		ok   bool
	}{
		{"password in the URL", "redis://:" + password + "@" + srv.Addr() + "/0", redisstore.Auth{}, true},
		{"password beside the URL", srv.URL(), redisstore.Auth{Password: password}, true},
		{"user and password beside the URL", srv.URL(), redisstore.Auth{Username: "default", Password: password}, true},
		{"no password", srv.URL(), redisstore.Auth{}, false},
		{"a wrong password beside the URL", srv.URL(), redisstore.Auth{Password: "wrong"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := redisstore.Open(redisstore.Options{URL: tc.url, URLAuth: tc.auth, Prefix: "urlauth:"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Ping(ctx)
			if tc.ok != (err == nil) {
				t.Fatalf("Ping = %v, want success %v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), password) {
				t.Errorf("the error holds the password: %v", err)
			}
		})
	}
}
