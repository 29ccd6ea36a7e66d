package dataverse

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"
)

// A BulkJob writes a stream of records into one table at volume: many
// records per request (CreateMultiple, UpdateMultiple, UpsertMultiple, or
// a $batch of single operations where the table does not support them),
// many requests at once, spread over one or more Clients (several
// application users, each with its own service-protection budget).
//
//	job, err := dataverse.NewBulkJob([]*dataverse.Client{client}, "contacts", &dataverse.BulkJobOptions{
//		LogicalName: "contact",
//		Mode:        dataverse.BulkCreate,
//		Checkpoint:  "contacts.checkpoint",
//		Errors:      sink,
//	})
//	res, err := job.Run(ctx, rows) // rows is an iter.Seq2[dataverse.Record, error]
//	fmt.Println(res.Written, res.Failed, res.Skipped)
//
// What it guarantees:
//
//   - A request that fails for a row's data (a 4xx: a string too long, a
//     lookup to a missing record) is split in halves until the failing
//     rows are isolated; those rows go to the error sink with their input
//     position, the Dataverse code and message, and every other row is
//     written.
//   - Throttling, 5xx answers, dropped connections and timeouts are retried
//     (throttled calls first inside the Client, which honours Retry-After).
//     A create whose outcome was lost is retried as an upsert of the same
//     client-generated id, so it is never duplicated.
//   - With a checkpoint file, a job killed at any moment (kill -9) and run
//     again with the same checkpoint and input writes every row once: done
//     positions are skipped and the rows that may have been sent are
//     upserted by their ids.
//   - The batch size adapts: halved after a timeout, an execution-time
//     refusal or a very slow call, grown back while calls are fast.
//
// A BulkJob runs once.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/bulk-operations
// and https://learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests
type BulkJob struct {
	clients []*Client
	table   bulkTable
	opts    BulkJobOptions // resolved copy

	mu  sync.Mutex
	ran bool
}

// BulkMode says what a BulkJob does with each record.
type BulkMode string

// The modes of a BulkJob.
const (
	// BulkCreate creates every record. A record without its primary id
	// gets one derived from the table, its input position and its content
	// (a UUID version 5), so a resumed job reproduces it.
	BulkCreate BulkMode = "create"
	// BulkUpdate updates existing records, identified by their primary id
	// or, with BulkJobOptions.KeyColumns, by an alternate key. A missing
	// record is a failed row.
	BulkUpdate BulkMode = "update"
	// BulkUpsert creates or updates records, identified by their primary id
	// (a record without one is created with a derived id, as BulkCreate
	// does) or, with BulkJobOptions.KeyColumns, by an alternate key.
	BulkUpsert BulkMode = "upsert"
)

func (m BulkMode) valid() bool { return m == BulkCreate || m == BulkUpdate || m == BulkUpsert }

// BulkMethod chooses the requests a BulkJob sends.
type BulkMethod string

// The methods of a BulkJob.
const (
	// BulkMethodAuto sends bulk messages (CreateMultiple, UpdateMultiple,
	// UpsertMultiple) and falls back to $batch when the table answers that
	// it does not support them, or for an update by alternate key.
	BulkMethodAuto BulkMethod = ""
	// BulkMethodMultiple sends only bulk messages.
	BulkMethodMultiple BulkMethod = "multiple"
	// BulkMethodBatch sends $batch requests of single operations
	// (continue-on-error), one per record.
	BulkMethodBatch BulkMethod = "batch"
)

