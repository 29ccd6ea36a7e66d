package dataverse

import (
	"context"
	"time"
)

// SetRetrySleep replaces c's wait between retries, so that the end-to-end tests in
// dataverse_test can see each wait without taking it. Call it before c sends anything.
func SetRetrySleep(c *Client, sleep func(ctx context.Context, d time.Duration) error) {
	c.retry.sleep = sleep
}
