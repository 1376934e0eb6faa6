package catalog

import "testing"

// TestSeenRecordReadsAsATombstone: the record of the file as seen reads, to a replica that
// predates it, as a tombstone (which it skips) rather than an object of an unknown kind (which
// would stop its refreshes during a rolling upgrade); this replica reads it back whole.
func TestSeenRecordReadsAsATombstone(t *testing.T) {
	seen := fileSeen{Stacks: map[string]string{"api": "prod"}, Spaces: map[string]string{"prod": "root"}, APIKeys: []string{"ops"}}
	body := encodeSeen(seen)
	if _, tombstone := readTombstone(body); !tombstone {
		t.Errorf("the record's body %q does not read as a tombstone", body)
	}
	back, err := decodeSeen(body)
	if err != nil || !back.equal(seen) {
		t.Errorf("decodeSeen(%q) = %+v, %v; want %+v", body, back, err, seen)
	}
}
