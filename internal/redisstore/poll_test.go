package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestTokenPathPolls checks that the token path's round trips (a run lookup, an audit append)
// poll for their replies while the probe PollWhenSpare was given reports a spare core, and
// never otherwise. The budget is long enough for every reply to come within it, so each round
// trip that polls is a hit.
func TestTokenPathPolls(t *testing.T) {
	srv := redistest.Start(t)
	cases := []struct {
		name  string
		spare func() bool
		want  bool
	}{
		{name: "spare core", spare: func() bool { return true }, want: true},
		{name: "no spare core", spare: func() bool { return false }},
		{name: "never asked", spare: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			client := open(t, srv, uniquePrefix(), suiteTimeout)
			redisstore.SetPollBudget(client, 4*time.Second)
			if tc.spare != nil {
				client.PollWhenSpare(tc.spare)
			}
			run, token := createRun(t, client.Runs(), time.Hour)
			before := redisstore.PollHits(client)
			// A reply can be there before the first read looks (then there is nothing to poll
			// for), but not ten times in a row.
			for i := 0; i < 10; i++ {
				got, err := client.Runs().GetByToken(ctx, runs.HashToken(token))
				if err != nil || got.ID != run.ID {
					t.Fatalf("GetByToken = %v, %v; want run %s", got.ID, err, run.ID)
				}
				if _, err := client.Audit().Append(ctx, tokenEvent(fmt.Sprintf("ev-%d", i), run), []string{run.Space}); err != nil {
					t.Fatalf("Append: %v", err)
				}
			}
			hits := redisstore.PollHits(client) - before
			if tc.want && hits == 0 {
				t.Fatalf("no poll in 10 lookups and 10 appends")
			}
			if !tc.want && hits != 0 {
				t.Fatalf("%d polls, want none", hits)
			}
		})
	}
}
