package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

// seenRef names the store's record of the configuration file as a replica last started or
// reloaded on it (see fileSeen). It is no catalog object: Versioned keeps it apart from the
// objects, their versions and tombstones.
var seenRef = Ref{Kind: "file", ID: "places"}

// fileSeen is where the configuration file put its stacks and spaces, which API keys it
// declared with which secrets, and a digest of each of its objects, as the last replica to start
// or reload on a file saw them. A replica that starts compares its file with it and records, as a
// reload does (see fileChanges), each file stack or space that left its place, each file API key
// that left or changed its secret, and a version raise for each file object that changed, while
// no replica ran on the file: without it a stack dropped or moved between a stop and a start would
// keep its runs when it comes back, its id could be taken elsewhere through the API, and an
// object edited meanwhile would keep its version (its ETag) on the new content.
type fileSeen struct {
	// Stacks maps a file stack's id to its space.
	Stacks map[string]string `json:"stacks"`
	// Spaces maps a file space's id to its parent ("" for a root).
	Spaces map[string]string `json:"spaces"`
	// APIKeys maps a file API key's id to its secret's print (see keyPrint).
	APIKeys map[string]string `json:"apiKeys"`
	// Digests maps a file object's reference (Ref.String: "stack api") to its digest (see
	// objectDigest). A record written before digests were kept has none: nothing is compared
	// then, and the next record written has them. A replica of that older release reads a record
	// with digests, ignoring the field (encoding/json skips unknown fields), and writes its
	// records without them, which only makes the next start compare nothing.
	Digests map[string]string `json:"digests,omitempty"`
}

// seenOf is file as fileSeen records it.
func seenOf(file Objects) fileSeen {
	s := fileSeen{Stacks: make(map[string]string, len(file.Stacks)), Spaces: make(map[string]string, len(file.Spaces)), APIKeys: make(map[string]string, len(file.APIKeys)), Digests: make(map[string]string, file.Len())}
	digest := func(r Ref, obj any) { s.Digests[r.String()] = objectDigest(obj) }
	for _, st := range file.Stacks {
		s.Stacks[st.ID] = st.Space
		digest(Ref{KindStack, st.ID}, st)
	}
	for _, sp := range file.Spaces {
		s.Spaces[sp.ID] = sp.Parent
		digest(Ref{KindSpace, sp.ID}, sp)
	}
	for _, k := range file.APIKeys {
		s.APIKeys[k.ID] = keyPrint(k.SecretSHA256)
		digest(Ref{KindAPIKey, k.ID}, k)
	}
	for _, in := range file.Integrations {
		digest(Ref{KindIntegration, in.ID}, in)
	}
	for _, a := range file.Attachments {
		digest(Ref{KindAttachment, AttachmentID(a.Stack, a.Integration)}, a)
	}
	for _, r := range file.Roles {
		digest(Ref{KindRole, r.ID}, r)
	}
	return s
}

// declares reports whether the file s records holds the object r. An id created through the
// API while another replica's file declares it would be one object on this replica and another
// there: a stack id, which the trust policies written for the file's stack name, would take
// them to the API's stack, and the other replica's file would no longer load with the store.
func (s fileSeen) declares(r Ref) bool {
	if _, ok := s.Digests[r.String()]; ok {
		return true
	}
	var ok bool
	switch r.Kind {
	case KindStack:
		_, ok = s.Stacks[r.ID]
	case KindSpace:
		_, ok = s.Spaces[r.ID]
	case KindAPIKey:
		_, ok = s.APIKeys[r.ID]
	}
	return ok
}

// declaredInSeen refuses creating r through the API while the file the store's record of the
// file as seen holds declares it (see fileSeen.declares).
func (v Versioned) declaredInSeen(r Ref) error {
	if v.seen == nil || !v.seen.declares(r) {
		return nil
	}
	return refusal(ErrConflict,
		"%s %q is declared in the configuration file the last replica to start or reload read; it can be created through the API only once no replica's file declares it (a reload of a replica on the current file then frees it)",
		r.Kind, r.ID)
}

// equal reports whether s and o record the same file.
func (s fileSeen) equal(o fileSeen) bool {
	return maps.Equal(s.Stacks, o.Stacks) && maps.Equal(s.Spaces, o.Spaces) && maps.Equal(s.APIKeys, o.APIKeys) &&
		maps.Equal(s.Digests, o.Digests)
}

// changed reports whether the file object r, whose digest in the file that follows s is now,
// changed since s: false when s keeps no digest of r (r entered the file since, or s was
// written before digests were kept), true when either digest is "" (an object that could not be
// encoded counts as changed, as fileChanges always counted it).
func (s fileSeen) changed(r Ref, now string) bool {
	was, ok := s.Digests[r.String()]
	return ok && (was == "" || now == "" || was != now)
}

