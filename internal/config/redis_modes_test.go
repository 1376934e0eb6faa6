package config

import (
	"strings"
	"testing"
)

// TestRedisModes accepts store.redis with exactly one of url, sentinel and cluster, well
// formed, and refuses every other shape with all its problems at once, naming hosts and files
// but never a password.
func TestRedisModes(t *testing.T) {
	src := func(redis string) string {
		return iss + "store: {redis: " + redis + "}\nkeys: {backend: file, dir: /k}\n"
	}
	for _, ok := range []string{
		`{sentinel: {master: mymaster, addrs: ["127.0.0.1:26379", "[::1]:26380", "localhost:26381"]}}`,
		`{sentinel: {master: m, addrs: ["sentinel-0.internal:26379"], db: 2, password_file: /run/s}, tls: true, password_file: /run/p, username: broker}`,
		`{cluster: {addrs: ["127.0.0.1:7000", "127.0.0.1:7001"]}}`,
		`{cluster: {addrs: ["redis-0.internal:6379"]}, tls: true, username: broker, password_file: /run/p}`,
		// Beside url, username and password_file stand in for the URL's own.
		`{url: "rediss://redis.example.com:6379/0", username: broker, password_file: /run/p}`,
		`{url: "rediss://broker@redis.example.com:6379/0", password_file: /run/p}`,
	} {
		t.Run(ok, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(src(ok)))
			if err != nil {
				t.Fatalf("Parse() = %v, want it accepted", err)
			}
			if r := cfg.Store.Redis; r.URL == "" && r.Sentinel == nil && r.Cluster == nil {
				t.Errorf("decoded %+v: no url, sentinel or cluster", r)
			}
		})
	}
	for _, tc := range []struct {
		redis string
		want  []string
	}{
		{`{}`, []string{"store.redis.url: required when store.redis is set (redis://host:port/db), unless sentinel " +
			"({master, addrs}) or cluster ({addrs}) is set instead"}},
		{`{url: "redis://127.0.0.1:6379", cluster: {addrs: ["127.0.0.1:7000"]}}`,
			[]string{"store.redis: url, sentinel and cluster exclude each other; set exactly one"}},
		{`{sentinel: {master: m, addrs: ["127.0.0.1:26379"]}, cluster: {addrs: ["127.0.0.1:7000"]}}`,
			[]string{"store.redis: url, sentinel and cluster exclude each other"}},
		{`{sentinel: {addrs: []}}`, []string{
			"store.redis.sentinel.master: required", "store.redis.sentinel.addrs: required: at least one host:port"}},
		{`{sentinel: {master: m, db: -1, addrs: ["10.0.0.5:26379", "127.0.0.1", "127.0.0.1:0", ":26379", "127.0.0.1:1", "127.0.0.1:1"]}}`, []string{
			`store.redis.sentinel.db: database -1 is negative`,
			`store.redis.sentinel.addrs[0]: plain redis to "10.0.0.5" carries the password and every run in clear; set store.redis.tls: true off a loopback host`,
			`store.redis.sentinel.addrs[1]: "127.0.0.1" is not host:port`,
			`store.redis.sentinel.addrs[2]: "127.0.0.1:0" has an invalid port "0"`,
			`store.redis.sentinel.addrs[3]: ":26379" has no host`,
			`store.redis.sentinel.addrs[5]: "127.0.0.1:1" is listed twice`,
		}},
		{`{cluster: {addrs: ["redis-0.internal:6379", "redis-1.internal:99999"]}}`, []string{
			`store.redis.cluster.addrs[0]: plain redis to "redis-0.internal"`,
			`store.redis.cluster.addrs[1]: "redis-1.internal:99999" has an invalid port`,
			`store.redis.cluster.addrs[1]: plain redis to "redis-1.internal"`,
		}},
		{`{cluster: {}}`, []string{"store.redis.cluster.addrs: required"}},
		{`{url: "redis://broker:s3cret-pw@127.0.0.1:6379", username: u, password_file: /p, tls: true}`, []string{
			"store.redis.username: the url names a user too; give it in one place only",
			"store.redis.password_file: the url holds a password too; give it in one place only",
			"store.redis.tls: applies to sentinel and cluster; with url, use rediss:// for TLS",
		}},
		{`{cluster: {addrs: ["127.0.0.1:7000"], password: s3cret-pw}}`, []string{"store.redis.cluster.password"}},
	} {
		t.Run(tc.redis, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(src(tc.redis)))
			if err == nil {
				t.Fatalf("Parse() accepted it; want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse() = %v\nwant it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("the error echoes a password: %v", err)
			}
		})
	}
}
