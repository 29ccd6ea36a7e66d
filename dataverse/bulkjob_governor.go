package dataverse

import (
	"context"
	"time"
)

// What a BulkJob reads from a Client's governor (one per application
// user per process, shared by every job and pager of that user). These
// three functions are the only place the job asks: until the governor is
// part of the Client they answer with the fallbacks below.
//
// TODO(lead): when h-gov lands, answer from (*Client).Governor(ctx):
// autoConcurrency from Governor.Limit(), and the throttle figures from
// Governor.Stats() (ExecutionTimeThrottles and Paused).

// maxAutoWorkersPerClient bounds the workers started per Client in
// automatic mode; the governor's Limit decides how many of them send at
// a time. 52 is the service's documented concurrent-request limit per
// user and web server.
const maxAutoWorkersPerClient = 52

// autoConcurrency is how many requests the job may have in flight through
// c right now when BulkJobOptions.Concurrency is 0.
func autoConcurrency(ctx context.Context, c *Client) int {
	_, _ = ctx, c
	return DefaultBulkConcurrency
}

// governorThrottles returns the cumulative number of execution-time
// refusals (0x80072321) c's governor has seen and the cumulative time its
// workers were paused by throttling. A job compares them before and after
// each request: a rise in the first halves the batch size.
func governorThrottles(ctx context.Context, c *Client) (executionTime int64, paused time.Duration) {
	_, _ = ctx, c
	return 0, 0
}
