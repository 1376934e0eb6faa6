package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// The templates of the held-template tests: old is the template the trust policies were printed
// for (the pattern "repo:v:run:*:write" for stack v's write scope), newer the one its space takes
// next, and taker another team's template whose stack s renders "repo:v:run:s:write", which
// that pattern matches.
const (
	heldOld   = "repo:{callerId}:run:{runId}:{scope}"
	heldNewer = "repo:{callerId}:run:{runId}:{scope}:v2"
	heldTaker = "repo:v:run:{callerId}:{scope}"
)

func spacePut(s config.Space) catalog.Mutation {
	return catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: s.ID}, Object: s}
}

func spaceDelete(id string) catalog.Mutation {
	return catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: id}}
}

// TestHeldTemplateRefusesOverlap: once a space's template leaves the catalog (the space takes
// another, or is deleted, or the file drops it), no space may be given through the API a
// different template that overlaps it: the trust policies printed for it may still be installed,
// and a stack of the new template would take their subs. On the old code each last change was
// committed. The same template may come back; the file may set any.
func TestHeldTemplateRefusesOverlap(t *testing.T) {
	ctx := context.Background()
	withFileSpace := file()
	withFileSpace.Spaces = append(slices.Clone(withFileSpace.Spaces), config.Space{ID: "f", Parent: "prod", SubjectTemplate: heldOld})
	for _, tc := range []struct {
		name string
		// retire takes heldOld out of the catalog.
		retire func(t *testing.T, m *catalog.Manager)
		file   catalog.Objects
	}{
		{"the space takes another template", func(t *testing.T, m *catalog.Manager) {
			mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldNewer}))
		}, file()},
		{"the space goes back to the default", func(t *testing.T, m *catalog.Manager) {
			mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod"}))
		}, file()},
		{"the space is deleted", func(t *testing.T, m *catalog.Manager) {
			mustApply(t, m, spaceDelete("a"))
		}, file()},
		{"the file drops the space", func(t *testing.T, m *catalog.Manager) {
			if _, err := m.Reload(ctx, file()); err != nil {
				t.Fatal(err)
			}
		}, withFileSpace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := catalog.NewMemory()
			m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: tc.file})
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.file.Spaces) == len(file().Spaces) {
				mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldOld}))
			}
			tc.retire(t, m)

			// Another replica, started on the store afterwards, refuses as this one does.
			other, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file()})
			if err != nil {
				t.Fatal(err)
			}
			for name, r := range map[string]*catalog.Manager{"this replica": m, "another replica": other} {
				_, err := r.Apply(ctx, spacePut(config.Space{ID: "b", Parent: "prod", SubjectTemplate: heldTaker}))
				var ce *catalog.ChangeError
				if !errors.As(err, &ce) || !errors.Is(err, catalog.ErrInvalid) || ce.Field != "subjectTemplate" ||
					!slices.Equal(ce.Messages, []string{catalog.HeldTemplateMessage}) {
					t.Fatalf("%s: a space taking a template that overlaps one held before: %v, want refused as invalid", name, err)
				}
				if strings.Contains(ce.Error(), heldOld) || !strings.Contains(strings.Join(ce.Withheld, ";"), heldOld) {
					t.Errorf("%s: the refusal quotes the template held (%q), or the withheld detail does not (%q)", name, ce.Error(), ce.Withheld)
				}
			}
			// The same template comes back, in another space too.
			mustApply(t, other, spacePut(config.Space{ID: "c", Parent: "prod", SubjectTemplate: heldOld}))
			// A template that overlaps none is given.
			mustApply(t, m, spacePut(config.Space{ID: "d", Parent: "prod", SubjectTemplate: "team-d:{callerId}:{scope}"}))
		})
	}
}

// TestHeldTemplateKeepsWhatWasGiven: a space keeping its template is never refused, nor is any
// change of a space that keeps it, whatever the store records.
func TestHeldTemplateKeepsWhatWasGiven(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldOld}))
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldOld, Inherit: true}))
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod-eu", SubjectTemplate: heldOld, Inherit: true}))
	if _, err := m.Apply(ctx, spacePut(config.Space{ID: "a", Parent: "prod-eu", SubjectTemplate: heldTaker})); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("a space taking a template that overlaps its own: %v, want refused", err)
	}
}

