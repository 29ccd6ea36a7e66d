package dataverse

import (
	"context"
	"time"
)

// What a BulkJob reads from its clients' governors (one per application
// user per process, shared by every Client, job and pager of that user;
// see Client.Governor):
//
//   - with BulkJobOptions.Concurrency 0, how many requests the job sends
//     at once through each client: the governor's Limit, which follows
//     x-ms-dop-hint and backs off on concurrency throttles; several
//     clients of the same application user share that limit;
//   - a rise of its ExecutionTimeThrottles across a request, which halves
//     the batch size;
//   - its Paused time, reported as the job's throttling wait.
//
// This file is the only place the job asks.

// maxAutoWorkersPerClient bounds the workers started per Client in
// automatic mode; the governor's Limit decides how many of them send at
// a time. It is the governor's own ceiling.
const maxAutoWorkersPerClient = DefaultGovernorMaxConcurrency

// bulkGovernors are the governors of a run's clients.
type bulkGovernors struct {
	of    []*Governor // per client; nil when the client could not name it
	share []int       // per client: how many of the run's clients share its governor
	rank  []int       // per client: its place among them
	// distinct governors, with their cumulative pause when the run began.
	distinct   []*Governor
	basePaused []time.Duration
}

// newBulkGovernors finds the governor of each client. A client that cannot
// name its governor (no access token yet, and the credential fails) falls
// back to DefaultBulkConcurrency workers; its first request then reports
// the credential's error.
func newBulkGovernors(ctx context.Context, clients []*Client) *bulkGovernors {
	g := &bulkGovernors{of: make([]*Governor, len(clients)), share: make([]int, len(clients)), rank: make([]int, len(clients))}
	count := map[*Governor]int{}
	for i, c := range clients {
		gov, err := c.Governor(ctx)
		if err != nil {
			continue
		}
		g.of[i] = gov
		g.rank[i] = count[gov]
		if count[gov] == 0 {
			g.distinct = append(g.distinct, gov)
			g.basePaused = append(g.basePaused, gov.Stats().Paused)
		}
		count[gov]++
	}
	for i, gov := range g.of {
		g.share[i] = max(1, count[gov])
	}
	return g
}

// limit is how many requests client ci may have in flight now.
func (g *bulkGovernors) limit(ci int) int {
	gov := g.of[ci]
	if gov == nil {
		return DefaultBulkConcurrency
	}
	// The governor's limit split among the clients that share it, the
	// remainder to the first ones.
	l, m := gov.Limit(), g.share[ci]
	n := l / m
	if g.rank[ci] < l%m {
		n++
	}
	return max(n, 1)
}

// allowed reports whether worker k of client ci may send now.
func (g *bulkGovernors) allowed(ci, k int) bool { return k < g.limit(ci) }

// workers is how many requests the run may have in flight now.
func (g *bulkGovernors) workers() int {
	n := 0
	for ci := range g.of {
		n += min(g.limit(ci), maxAutoWorkersPerClient)
	}
	return n
}

// throttles returns the cumulative count of execution-time refusals
// (0x80072321) client ci's governor has seen, and the cumulative time it
// held requests back.
func (g *bulkGovernors) throttles(ci int) (executionTime int64, paused time.Duration) {
	if gov := g.of[ci]; gov != nil {
		s := gov.Stats()
		return s.ExecutionTimeThrottles, s.Paused
	}
	return 0, 0
}

// paused is the time the run's governors held requests back for
// throttling since the run began.
func (g *bulkGovernors) paused() time.Duration {
	var d time.Duration
	for i, gov := range g.distinct {
		d += gov.Stats().Paused - g.basePaused[i]
	}
	return d
}
