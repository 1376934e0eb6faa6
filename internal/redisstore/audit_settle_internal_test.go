package redisstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/redis/go-redis/v9"
)

// fakeRedisErr is a server error reply, as go-redis hands it back.
type fakeRedisErr string

func (e fakeRedisErr) Error() string { return string(e) }

func (fakeRedisErr) RedisError() {}

// settleCase is one reply (or error) of the append script and what settle must do with it.
type settleCase struct {
	name     string
	reply    []any
	err      error
	bySource bool // the batch already went by source
	tries    int  // the batch's tries so far
	again    bool // the batch goes again
	answered bool // the batch's caller got a result
	failed   bool // that result is an error
	tail     string
}

// settleStoreFor returns a store whose one-event batch chained onto "t0" to "t1" got tc's
// reply, and the batch's event.
func settleStoreFor(tc settleCase) (*auditStore, *pendingEvent) {
	p := &pendingEvent{event: audit.Event{ID: "e"}, done: make(chan appended, 1)}
	cmd := redis.NewCmd(context.Background())
	if tc.err != nil {
		cmd.SetErr(tc.err)
	} else {
		cmd.SetVal(tc.reply)
	}
	s := &auditStore{c: &Client{}, tail: "t0", last: "t1", batch: []*pendingEvent{p},
		cmd: cmd, queued: true, tries: tc.tries}
	s.call.bySource = tc.bySource
	return s, p
}

// TestSettleReplies: settle reads the append script's reply: {1} lands the batch and
// its last hash becomes the tail; {0, tail} sends the batch again onto that tail, unless the
// tail is the batch's own last hash (it landed, its reply was lost) or the tries are spent
// (audit.ErrUnavailable); a {0} without a tail, or no reply at all, fails the batch; NOSCRIPT
// sends it again once by source, and NOSCRIPT to that fails it.
// Guards against: settle drop "|| tail == s.last" (a landed batch chained twice)
// Guards against: settle drop "case len(res) < 2" (a tail-less {0} retried onto an empty tail)
// Guards against: settle NOSCRIPT keeps bySource false (EVALSHA sent again for ever)
// Guards against: settle NOSCRIPT case without "!s.call.bySource" (by-source NOSCRIPT loops)
// Guards against: settle "s.tries < maxAppendTries" -> "<=" (101 tries)
func TestSettleReplies(t *testing.T) {
	moved := []any{int64(0), "other"}
	cases := []settleCase{
		{name: "appended", reply: []any{int64(1)}, answered: true, tail: "t1"},
		{name: "tail moved", reply: moved, again: true, tail: "other"},
		{name: "own batch at the tail", reply: []any{int64(0), "t1"}, answered: true, tail: "t1"},
		{name: "no tail", reply: []any{int64(0)}, answered: true, failed: true, tail: "t0"},
		{name: "empty reply", reply: []any{}, answered: true, failed: true, tail: "t0"},
		{name: "unknown code", reply: []any{int64(7)}, answered: true, failed: true, tail: "t0"},
		{name: "noscript", err: fakeRedisErr("NOSCRIPT No matching script."), again: true,
			tail: "t0"},
		{name: "noscript by source", err: fakeRedisErr("NOSCRIPT No matching script."),
			bySource: true, answered: true, failed: true, tail: "t0"},
		{name: "last try", reply: moved, tries: maxAppendTries - 1, answered: true, failed: true,
			tail: "other"},
		{name: "one try left", reply: moved, tries: maxAppendTries - 2, again: true,
			tail: "other"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, p := settleStoreFor(tc)
			if again := s.settle(); again != tc.again {
				t.Errorf("settle = %v, want %v", again, tc.again)
			}
			if s.tail != tc.tail {
				t.Errorf("tail %q after settle, want %q", s.tail, tc.tail)
			}
			var got *appended
			select {
			case a := <-p.done:
				got = &a
			default:
			}
			switch {
			case !tc.answered && got != nil:
				t.Errorf("answered %+v, want the batch kept to go again", *got)
			case tc.answered && got == nil:
				t.Errorf("not answered, want an answer")
			case tc.answered && tc.failed != (got.err != nil):
				t.Errorf("answered with %v, want failed = %v", got.err, tc.failed)
			}
			if tc.name == "last try" && !errors.Is(got.err, audit.ErrUnavailable) {
				t.Errorf("spent tries: %v, want audit.ErrUnavailable", got.err)
			}
			if tc.name == "noscript" && !s.call.bySource {
				t.Errorf("after NOSCRIPT the batch does not go by source")
			}
			if !tc.again && s.queued {
				t.Errorf("settled store still marked queued with an empty queue")
			}
		})
	}
}

// TestRefusalIsNotATry: a batch sent again because some of its runs changed has not
// lost a compare-and-swap to another replica, so it keeps all its tries for those: with two
// tries left, a refusal and then a moved tail still send the batch again.
// Guards against: settle counts a refusal ({2, n}) as a try
func TestRefusalIsNotATry(t *testing.T) {
	s, p := settleStoreFor(settleCase{reply: []any{int64(2), int64(2)},
		tries: maxAppendTries - 2})
	changed := &pendingEvent{check: runs.Version{ID: "r"}, done: make(chan appended, 1)}
	s.batch = append(s.batch, changed)
	if !s.settle() || len(s.batch) != 1 || s.batch[0] != p {
		t.Fatalf("refusal of event 2: batch %v, want event 1 kept to go again", s.batch)
	}
	s.cmd = redis.NewCmd(context.Background())
	s.cmd.SetVal([]any{int64(0), "other"})
	if !s.settle() {
		select {
		case a := <-p.done:
			t.Fatalf("moved tail after a refusal answered %v, want the batch sent again", a.err)
		default:
			t.Fatal("moved tail after a refusal: batch not sent again")
		}
	}
}

// TestBatchTakes256Events: a batch takes the first 256 queued events, in order, and
// leaves the rest queued for the next batch.
// Guards against: maxBatch 256 -> 255
func TestBatchTakes256Events(t *testing.T) {
	c, err := Open(Options{URL: redistest.Start(t).URL(), Prefix: "batch256:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s := c.Audit().(*auditStore)
	for i := range 257 {
		s.queue = append(s.queue, &pendingEvent{event: audit.Event{ID: fmt.Sprint(i),
			Action: "test"}, done: make(chan appended, 1)})
	}
	s.add(context.Background(), c.rdb.Pipeline()) // queued, never sent
	if len(s.batch) != 256 || len(s.queue) != 1 || s.queue[0].event.ID != "256" {
		t.Errorf("batch of %d events, %d left queued; want 256 and event 256 left",
			len(s.batch), len(s.queue))
	}
}

// TestListCallReadsAtMost32Runs: one listing script call reads at most 32 runs of
// consecutive positions, counted in events rather than through the constant: a page of 32
// scattered events takes one call, a page of 33 takes two, and 65 take three.
// Guards against: maxRunsPerCall 32 -> 33 (or any larger bound)
func TestListCallReadsAtMost32Runs(t *testing.T) {
	cases := []struct{ n, calls int }{{32, 1}, {33, 2}, {65, 3}}
	for _, tc := range cases {
		s, h := listTrail(t, tc.n, 2)
		listAll(t, s, tc.n)
		if got := h.calls.Load(); got != int64(tc.calls) {
			t.Errorf("a page of %d scattered events took %d script calls, want %d",
				tc.n, got, tc.calls)
		}
	}
}
