package dataverse

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
)

// bulkRun is one run of a BulkJob.
type bulkRun struct {
	job   *BulkJob
	opts  *BulkJobOptions
	table bulkTable
	ctx   context.Context // the run's context: cancelled on a fatal error
	stop  context.CancelCauseFunc
	start time.Time

	govs      *bulkGovernors
	sizer     batchSizer
	inputDone chan struct{} // closed when the input is read
	useBatch  atomic.Bool   // bulk messages unsupported (or not chosen): $batch

	read, written, failed, skipped atomic.Int64
	requests, retries, splits      atomic.Int64
	throttled                      wallClock // workers waiting out throttles

	// mu guards the done positions and the failures kept.
	mu   sync.Mutex
	done doneSet
	kept []BulkFailure

	// Checkpoint state (cpMu serialises saves).
	cpMu         sync.Mutex
	cpPath       string
	lock         *flock.Flock
	dispatched   atomic.Int64 // the saved dispatch mark; rows at or above it were never sent
	resumeMark   int64        // the dispatch mark of the checkpoint the run started from
	priorWritten int64
	priorFailed  int64
	lookahead    int64
}

// newRun prepares a run: the table, the checkpoint, the batch size.
func (j *BulkJob) newRun(ctx context.Context) (*bulkRun, error) {
	if err := j.resolveTable(ctx); err != nil {
		return nil, err
	}
	r := &bulkRun{job: j, opts: &j.opts, table: j.table}
	maxSize := j.opts.BatchSize
	switch {
	case j.opts.Method == BulkMethodBatch && maxSize == 0:
		maxSize = DefaultBulkBatchOperations
	case maxSize == 0:
		maxSize = DefaultBulkChunkSize
	}
	if j.opts.Method == BulkMethodBatch && maxSize > MaxBatchOperations {
		maxSize = MaxBatchOperations
	}
	r.sizer = batchSizer{cur: maxSize, max: maxSize}
	r.useBatch.Store(j.opts.Method == BulkMethodBatch || (j.opts.Mode == BulkUpdate && len(j.opts.KeyColumns) > 0))
	r.lookahead = int64(max(10*maxSize, 10000))
	if p := j.opts.Checkpoint; p != "" {
		if err := r.openCheckpoint(p); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// openCheckpoint locks and reads the checkpoint at path.
func (r *bulkRun) openCheckpoint(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("dataverse: checkpoint %s: %w", path, err)
	}
	r.cpPath = abs
	// A lock file beside the checkpoint keeps two jobs from running with
	// one checkpoint (both would skip and write the same rows).
	r.lock = flock.New(abs + ".lock")
	ok, err := r.lock.TryLock()
	if err != nil {
		return fmt.Errorf("dataverse: locking checkpoint %s: %w", path, err)
	}
	if !ok {
		return &CheckpointError{Path: path, Problem: "another job is running with it (its lock file " + abs + ".lock is held); wait for it to end"}
	}
	cp, err := readCheckpoint(abs)
	if err != nil {
		r.lock.Unlock()
		return err
	}
	if cp == nil {
		return nil
	}
	if why := checkpointMismatch(cp, r.table.entitySet, r.opts.Mode, r.opts.KeyColumns); why != "" {
		r.lock.Unlock()
		return &CheckpointError{Path: path, Problem: why + "; give this job another checkpoint file"}
	}
	r.done = doneSet{low: cp.Done, ranges: cp.Ranges}
	r.dispatched.Store(cp.Dispatched)
	r.resumeMark = cp.Dispatched
	r.priorWritten, r.priorFailed = cp.Written, cp.Failed
	return nil
}

// bulkBatch is a group of rows sent in one request, with its dispatch
// size (for the batch-size signals).
type bulkBatch struct {
	rows []*bulkRow
}

func (r *bulkRun) run(parent context.Context, rows iter.Seq2[Record, error]) (res *BulkResult, err error) {
	r.start = time.Now()
	r.ctx, r.stop = context.WithCancelCause(parent)
	defer r.stop(nil)
	defer func() {
		if r.lock != nil {
			r.lock.Unlock()
		}
	}()

	work := make(chan *bulkBatch)
	r.inputDone = make(chan struct{})
	var workers sync.WaitGroup
	r.govs = newBulkGovernors(r.ctx, r.job.clients)
	for ci, c := range r.job.clients {
		n, gate := r.workersFor(ci)
		for k := range n {
			workers.Add(1)
			go func() {
				defer workers.Done()
				r.worker(bulkSender{c: c, ci: ci}, k, gate, work)
			}()
		}
	}
	var bg sync.WaitGroup
	bgDone := make(chan struct{})
	if r.cpPath != "" {
		bg.Add(1)
		go func() {
			defer bg.Done()
			r.checkpointLoop(bgDone)
		}()
	}
	if r.opts.OnProgress != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			r.progressLoop(bgDone)
		}()
	}

	inputErr := r.dispatch(rows, work)
	close(work)
	close(r.inputDone)
	workers.Wait()
	close(bgDone)
	bg.Wait()

	var cpErr error
	if r.cpPath != "" {
		cpErr = r.saveCheckpoint()
	} else if s, ok := r.opts.Errors.(interface{ Sync() error }); ok {
		cpErr = s.Sync()
	}
	res = r.result()
	if r.opts.OnProgress != nil {
		p := r.progress(0)
		p.Final = true
		r.opts.OnProgress(p)
	}
	cause := context.Cause(r.ctx)
	switch {
	case inputErr != nil:
		err = inputErr
	case cause != nil && !errors.Is(cause, context.Canceled):
		err = cause // a fatal error, or the parent's own cause
	case parent.Err() != nil:
		err = parent.Err()
	case cause != nil:
		err = cause
	}
	return res, errors.Join(err, cpErr)
}