// TestHeldTemplatesBounded: the records of held templates outlive them, so each subtree may
// bring only its share of catalog.MaxHeldTemplates (half its parent's), and past the whole the
// API gives only a template recorded already. A team cycling templates on its own space spends
// its share, and another subtree still gets new ones.
func TestHeldTemplatesBounded(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	n := 0
	tpl := func(i int) string { return fmt.Sprintf("t%04d:{callerId}:{scope}", i) }
	// fill gives space id (under parent) new templates until one is refused, and returns how
	// many it was given and the refusal.
	fill := func(id, parent string) (int, error) {
		for given := 0; ; given++ {
			n++
			if _, err := m.Apply(ctx, spacePut(config.Space{ID: id, Parent: parent, SubjectTemplate: tpl(n)})); err != nil {
				return given, err
			}
		}
	}
	// a, under prod, is two levels below root.
	given, err := fill("a", "prod")
	if want := catalog.HeldTemplateShare(2); given != want || !errors.Is(err, catalog.ErrInvalid) || !strings.Contains(withheld(err), `the subtree of space "a" has brought 250 subject templates, its share of 250`) {
		t.Fatalf("space a was given %d templates, then %v (%s); want %d, then refused for its subtree's share", given, err, withheld(err), want)
	}
	// The caller is told no space's id: it may hold no binding on the subtree's space.
	if strings.Contains(err.Error(), `"a"`) || strings.Contains(err.Error(), `"prod"`) {
		t.Errorf("the refusal names a space: %v", err)
	}
	// Another subtree is not held back by a's: r1 directly under root brings its own share.
	mustApply(t, m, spacePut(config.Space{ID: "r1", Parent: "root"}))
	if given, err = fill("r1", "root"); given != catalog.HeldTemplateShare(1) || !strings.Contains(withheld(err), `the subtree of space "r1"`) {
		t.Fatalf("space r1 was given %d templates, then %v; want %d", given, err, catalog.HeldTemplateShare(1))
	}
	// 750 recorded (the default, recorded with the first change, left out): r2 reaches the whole.
	mustApply(t, m, spacePut(config.Space{ID: "r2", Parent: "root"}))
	given, err = fill("r2", "root")
	if want := catalog.MaxHeldTemplates - 250 - 500; given != want || !strings.Contains(err.Error(), "the most it keeps") {
		t.Fatalf("space r2 was given %d templates, then %v; want %d, then refused for the whole", given, err, want)
	}
	// A template recorded already is given anywhere.
	mustApply(t, m, spacePut(config.Space{ID: "r3", Parent: "root", SubjectTemplate: tpl(3)}))
}

func mustApply(t *testing.T, m *catalog.Manager, mu catalog.Mutation) {
	t.Helper()
	if _, err := m.Apply(context.Background(), mu); err != nil {
		t.Fatalf("%s: %v", mu.Ref, err)
	}
}

// TestHeldTemplateCopyOfAFileOverlapIsRefused: the file may give a space a template that
// overlaps a held one; the API may not copy it to another space, in force or after the file
// drops it: the copy would take the subs the held template's trust policies name to a space the
// operators never chose. On the old code, a template held already was given without a check. The
// reload that brings the file's template warns the operators.
func TestHeldTemplateCopyOfAFileOverlapIsRefused(t *testing.T) {
	ctx := context.Background()
	var logged bytes.Buffer
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: file(), Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldOld}))
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldNewer}))
	withF := file()
	withF.Spaces = append(slices.Clone(withF.Spaces), config.Space{ID: "f", Parent: "prod", SubjectTemplate: heldTaker})
	if _, err := m.Reload(ctx, withF); err != nil {
		t.Fatalf("the file giving f a template that overlaps a held one: %v", err)
	}
	if want := `space \"f\": template \"` + heldTaker + `\" overlaps \"` + heldOld; !strings.Contains(logged.String(), want) {
		t.Errorf("the reload's log does not tell of f's overlap (%s) in:\n%s", want, logged.String())
	}
	// A replica that starts on that file, rather than reloading onto it, warns too.
	store := catalog.NewMemory()
	first := newManager(t, store)
	mustApply(t, first, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldOld}))
	mustApply(t, first, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldNewer}))
	var started bytes.Buffer
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withF, Logger: slog.New(slog.NewTextHandler(&started, nil))}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(started.String(), `space \"f\": template`) {
		t.Errorf("the start's log does not tell of f's overlap:\n%s", started.String())
	}
	for _, f := range []catalog.Objects{withF, file()} {
		if _, err := m.Reload(ctx, f); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Apply(ctx, spacePut(config.Space{ID: "b", Parent: "prod", SubjectTemplate: heldTaker})); !errors.Is(err, catalog.ErrInvalid) {
			t.Errorf("the API copying f's template (file holding f: %v): %v, want refused", len(f.Spaces) > len(file().Spaces), err)
		}
	}
}

// withheld is what err, a *catalog.ChangeError, tells the log only.
func withheld(err error) string {
	var ce *catalog.ChangeError
	if !errors.As(err, &ce) {
		return ""
	}
	return strings.Join(ce.Withheld, "; ")
}
