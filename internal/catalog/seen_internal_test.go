package catalog

import (
	"reflect"
	"testing"
)

// TestSeenRecordReadsAsATombstone: the record of the file as seen reads, to a replica that
// predates it, as a tombstone (which it skips) rather than an object of an unknown kind (which
// would stop its refreshes during a rolling upgrade); this replica reads it back whole.
func TestSeenRecordReadsAsATombstone(t *testing.T) {
	seen := fileSeen{Stacks: map[string]string{"api": "prod"}, Spaces: map[string]string{"prod": "root"}, APIKeys: map[string]string{"ops": keyPrint("ab")}}
	body := encodeSeen(seen)
	if _, tombstone := readTombstone(body); !tombstone {
		t.Errorf("the record's body %q does not read as a tombstone", body)
	}
	back, err := decodeSeen(body)
	if err != nil || !back.equal(seen) {
		t.Errorf("decodeSeen(%q) = %+v, %v; want %+v", body, back, err, seen)
	}
}

// TestSeenRecordDecodedOnce: a refresh that finds the record of the file as seen unchanged
// takes it from the last load's cache instead of decoding it again (a file of 10,000 stacks
// makes it hundreds of kilobytes, and every commit makes every replica refresh).
func TestSeenRecordDecodedOnce(t *testing.T) {
	seen := fileSeen{Stacks: map[string]string{"api": "prod"}, Spaces: map[string]string{}, APIKeys: map[string]string{}}
	snap := Snapshot{Revision: 1, Records: []Record{{Ref: seenRef, Version: 1, Body: encodeSeen(seen)}}}
	first, cache, err := decodeRecords(snap, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := decodeRecords(snap, cache)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(first.seen.Stacks).UnsafePointer() != reflect.ValueOf(again.seen.Stacks).UnsafePointer() {
		t.Error("the unchanged record was decoded again")
	}
	snap.Records[0].Body = encodeSeen(fileSeen{Stacks: map[string]string{"api": "team"}})
	changed, _, err := decodeRecords(snap, cache)
	if err != nil || changed.seen.Stacks["api"] != "team" {
		t.Errorf("a changed record read from the cache: %+v, %v", changed.seen, err)
	}
}