// workersFor is the number of workers started for client ci, and the gate
// that tells worker k whether it may send now.
func (r *bulkRun) workersFor(ci int) (int, func(k int) bool) {
	if n := r.opts.Concurrency; n > 0 {
		per := n / len(r.job.clients)
		if ci < n%len(r.job.clients) {
			per++
		}
		return per, func(int) bool { return true }
	}
	return maxAutoWorkersPerClient, func(k int) bool { return r.govs.allowed(ci, k) }
}

// workers is the number of requests allowed in flight now.
func (r *bulkRun) workers() int {
	if r.opts.Concurrency > 0 {
		return r.opts.Concurrency
	}
	return r.govs.workers()
}

// dispatch reads the input, skips done rows, refuses rows that cannot be
// sent, and hands batches to the workers. It returns the input's error.
func (r *bulkRun) dispatch(rows iter.Seq2[Record, error], work chan<- *bulkBatch) error {
	var cur []*bulkRow
	send := func() bool {
		if len(cur) == 0 {
			return true
		}
		if err := r.markDispatched(cur[len(cur)-1].pos); err != nil {
			r.stop(err)
			return false
		}
		select {
		case work <- &bulkBatch{rows: cur}:
			cur = nil
			return true
		case <-r.ctx.Done():
			return false
		}
	}
	var pos int64 = -1
	for rec, err := range rows {
		pos++
		if r.ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if !send() {
				return nil
			}
			return fmt.Errorf("dataverse: BulkJob: reading input row %d: %w (the rows before it are written or checkpointed)", pos, err)
		}
		r.read.Add(1)
		if r.isDone(pos) {
			r.skipped.Add(1)
			continue
		}
		row, problem := r.encodeRow(pos, rec)
		if problem != nil {
			row = &bulkRow{pos: pos, input: rec}
			if err := r.fail(r.failure(row, 0, "", "the row was not sent: "+problem.msg)); err != nil {
				r.stop(err)
				return nil
			}
			continue
		}
		row.maybeSent = pos < r.resumeMark
		cur = append(cur, row)
		if len(cur) >= r.sizer.size() {
			if !send() {
				return nil
			}
		}
	}
	send()
	return nil
}

// isDone reports whether the checkpoint says position pos is done.
func (r *bulkRun) isDone(pos int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done.contains(pos)
}

// markDispatched saves the checkpoint's dispatch mark beyond pos before a
// row at pos is sent, with some lookahead so it is rarely saved.
func (r *bulkRun) markDispatched(pos int64) error {
	if r.cpPath == "" || pos < r.dispatched.Load() {
		return nil
	}
	r.dispatched.Store(pos + 1 + r.lookahead)
	return r.saveCheckpoint()
}

// finish records rows as written.
func (r *bulkRun) finish(rows []*bulkRow) {
	if len(rows) == 0 {
		return
	}
	r.written.Add(int64(len(rows)))
	r.markDone(rows)
}