// Defaults of BulkJobOptions.
const (
	// DefaultBulkBatchOperations is the starting number of operations per
	// $batch request: Microsoft's guidance is to start around 10 and rely
	// on parallel requests rather than big batches (see
	// https://learn.microsoft.com/power-apps/developer/data-platform/api-limits#how-to-maximize-throughput).
	// Bulk messages start at DefaultBulkChunkSize.
	DefaultBulkBatchOperations = 10
	// DefaultBulkCallTimeout bounds one request of a BulkJob. Microsoft's
	// SDK clients time out after 2 minutes (CrmServiceClient) or 4
	// (ServiceClient) and advise fewer records per request rather than a
	// longer timeout.
	DefaultBulkCallTimeout = 2 * time.Minute
	// DefaultBulkConcurrency is the number of workers of a Client whose
	// governor cannot be found (its credential gives no token) when
	// BulkJobOptions.Concurrency is 0; otherwise the governor's Limit
	// decides.
	DefaultBulkConcurrency = 8
	// DefaultBulkMaxAttempts is how often a request that failed for a
	// transient reason (5xx, dropped connection, timeout, a throttle the
	// Client gave up waiting for) is sent before the job stops.
	DefaultBulkMaxAttempts = 10
	// DefaultCheckpointInterval is how often a BulkJob saves its checkpoint.
	DefaultCheckpointInterval = time.Second
	// DefaultProgressInterval is how often a BulkJob reports progress.
	DefaultProgressInterval = 500 * time.Millisecond
)

// BulkJobOptions configures a BulkJob. A nil *BulkJobOptions selects the
// defaults: create mode, bulk messages, automatic concurrency, no
// checkpoint, failures kept in BulkResult.Failures.
type BulkJobOptions struct {
	// Mode is what to do with each record; "" means BulkCreate.
	Mode BulkMode

	// KeyColumns names the columns of an alternate key (for example
	// ["accountnumber"]) that identify the records of an update or upsert:
	// each record must hold them, and they address the row
	// ("accounts(accountnumber='A-1')") instead of the primary id. Empty
	// means the primary id.
	KeyColumns []string

	// LogicalName is the table's logical name ("contact"), needed for the
	// bulk messages' "@odata.type". Empty means it is read from the
	// table's metadata (EntityDefinitions) before the first write.
	LogicalName string

	// PrimaryIDAttribute is the table's primary id column ("contactid").
	// Empty means it is read from the metadata with LogicalName, or, when
	// LogicalName is given, "<LogicalName>id" (right for every standard
	// and custom table except activities' "activityid").
	PrimaryIDAttribute string

	// Method chooses bulk messages or $batch; BulkMethodAuto by default.
	Method BulkMethod

	// BatchSize is the starting (and largest) number of records per
	// request: DefaultBulkChunkSize for bulk messages,
	// DefaultBulkBatchOperations for $batch (at most MaxBatchOperations).
	BatchSize int

	// Concurrency is the number of requests in flight across all clients.
	// 0 means automatic: for each application user, what its Governor
	// allows now (Governor.Limit: it follows the service's x-ms-dop-hint
	// and backs off on concurrency throttles), shared by the pool's
	// clients of that user.
	Concurrency int

	// CallTimeout bounds each request; DefaultBulkCallTimeout when 0. A
	// request that times out is retried with half the records; one that
	// takes over a quarter of it halves the batch size.
	CallTimeout time.Duration

	// MaxAttempts is how often a request failing for transient reasons is
	// sent before the job stops with the error; DefaultBulkMaxAttempts
	// when 0.
	MaxAttempts int

	// Checkpoint is the path of the checkpoint file; empty means none.
	// An existing file is resumed (it must come from a job of the same
	// entity set, mode and key columns, run on the same input); it is
	// created otherwise.
	Checkpoint string

	// CheckpointInterval is how often the checkpoint is saved while the
	// job runs (and always at the end); DefaultCheckpointInterval when 0.
	CheckpointInterval time.Duration

	// Errors receives every failed row. Nil keeps the first
	// MaxBulkFailuresKept in BulkResult.Failures.
	Errors BulkErrorSink

	// OnProgress, when set, is called every ProgressInterval and once at
	// the end (with Final set), from one goroutine at a time.
	OnProgress func(BulkProgress)

	// ProgressInterval is how often OnProgress is called;
	// DefaultProgressInterval when 0.
	ProgressInterval time.Duration

	// RequestOptions apply to every request (bypass of custom business
	// logic, impersonation, a solution).
	RequestOptions RequestOptions
}

// MaxBulkFailuresKept is how many failures BulkResult.Failures keeps when
// BulkJobOptions.Errors is nil.
const MaxBulkFailuresKept = 100

