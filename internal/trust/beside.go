package trust

import (
	"fmt"
	"iter"
	"slices"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// IdentityPairs are the attachments whose integrations grant one cloud identity (see
// GrantedIdentity), split by scope, each pointing into the slice they were sorted from. An
// attachment for both read and write is in both.
type IdentityPairs struct {
	// Read are the attachments for read.
	Read []*config.EffectiveAttachment
	// Write are the attachments for write.
	Write []*config.EffectiveAttachment
}

// ReadIntoWrite reports whether the pairs let read-scope tokens reach an identity that write
// runs take: the trust broker prints for an identity admits all its pairs, so a read pair
// beside a write pair lets read tokens, a pull request's among them, take what write runs take.
func (p IdentityPairs) ReadIntoWrite() bool { return len(p.Read) > 0 && len(p.Write) > 0 }

// PairsByIdentity sorts the attachments atts yields by the cloud identity their integration
// grants, integration looking each up by id (each looked up once). Attachments of an unknown
// integration, or of one granting no identity, are left out; within an identity the
// attachments keep their order.
func PairsByIdentity(atts iter.Seq[*config.EffectiveAttachment], integration func(id string) (config.Integration, bool)) map[string]IdentityPairs {
	identity := map[string]string{}
	out := map[string]IdentityPairs{}
	for at := range atts {
		id, seen := identity[at.Integration]
		if !seen {
			if in, ok := integration(at.Integration); ok {
				id = GrantedIdentity(in)
			}
			identity[at.Integration] = id
		}
		if id == "" {
			continue
		}
		p := out[id]
		if at.Read {
			p.Read = append(p.Read, at)
		}
		if at.Write {
			p.Write = append(p.Write, at)
		}
		out[id] = p
	}
	return out
}

// Each yields a pointer to each attachment of atts, in order.
func Each(atts []config.EffectiveAttachment) iter.Seq[*config.EffectiveAttachment] {
	return func(yield func(*config.EffectiveAttachment) bool) {
		for i := range atts {
			if !yield(&atts[i]) {
				return
			}
		}
	}
}

// ReadBesideWrite lists ("stack (read) through integration") the attachments for read whose
// integration grants the cloud identity of req's integration (see PairsByIdentity) when stacks
// are also attached to that identity for write, leaving out those the document printed for req
// leaves out; nil when none are, or none read. What broker trust prints for that identity
// admits both, so read-scope tokens, a pull request's among them, take what write runs take:
// an operator pasting it should know.
func ReadBesideWrite(cfg *config.Config, req Request) ([]string, error) {
	r, err := newResolver(cfg)
	if err != nil {
		return nil, err
	}
	t, err := r.resolve(req)
	if err != nil {
		return nil, err
	}
	identity := GrantedIdentity(t.integration)
	if identity == "" {
		return nil, nil
	}
	p := PairsByIdentity(Each(cfg.EffectiveAttachments()), cfg.Integration)[identity]
	if !p.ReadIntoWrite() {
		return nil, nil
	}
	// Only what the printed document admits: a read attachment it leaves out (another
	// subtree's, see sharing) takes nothing through it.
	if _, err := r.render(t); err != nil {
		return nil, err
	}
	var reads []string
	for _, at := range p.Read {
		pair := Request{Provider: t.req.Provider, Stack: at.Stack, Scope: runs.Read, Integration: at.Integration}
		entry := fmt.Sprintf("%s (%s) through %s", at.Stack, runs.Read, at.Integration)
		if r.isLeftOut(pair) || slices.Contains(reads, entry) {
			continue // left out, or attached both directly and by an autoattach label
		}
		reads = append(reads, entry)
	}
	return reads, nil
}