// fail reports one failed row to the sink and marks it done.
func (r *bulkRun) fail(f BulkFailure) error {
	if s := r.opts.Errors; s != nil {
		if err := s.WriteFailure(f); err != nil {
			return fmt.Errorf("dataverse: BulkJob: the error sink refused the failure of row %d: %w", f.Position, err)
		}
	} else {
		r.mu.Lock()
		if len(r.kept) < MaxBulkFailuresKept {
			r.kept = append(r.kept, f)
		}
		r.mu.Unlock()
	}
	r.failed.Add(1)
	r.mu.Lock()
	r.done.add(f.Position, f.Position+1)
	r.mu.Unlock()
	return nil
}

// markDone adds the rows' positions to the done set, as runs.
func (r *bulkRun) markDone(rows []*bulkRow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := rows[0].pos
	b := a + 1
	for _, row := range rows[1:] {
		if row.pos == b {
			b++
			continue
		}
		r.done.add(a, b)
		a, b = row.pos, row.pos+1
	}
	r.done.add(a, b)
}

// bulkSender is a client of the run, with its index in the pool.
type bulkSender struct {
	c  *Client
	ci int
}

// worker sends the batches it takes from work through w.
func (r *bulkRun) worker(w bulkSender, k int, gate func(int) bool, work <-chan *bulkBatch) {
	for {
		for !gate(k) {
			// Held back by the governor: wake up to look again, or end
			// with the input (the workers that may send finish it).
			select {
			case <-r.ctx.Done():
				return
			case <-r.inputDone:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		var b *bulkBatch
		var ok bool
		select {
		case b, ok = <-work:
			if !ok {
				return
			}
		case <-r.ctx.Done():
			return
		}
		upsert := false
		for _, row := range b.rows {
			upsert = upsert || row.maybeSent
		}
		if err := r.process(w, b.rows, upsert, 0); err != nil {
			r.stop(err)
			return
		}
	}
}

// process sends rows until each is written or failed: it retries
// transient failures (a create then becomes an upsert of the same ids),
// splits requests that time out, and bisects requests refused for their
// data. It returns an error only when the job must stop.
func (r *bulkRun) process(w bulkSender, rows []*bulkRow, upsert bool, attempt int) error {
	// A batch built before the size shrank (or before the fall back to
	// $batch) goes in pieces of the current size.
	if n := r.sizer.size(); len(rows) > n {
		for i := 0; i < len(rows); i += n {
			if err := r.process(w, rows[i:min(i+n, len(rows))], upsert, attempt); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		if err := r.ctx.Err(); err != nil {
			return context.Cause(r.ctx)
		}
		useBatch := r.useBatch.Load()
		execBefore, pausedBefore := r.govs.throttles(w.ci)
		callCtx, cancel := context.WithTimeout(r.ctx, r.opts.CallTimeout)
		began := time.Now()
		var out sendOutcome
		if useBatch {
			out = r.sendBatch(callCtx, w.c, rows, upsert)
		} else {
			out = r.sendMultiple(callCtx, w.c, rows, upsert)
		}
		took := time.Since(began)
		kind := failRow
		if out.err != nil {
			kind = r.classify(callCtx, out.err)
		}
		cancel()
		r.requests.Add(1)
		if attempt > 0 {
			r.retries.Add(1)
		}
		execAfter, pausedAfter := r.govs.throttles(w.ci)
		// A request held back by a throttling pause was slow (or timed
		// out) waiting for the budget, not for its rows: that says nothing
		// about the batch size.
		heldBack := pausedAfter > pausedBefore
		if heldBack && kind == failTimeout {
			kind = failTransient
		}
		if !heldBack || execAfter > execBefore {
			r.sizer.observe(len(rows), took, r.opts.CallTimeout, execAfter > execBefore || isExecutionTimeThrottle(out.err))
		}

		if out.err == nil {
			r.finish(out.written)
			for _, f := range out.failed {
				if err := r.fail(r.failure(f.row, f.err.StatusCode, f.err.Code, f.err.Message)); err != nil {
					return err
				}
			}
			if len(out.again) == 0 {
				return nil
			}
			rows, upsert, attempt = out.again, true, attempt+1
			if attempt >= r.opts.MaxAttempts {
				return r.gaveUp(out.againErr, attempt)
			}
			if err := r.backoff(out.againErr, attempt); err != nil {
				return err
			}
			continue
		}

		switch kind {
		case failCanceled:
			return context.Cause(r.ctx)
		case failFatal:
			return fmt.Errorf("dataverse: BulkJob stopped: %w", out.err)
		case failUnsupported:
			if useBatch {
				return fmt.Errorf("dataverse: BulkJob stopped: %w", out.err)
			}
			if r.opts.Method == BulkMethodMultiple {
				return fmt.Errorf("dataverse: BulkJob stopped: %s does not support the bulk messages and BulkJobOptions.Method is %q: %w", r.table.entitySet, BulkMethodMultiple, out.err)
			}
			if !r.useBatch.Swap(true) && r.opts.BatchSize == 0 {
				// Microsoft's starting size for $batch, unless the caller chose one.
				r.sizer.reset(DefaultBulkBatchOperations)
			}
			return r.process(w, rows, upsert, attempt)
		case failThrottled:
			if err := r.waitThrottle(out.err); err != nil {
				return err
			}
			continue
		case failTimeout:
			upsert = true
			if len(rows) > 1 {
				r.splits.Add(1)
				half := len(rows) / 2
				if err := r.process(w, rows[:half], upsert, attempt); err != nil {
					return err
				}
				return r.process(w, rows[half:], upsert, attempt)
			}
			attempt++
			if attempt >= r.opts.MaxAttempts {
				return r.gaveUp(out.err, attempt)
			}
			continue
		case failTransient:
			upsert = true
			attempt++
			var re *ResponseError
			// A 500 that persists may be the data's fault: isolate it.
			if errors.As(out.err, &re) && re.StatusCode == 500 && attempt >= 3 {
				return r.bisect(w, rows, upsert, out.err)
			}
			if attempt >= r.opts.MaxAttempts {
				return r.gaveUp(out.err, attempt)
			}
			if err := r.backoff(out.err, attempt); err != nil {
				return err
			}
			continue
		default: // failRow
			return r.bisect(w, rows, upsert, out.err)
		}
	}
}

// bisect splits a request refused for its data; a single row goes to the sink.
func (r *bulkRun) bisect(w bulkSender, rows []*bulkRow, upsert bool, err error) error {
	if len(rows) == 1 {
		var re *ResponseError
		f := r.failure(rows[0], 0, "", err.Error())
		if errors.As(err, &re) {
			f.StatusCode, f.Code, f.Message = re.StatusCode, re.Code, re.Message
		}
		return r.fail(f)
	}
	r.splits.Add(1)
	half := len(rows) / 2
	if err := r.process(w, rows[:half], upsert, 0); err != nil {
		return err
	}
	return r.process(w, rows[half:], upsert, 0)
}

// gaveUp is the error of a request that kept failing.
func (r *bulkRun) gaveUp(err error, attempts int) error {
	return fmt.Errorf("dataverse: BulkJob stopped: a request failed %d times for transient reasons (raise BulkJobOptions.MaxAttempts, or run the job again with its checkpoint to continue): %w", attempts, err)
}

// backoff waits before attempt (1, 2, …): the Retry-After of a throttle
// the client gave up on, else an exponential backoff with jitter from
// 0.5 s up to 30 s.
func (r *bulkRun) backoff(err error, attempt int) error {
	var d time.Duration
	var re *ResponseError
	if errors.As(err, &re) && re.RetryAfter > 0 {
		d = re.RetryAfter
	} else {
		d = min(30*time.Second, 500*time.Millisecond<<min(attempt-1, 6))
		d = d/2 + time.Duration(rand.Int64N(int64(d)))
	}
	if err := sleepContext(r.ctx, d); err != nil {
		return context.Cause(r.ctx)
	}
	return nil
}

// waitThrottle waits out a throttle: until the governor's pause ends, or
// the 429's Retry-After (a backoff when it has none), plus a jitter of up
// to a second so that the job's workers do not come back together.
func (r *bulkRun) waitThrottle(err error) error {
	var d time.Duration
	var pe *pauseError
	var re *ResponseError
	switch {
	case errors.As(err, &pe):
		d = time.Until(pe.until)
	case errors.As(err, &re) && re.RetryAfter > 0:
		d = re.RetryAfter
	default:
		d = throttlePauseFallback
	}
	d += time.Duration(rand.Int64N(int64(time.Second)))
	r.throttled.begin()
	defer r.throttled.end()
	if err := sleepContext(r.ctx, d); err != nil {
		return context.Cause(r.ctx)
	}
	return nil
}

// wallClock adds up the wall-clock time during which at least one worker
// waits: several workers waiting out one throttle count once.
type wallClock struct {
	mu      sync.Mutex
	waiting int
	since   time.Time
	total   time.Duration
}

func (w *wallClock) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting == 0 {
		w.since = time.Now()
	}
	w.waiting++
}

func (w *wallClock) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waiting--
	if w.waiting == 0 {
		w.total += time.Since(w.since)
	}
}

// elapsed is the time counted so far, the current wait included.
func (w *wallClock) elapsed() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting > 0 {
		return w.total + time.Since(w.since)
	}
	return w.total
}

