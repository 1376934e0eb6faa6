package catalog_test

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
)

// TestLiveStale: a catalog no store backs is never stale; one confirmed current is stale once
// longer than max has passed since.
func TestLiveStale(t *testing.T) {
	l := catalog.NewLive(nil)
	if age := l.Stale(0); age != 0 {
		t.Errorf("never confirmed: Stale = %v, want 0", age)
	}
	l.Confirm(catalog.StartReading())
	if age := l.Stale(time.Hour); age != 0 {
		t.Errorf("just confirmed: Stale(1h) = %v, want 0", age)
	}
	time.Sleep(5 * time.Millisecond)
	if age := l.Stale(time.Millisecond); age < 5*time.Millisecond {
		t.Errorf("confirmed 5ms ago: Stale(1ms) = %v, want at least 5ms", age)
	}
}
