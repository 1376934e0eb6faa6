package vault

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// TestProxyURLWithheld: the Vault client reads VAULT_PROXY_ADDR from the environment, and
// fails on one it cannot parse with an error quoting it, its password with it; the exchange's
// error, which reaches the audit trail and the logs, says only that a URL is not valid.
func TestProxyURLWithheld(t *testing.T) {
	t.Setenv("VAULT_PROXY_ADDR", "http://ci:Pr0xyPassw0rd%zz@proxy.example.com:3128")
	_, err := New(Options{}).client(&config.Vault{Address: "http://127.0.0.1:8200"}, time.Second)
	if err == nil {
		t.Fatal("a proxy URL that does not parse is accepted")
	}
	if strings.Contains(err.Error(), "Pr0xy") || strings.Contains(err.Error(), "%zz") || !errors.Is(err, config.ErrURLWithheld) {
		t.Errorf("error %q: want config.ErrURLWithheld, the URL not quoted", err)
	}
}