// isExecutionTimeThrottle reports a 429 for the execution-time limit.
func isExecutionTimeThrottle(err error) bool {
	var re *ResponseError
	return errors.As(err, &re) && re.Code == CodeThrottledExecutionTime
}

// throttleWait is the wall-clock time the job was held back by the
// service's protection limits: the governors' pauses, or the job's own
// waits after a throttled request, whichever is longer (they overlap).
func (r *bulkRun) throttleWait() time.Duration {
	var paused time.Duration
	if r.govs != nil {
		paused = r.govs.paused()
	}
	return max(paused, r.throttled.elapsed())
}

// result is the run's BulkResult.
func (r *bulkRun) result() *BulkResult {
	res := &BulkResult{
		Written:      r.written.Load(),
		Failed:       r.failed.Load(),
		Skipped:      r.skipped.Load(),
		Read:         r.read.Load(),
		Requests:     r.requests.Load(),
		Retries:      r.retries.Load(),
		Splits:       r.splits.Load(),
		Elapsed:      time.Since(r.start),
		ThrottleWait: r.throttleWait(),
		BatchSize:    r.sizer.size(),
		Method:       BulkMethodMultiple,
	}
	if r.useBatch.Load() {
		res.Method = BulkMethodBatch
	}
	r.mu.Lock()
	res.Failures = append([]BulkFailure(nil), r.kept...)
	r.mu.Unlock()
	return res
}

