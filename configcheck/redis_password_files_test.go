package configcheck

import (
	"slices"
	"testing"
)

// Summary.PrivateFiles lists the files broker reads under the private-file rule at start-up
// (mode 0600 or stricter, owned by broker's user): store.redis.password_file and
// store.redis.sentinel.password_file are read under it, so both are among them, as the key
// encryption key file is.
func TestSummaryNamesRedisPasswordFiles(t *testing.T) {
	const head = "issuer: https://broker.example.com\n" +
		"keys: {backend: redis, redis: {encryption_key_file: /run/broker/kek}}\n"
	for _, tc := range []struct{ name, store, want string }{
		{"url", "store: {redis: {url: \"rediss://redis:6379/0\", " +
			"password_file: /run/broker/redis-pw}}\n", "/run/broker/redis-pw"},
		{"sentinel", "store: {redis: {tls: true, password_file: /run/broker/redis-pw, " +
			"sentinel: {master: m, addrs: [\"s1:26379\"], password_file: /run/broker/sentinel-pw}}}\n",
			"/run/broker/sentinel-pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, err := Check("broker.yaml", []byte(head+tc.store))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(sum.PrivateFiles, tc.want) {
				t.Errorf("PrivateFiles = %q, want %s among them", sum.PrivateFiles, tc.want)
			}
		})
	}
}
