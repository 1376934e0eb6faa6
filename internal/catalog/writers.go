package catalog

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/trust"
)

// Why the store keeps where cloud identities were attached for write:
//
// The trust `broker trust` prints for a cloud identity (an AWS role, a GCP service account, an
// Azure application, a Vault role) admits every stack attached to it, and the policies installed
// in the clouds outlive the attachments they were printed for. An identity stacks were attached
// to for write holds what write runs take, and keeps holding it when its last attachment for
// write leaves: deleted (which takes only space:admin), its stack deleted or moved, its
// integration given another identity, its autoattach rule dropped. A change that then attaches
// a stack to that identity for read would have `broker trust` print the write identity's trust
// for that stack's read-scope tokens, a pull request's among them, without the run rights the
// same narrowing asks in one step. So the store records each identity and space path an
// attachment for write put (a record that outlives the attachment), and a change letting read
// tokens reach a recorded identity takes the run rights there (see Outcome.Written).

// kindWriter is the kind of the store's records of identities attached for write. It is no
// catalog object's kind: a record is a tombstone (see tombstoneBody) whose place is the
// identity and the path (see writerRecord.encode), so a replica of a release that predates the
// records reads it as the tombstone of an object of a kind it never looks up.
const kindWriter Kind = "write_identity"

// MaxWriterRecords bounds the records of identities attached for write the store keeps (see
// writerRecord). Past it, or past a subtree's share of it (see WriterShare), the API refuses a
// change that would attach an identity for write where no record has it yet.
const MaxWriterRecords = 10000

// WriterShare is how many of the records of identities attached for write the spaces of the
// subtree of a space depth levels below root may have brought: half its parent's share, root's
// being MaxWriterRecords, and at least one. A record outlives its attachment, so a team cycling
// through spaces and identities spends at most half of any ancestor's share.
func WriterShare(depth int) int { return config.HalvedShare(MaxWriterRecords, depth) }

// writerRecord is one record of an identity attached for write: the identity, and the path (root
// first) of the space of the stack attached to it for write.
type writerRecord struct {
	Identity string
	Path     []string
}

// encode is the text the record keeps after tombstoneFrom: the identity, a line feed, and the
// path's ids joined by '/' (which no id holds).
func (w writerRecord) encode() string {
	return w.Identity + "\n" + strings.Join(w.Path, "/")
}

// ref names the store's record of w.
func (w writerRecord) ref() Ref {
	sum := sha256.Sum256([]byte("broker write identity " + w.encode()))
	return Ref{Kind: kindWriter, ID: hex.EncodeToString(sum[:16])}
}

// decodeWriter reads a record's text (see writerRecord.encode), splitting at its last line feed.
func decodeWriter(text string) writerRecord {
	i := strings.LastIndexByte(text, '\n')
	if i < 0 {
		return writerRecord{Identity: text}
	}
	w := writerRecord{Identity: text[:i]}
	if path := text[i+1:]; path != "" {
		w.Path = strings.Split(path, "/")
	}
	return w
}

// Written maps each cloud identity the store records as attached for write to the space paths
// (root first) of the stacks that were attached to it for write.
type Written map[string][][]string

// with returns w with the records ws added (records pending, not in the store yet).
func (w Written) with(ws []writerRecord) Written {
	for _, r := range ws {
		w[r.Identity] = append(w[r.Identity], r.Path)
	}
	return w
}

// withUnheld returns ws with each record of more that v does not hold and ws lacks added.
func withUnheld(ws, more []writerRecord, v Versioned) []writerRecord {
	for _, r := range more {
		ref := r.ref()
		if _, held := v.From[ref]; held || slices.ContainsFunc(ws, func(w writerRecord) bool { return w.ref() == ref }) {
			continue
		}
		ws = append(ws, r)
	}
	return ws
}

// writtenIn is the Written v's records keep.
func writtenIn(v Versioned) Written {
	out := Written{}
	for r, text := range v.From {
		if r.Kind == kindWriter {
			w := decodeWriter(text)
			out[w.Identity] = append(out[w.Identity], w.Path)
		}
	}
	return out
}

// Spaces maps each identity w records to the spaces of c its paths stand for now: for each path,
// its deepest space that c still holds at that place (the same ancestors above it), else root.
// A space moved or deleted since is stood for by its nearest ancestor still in place, whose
// rights are asked instead.
func (w Written) Spaces(c *Catalog) map[string][]string {
	out := make(map[string][]string, len(w))
	for id, paths := range w {
		for _, p := range paths {
			s := placedSpace(c, p)
			if !slices.Contains(out[id], s) {
				out[id] = append(out[id], s)
			}
		}
	}
	return out
}