// checkpointLoop saves the checkpoint every CheckpointInterval until done.
func (r *bulkRun) checkpointLoop(done <-chan struct{}) {
	t := time.NewTicker(r.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if err := r.saveCheckpoint(); err != nil {
				r.stop(err)
				return
			}
		}
	}
}

// saveCheckpoint writes the done positions: first the error sink is
// synced, so that every failure the checkpoint marks done is in it.
func (r *bulkRun) saveCheckpoint() error {
	r.cpMu.Lock()
	defer r.cpMu.Unlock()
	r.mu.Lock()
	cp := &checkpointFile{
		Format:     checkpointFormat,
		Version:    checkpointVersion,
		EntitySet:  r.table.entitySet,
		Mode:       r.opts.Mode,
		Key:        r.opts.KeyColumns,
		Done:       r.done.low,
		Ranges:     append([][2]int64{}, r.done.ranges...),
		Dispatched: r.dispatched.Load(),
		Written:    r.priorWritten + r.written.Load(),
		Failed:     r.priorFailed + r.failed.Load(),
		Updated:    time.Now().UTC().Truncate(time.Second),
	}
	r.mu.Unlock()
	if n := len(cp.Ranges); n > 0 {
		cp.Dispatched = max(cp.Dispatched, cp.Ranges[n-1][1])
	}
	cp.Dispatched = max(cp.Dispatched, cp.Done)
	if s, ok := r.opts.Errors.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return fmt.Errorf("dataverse: BulkJob: syncing the error sink before saving the checkpoint: %w", err)
		}
	}
	return writeCheckpoint(r.cpPath, cp)
}

// batchSizer is the adaptive number of rows per request.
type batchSizer struct {
	mu       sync.Mutex
	cur, max int
}

func (s *batchSizer) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *batchSizer) reset(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur, s.max = n, n
}

// observe adapts the size after a request of n rows that took d: halved
// (from the request's size, so that simultaneous slow requests halve it
// once) when the request took over a quarter of the timeout or ran into
// the execution-time limit; grown by half when it took under a sixteenth
// and was full-sized.
func (s *batchSizer) observe(n int, d, timeout time.Duration, execThrottled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case execThrottled || d > timeout/4:
		s.cur = max(1, min(s.cur, n/2))
	case d < timeout/16 && n >= s.cur:
		s.cur = min(s.max, s.cur+max(1, s.cur/2))
	}
}