// BulkResult is what a BulkJob did.
type BulkResult struct {
	// Written is the number of rows written by this run.
	Written int64
	// Failed is the number of rows the service refused, each reported to
	// the error sink.
	Failed int64
	// Skipped is the number of rows not sent because the checkpoint says
	// an earlier run already wrote them (or reported them failed).
	Skipped int64
	// Read is the number of rows read from the input.
	Read int64
	// Requests is the number of requests sent, Retries those sent again
	// after a transient failure, and Splits the failed requests split to
	// isolate failing rows.
	Requests, Retries, Splits int64
	// Elapsed is the run's duration, ThrottleWait the wall-clock time
	// during which the service's protection limits held the job back (the
	// pauses of the clients' governors, or the job's own waits after a
	// throttled request, whichever is longer).
	Elapsed, ThrottleWait time.Duration
	// BatchSize is the number of records per request at the end.
	BatchSize int
	// Method is the method the job ended with (bulk messages or $batch).
	Method BulkMethod
	// Failures are the first MaxBulkFailuresKept failed rows, when
	// BulkJobOptions.Errors is nil.
	Failures []BulkFailure
}

// RowsPerSecond is the rate of rows written or failed during the run.
func (r *BulkResult) RowsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Written+r.Failed) / r.Elapsed.Seconds()
}

// BulkProgress is a snapshot of a running BulkJob, for a progress bar.
type BulkProgress struct {
	// Read, Written, Failed and Skipped count rows so far (see BulkResult).
	Read, Written, Failed, Skipped int64
	// Elapsed is the time since the job started.
	Elapsed time.Duration
	// RowsPerSecond is the rate of rows written or failed over the last
	// few seconds.
	RowsPerSecond float64
	// BatchSize is the current number of records per request, Workers the
	// requests allowed in flight.
	BatchSize, Workers int
	// ThrottleWait is the wall-clock time the service's protection limits
	// held the job back so far (see BulkResult); Retries the requests sent
	// again.
	ThrottleWait time.Duration
	Retries      int64
	// Final is set on the last report, after the job ended.
	Final bool
}