// placedSpace is the deepest space of path that c holds with path's ancestors above it, or root.
func placedSpace(c *Catalog, path []string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if slices.Equal(c.SpacePath(path[i]), path[:i+1]) {
			return path[i]
		}
	}
	return config.RootSpace
}

// writersOf lists the records of every identity c attaches a stack to for write, directly or by
// an autoattach rule, at the path of that stack's space.
func writersOf(c *Catalog) []writerRecord {
	all := func(yield func(*config.EffectiveAttachment) bool) {
		for _, st := range c.Objects().Stacks {
			for at := range trust.Each(c.Attachments(st.ID)) {
				if at.Write && !yield(at) {
					return
				}
			}
		}
	}
	var out []writerRecord
	for id, pairs := range trust.PairsByIdentity(all, c.Integration) {
		for _, at := range pairs.Write {
			space, _ := c.StackSpace(at.Stack)
			if space == "" {
				space = config.RootSpace
			}
			out = append(out, writerRecord{Identity: id, Path: c.SpacePath(space)})
		}
	}
	return out
}

// newWriters lists the records of cats' identities attached for write that v does not record
// yet, each once, sorted by reference.
func newWriters(v Versioned, cats ...*Catalog) []writerRecord {
	seen := map[Ref]bool{}
	var out []writerRecord
	for _, c := range cats {
		if c == nil {
			continue
		}
		for _, w := range writersOf(c) {
			r := w.ref()
			if _, held := v.From[r]; held || seen[r] {
				continue
			}
			seen[r] = true
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b writerRecord) int { return cmp.Compare(a.ref().ID, b.ref().ID) })
	return out
}

// writerChanges are the store's changes recording ws over v, at now (Unix milliseconds).
func writerChanges(v Versioned, now int64, ws []writerRecord) []Change {
	out := make([]Change, 0, len(ws))
	for _, w := range ws {
		r := w.ref()
		out = append(out, Change{Record: Record{Ref: r, Version: v.Versions[r] + 1, Created: now, Body: tombstoneBody(w.encode())}})
	}
	return out
}

// writerRecords returns the records of the identities cats attach for write that v does not
// record yet (see newWriters), at now.
func writerRecords(v Versioned, now int64, cats ...*Catalog) []Change {
	return writerChanges(v, now, newWriters(v, cats...))
}

// WriterRecordsMessage tells of a change refused because the store keeps as many records of
// identities attached for write as it may, without naming the subtree: the caller may hold no
// binding on it.
const WriterRecordsMessage = "the store keeps, for good, where each cloud identity was attached for write, and the spaces this change attaches for write have brought their share of those records (each subtree's share is half its parent's, root's being %d): attach for write an identity already attached there, or set this attachment in the configuration file"

// checkWriterShares refuses adding ws to the records v holds when that takes the store past
// MaxWriterRecords, or the subtree of a space on a record's path past its WriterShare.
func checkWriterShares(v Versioned, ws []writerRecord) error {
	if len(ws) == 0 {
		return nil
	}
	var paths [][]string
	for r, text := range v.From {
		if r.Kind == kindWriter {
			paths = append(paths, decodeWriter(text).Path)
		}
	}
	refuse := func(withheld string) error {
		return &ChangeError{Kind: ErrConflict, Messages: []string{fmt.Sprintf(WriterRecordsMessage, MaxWriterRecords)}, Withheld: []string{withheld}}
	}
	for _, w := range ws {
		if len(paths) >= MaxWriterRecords {
			return refuse(fmt.Sprintf("identity records: %d, the most the store keeps", len(paths)))
		}
		if a, n, share, full := fullShare(w.Path, paths, WriterShare); full {
			return refuse(fmt.Sprintf("the subtree of space %q has brought %d records of identities attached for write, its share of %d", a, n, share))
		}
		paths = append(paths, w.Path)
	}
	return nil
}

// writersOfChange lists the records of identities attached for write that a change from before
// to after leaves v to write: those of before it lacks (attachments older than the records),
// and those after brings, refused past the shares (see checkWriterShares).
func writersOfChange(v Versioned, before, after *Catalog) ([]writerRecord, error) {
	left := newWriters(v, before)
	all := newWriters(v, before, after)
	brought := slices.DeleteFunc(slices.Clone(all), func(w writerRecord) bool {
		return slices.ContainsFunc(left, func(l writerRecord) bool { return l.ref() == w.ref() })
	})
	if err := checkWriterShares(v, brought); err != nil {
		return nil, err
	}
	return all, nil
}