// objectDigest is what the record of the file as seen keeps of a file object: the first 16
// bytes of the SHA-256 of its encoding as the store encodes objects (config.EncodeJSON), in hex,
// or "" when it cannot be encoded. Two encodings that differ get one digest with a chance of
// 2^-128; the store does not hold what the file holds (an API key's secret's SHA-256 among it).
func objectDigest(obj any) string {
	body, err := config.EncodeJSON(obj)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(append([]byte("broker file object "), body...))
	return hex.EncodeToString(sum[:16])
}

// encodeSeen is the seenRef record's body: s's JSON after tombstoneFrom. A replica that predates the record
// reads it as the tombstone of an object of a kind it never looks up, and so goes on taking the
// store's changes during a rolling upgrade, where a body it could not read would stop it.
func encodeSeen(s fileSeen) []byte {
	body, err := json.Marshal(s)
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return append([]byte(tombstoneFrom), body...)
}

// decodeSeen reads the body of the seenRef record (see encodeSeen).
func decodeSeen(body []byte) (fileSeen, error) {
	var s fileSeen
	if err := json.Unmarshal(bytes.TrimPrefix(body, []byte(tombstoneFrom)), &s); err != nil {
		return fileSeen{}, fmt.Errorf("catalog: stored %s: %w", seenRef, err)
	}
	return s, nil
}

// seenChange is the change that records file as seen at now, or none when the store records it
// so already.
func seenChange(api Versioned, file Objects, now int64) []Change {
	if api.seen != nil && api.seen.equal(seenOf(file)) {
		return nil
	}
	return []Change{seenRecord(api, file, now)}
}

// seenRecord is the change that records file as seen at now. A commit of tombstones for what
// left the file writes it too, unchanged or not, so that every tombstone this release writes
// is as old as the record or older: only those of a release that keeps no record are newer
// (see Manager.startChanges).
func seenRecord(api Versioned, file Objects, now int64) Change {
	return Change{Record: Record{Ref: seenRef, Version: api.seenVersion + 1, Created: now, Body: encodeSeen(seenOf(file))}}
}

// leaves returns the tombstones that record what left of seen, the file's stacks, spaces and
// API keys as they were, in next, the catalog built on the file that follows: each stack that
// is gone or in another space, each space that is gone or under another parent, each API key
// that is gone or has another secret (a secret replaced, leaked perhaps, takes the runs its
// key started with it, as a deleted key does). An id the store holds an API object under (committed by a replica whose file
// lacked it) is that object's: a tombstone written for the file's would delete it. A
// tombstone whose place lies at or under a space the same file moves or leaves out (see
// fileMoves) does not know its place, as forgetFileMoves makes the older ones: its id comes
// back only through the file, whatever the order in which the file's changes came. It also
// returns the references it recorded.
func leaves(seen fileSeen, next *Catalog, api Versioned, now int64) ([]Change, map[Ref]bool) {
	var out []Change
	left := map[Ref]bool{}
	parents, moved := fileMoves(seen, next, api)
	leave := func(r Ref, place string) {
		if api.Objects.find(r) != nil {
			return
		}
		if r.Kind != KindAPIKey && len(moved) > 0 && lyingUnder(parents, moved, place) {
			place = ""
		}
		left[r] = true
		out = append(out, Change{Record: Record{Ref: r, Version: fileVersion(api, r) + 1, Created: now, Body: tombstoneBody(place)}})
	}
	for id, space := range seen.Stacks {
		if s, ok := next.StackSpace(id); !ok || s != space {
			leave(Ref{Kind: KindStack, ID: id}, space)
		}
	}
	for id, parent := range seen.Spaces {
		if s, ok := next.spaces[id]; !ok || s.Parent != parent {
			leave(Ref{Kind: KindSpace, ID: id}, parent)
		}
	}
	for id, want := range seen.APIKeys {
		if k, ok := next.apiKeys[id]; !ok || keyPrint(k.SecretSHA256) != want {
			leave(Ref{Kind: KindAPIKey, ID: id}, "")
		}
	}
	return out, left
}

// keyPrint is what the record keeps of a file API key's secret: a digest of its SHA-256, enough
// to tell a secret replaced under the key's id, without the store holding what the file holds.
func keyPrint(secretSHA256 string) string {
	sum := sha256.Sum256([]byte("broker file key " + strings.ToLower(secretSHA256)))
	return hex.EncodeToString(sum[:8])
}
