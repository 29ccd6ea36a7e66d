package emulator

import (
	"sync/atomic"
	"time"
)

// clock is the emulator's one clock: the wall clock plus a settable offset. The token service
// (token iat/nbf/exp, secret expiry, assertion time windows, token validation) and the store
// (createdon, modifiedon) both read it, so moving it moves the whole emulator at once.
type clock struct {
	offset atomic.Int64 // time.Duration
}

// Now returns the wall clock plus the offset.
func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *clock) set(d time.Duration) { c.offset.Store(int64(d)) }

func (c *clock) get() time.Duration { return time.Duration(c.offset.Load()) }
