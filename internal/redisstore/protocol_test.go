package redisstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestProtocol checks the RESP version broker's connections speak: RESP2 unless the redis URL
// names another (?protocol=3).
func TestProtocol(t *testing.T) {
	srv := redistest.Start(t)
	for _, c := range []struct {
		name, query, want string
	}{
		{"default", "", "resp=2"},
		{"named in the URL", "?protocol=3", "resp=3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "protocol-" + strings.ReplaceAll(c.name, " ", "-")
			sep := "?"
			if c.query != "" {
				sep = "&"
			}
			client, err := redisstore.Open(redisstore.Options{URL: srv.URL() + c.query + sep + "client_name=" + name})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer client.Close()
			ctx := context.Background()
			if err := client.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			list, err := srv.Client().ClientList(ctx).Result()
			if err != nil {
				t.Fatalf("CLIENT LIST: %v", err)
			}
			var line string
			for l := range strings.SplitSeq(list, "\n") {
				if strings.Contains(l, " name="+name+" ") {
					line = l
				}
			}
			if line == "" {
				t.Fatalf("no connection named %s in CLIENT LIST:\n%s", name, list)
			}
			if !strings.Contains(" "+line+" ", " "+c.want+" ") {
				t.Errorf("connection %s: want %s, got %s", name, c.want, line)
			}
		})
	}
}