// NewBulkJob returns a job that writes records into entitySet ("contacts")
// through clients: one Client per application user (each with its own
// service-protection budget); the work spreads over all of them. opts may
// be nil.
func NewBulkJob(clients []*Client, entitySet string, opts *BulkJobOptions) (*BulkJob, error) {
	if opts == nil {
		opts = &BulkJobOptions{}
	}
	o := *opts
	o.KeyColumns = slices.Clone(o.KeyColumns)
	if len(clients) == 0 {
		return nil, invalidf("dataverse: NewBulkJob: no clients; pass at least one *Client")
	}
	for i, c := range clients {
		if c == nil {
			return nil, invalidf("dataverse: NewBulkJob: client %d is nil", i)
		}
	}
	if _, err := entitySetPath(entitySet); err != nil {
		return nil, err
	}
	if o.Mode == "" {
		o.Mode = BulkCreate
	}
	if !o.Mode.valid() {
		return nil, invalidf("dataverse: NewBulkJob: mode %q is not %q, %q or %q", o.Mode, BulkCreate, BulkUpdate, BulkUpsert)
	}
	if len(o.KeyColumns) > 0 && o.Mode == BulkCreate {
		return nil, invalidf("dataverse: NewBulkJob: key columns %v name an alternate key, which only an update or upsert uses; drop them or choose mode %q or %q", o.KeyColumns, BulkUpdate, BulkUpsert)
	}
	for _, k := range o.KeyColumns {
		if !propertyNamePattern.MatchString(k) {
			return nil, invalidf("dataverse: NewBulkJob: key column %q is not a column logical name", k)
		}
	}
	if o.LogicalName != "" && !propertyNamePattern.MatchString(o.LogicalName) {
		return nil, invalidf("dataverse: NewBulkJob: %q is not a table logical name such as \"contact\"", o.LogicalName)
	}
	if o.PrimaryIDAttribute != "" && !propertyNamePattern.MatchString(o.PrimaryIDAttribute) {
		return nil, invalidf("dataverse: NewBulkJob: %q is not a column logical name such as \"contactid\"", o.PrimaryIDAttribute)
	}
	switch o.Method {
	case BulkMethodAuto, BulkMethodMultiple, BulkMethodBatch:
	default:
		return nil, invalidf("dataverse: NewBulkJob: method %q is not %q, %q or empty (automatic)", o.Method, BulkMethodMultiple, BulkMethodBatch)
	}
	if o.Method == BulkMethodMultiple && o.Mode == BulkUpdate && len(o.KeyColumns) > 0 {
		return nil, invalidf("dataverse: NewBulkJob: UpdateMultiple cannot address records by alternate key; use method %q (or the automatic method) for an update by key", BulkMethodBatch)
	}
	switch {
	case o.BatchSize < 0:
		return nil, invalidf("dataverse: NewBulkJob: batch size %d is negative", o.BatchSize)
	case o.Concurrency < 0:
		return nil, invalidf("dataverse: NewBulkJob: concurrency %d is negative; 0 means automatic", o.Concurrency)
	case o.CallTimeout < 0 || o.MaxAttempts < 0 || o.CheckpointInterval < 0 || o.ProgressInterval < 0:
		return nil, invalidf("dataverse: NewBulkJob: CallTimeout, MaxAttempts, CheckpointInterval and ProgressInterval must not be negative")
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultBulkCallTimeout
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultBulkMaxAttempts
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.ProgressInterval == 0 {
		o.ProgressInterval = DefaultProgressInterval
	}
	return &BulkJob{
		clients: slices.Clone(clients),
		table:   bulkTable{entitySet: entitySet, logicalName: o.LogicalName, primaryID: o.PrimaryIDAttribute},
		opts:    o,
	}, nil
}

// Run reads rows and writes them, and returns when every row is written
// or reported failed, when ctx is done, or when the service keeps failing
// for transient reasons (the error then says why; the checkpoint lets a
// new job continue). A row's input position is its index in rows,
// counting from 0; an error yielded by rows stops the job at that
// position (rows before it are finished and checkpointed).
//
// The result is never nil; its counts are right even when err is not nil.
func (j *BulkJob) Run(ctx context.Context, rows iter.Seq2[Record, error]) (*BulkResult, error) {
	j.mu.Lock()
	if j.ran {
		j.mu.Unlock()
		return &BulkResult{}, errors.New("dataverse: BulkJob.Run: the job has already run; create a new BulkJob (with the same checkpoint to continue it)")
	}
	j.ran = true
	j.mu.Unlock()
	if rows == nil {
		return &BulkResult{}, invalidf("dataverse: BulkJob.Run: rows is nil")
	}
	r, err := j.newRun(ctx)
	if err != nil {
		return &BulkResult{Method: j.opts.Method}, err
	}
	return r.run(ctx, rows)
}

// bulkTable names the table a job writes.
type bulkTable struct {
	entitySet, logicalName, primaryID string
}

// resolveTable fills the table's logical name and primary id column from
// its metadata (Client.TableMetadata) when the options did not give them.
func (j *BulkJob) resolveTable(ctx context.Context) error {
	t := &j.table
	if t.logicalName != "" {
		if t.primaryID == "" {
			t.primaryID = t.logicalName + "id" // documented fallback
		}
		return nil
	}
	md, err := j.clients[0].TableMetadata(ctx, t.entitySet)
	if err != nil {
		var re *ResponseError
		if errors.As(err, &re) && re.Code == CodeObjectDoesNotExist {
			return invalidf("dataverse: BulkJob: no table has the entity set name %q (names are case-sensitive: 'contacts', 'accounts')", t.entitySet)
		}
		return fmt.Errorf("dataverse: BulkJob: reading the metadata of %s (set BulkJobOptions.LogicalName to skip it): %w", t.entitySet, err)
	}
	t.logicalName = md.LogicalName
	if t.primaryID == "" {
		t.primaryID = md.PrimaryIDAttribute
	}
	if t.logicalName == "" {
		return invalidf("dataverse: BulkJob: no table has the entity set name %q (names are case-sensitive: 'contacts', 'accounts')", t.entitySet)
	}
	if t.primaryID == "" {
		t.primaryID = t.logicalName + "id"
	}
	return nil
}
