package api

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRefusalNoteKeptOnceUnsaidFills: maxActors runs, each refused once past the limit and
// never seen again (runs finish), fill unsaid; a key refused past the limit later, whose window
// another actor's refusal forgets first, still has its next recorded refusal say what was left
// out: the oldest notes are given up first.
// Guards against: refusal_limit.go keeping no new note once unsaid held maxActors.
func TestRefusalNoteKeptOnceUnsaidFills(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := &RefusalLimit{PerActor: 1, Window: time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	for i := range maxActors { // finished runs, each refused twice: one refusal left out
		a := fmt.Sprintf("run:%d", i)
		l.admitRefusal(ctx, a)
		l.admitRefusal(ctx, a)
	}
	now = now.Add(time.Minute)
	l.admitRefusal(ctx, "api_key:ci") // recorded
	l.admitRefusal(ctx, "api_key:ci") // left out
	now = now.Add(time.Minute)
	l.admitRefusal(ctx, "api_key:monitor") // another actor's refusal forgets ci's ended window
	note, ok := l.admitRefusal(ctx, "api_key:ci")
	if !ok || !strings.Contains(note, "1 further refusals") {
		t.Errorf("api_key:ci's next recorded refusal: admitted %v, note %q; want it to say 1 was not recorded", ok, note)
	}
}

// TestUnsaidGivesUpTheOldestCurrentNote: an actor whose note was said and that is kept again
// later is among the newest, whatever its old place in the order: a full unsaid gives up the
// oldest note kept, not it.
func TestUnsaidGivesUpTheOldestCurrentNote(t *testing.T) {
	l := &RefusalLimit{PerActor: 1, Window: time.Minute}
	l.keepUnsaid("run:x", 1)
	delete(l.unsaid, "run:x") // said, as admitRefusal does
	for i := range maxActors - 1 {
		l.keepUnsaid(fmt.Sprintf("run:%05d", i), 1)
	}
	l.keepUnsaid("run:x", 2) // kept again: the newest
	l.keepUnsaid("run:z", 1) // full: the oldest current note goes
	if got := l.unsaid["run:x"].n; got != 2 {
		t.Errorf("run:x's note after the oldest was given up: %d, want 2", got)
	}
	if _, ok := l.unsaid["run:00000"]; ok {
		t.Error("the oldest note, run:00000's, was kept past maxActors")
	}
	if len(l.unsaid) != maxActors {
		t.Errorf("%d notes kept, want %d", len(l.unsaid), maxActors)
	}
}
