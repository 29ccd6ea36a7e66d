package emulatortest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// LogEnv names the environment variable that chooses what happens to the emulator's log in
// tests (see [Logger]): "" or "failure" keeps it and writes it to the test's output when the
// test fails, "stream" writes each line to the test's output as it is logged (go test -v shows
// them as they come), "off" discards it.
const LogEnv = "D365_EMULATOR_TEST_LOG"

// logLimit bounds the log kept for a failing test. Past it, records below Warn are dropped
// (and counted) so that a long test cannot grow memory without bound; warnings and errors
// (a 500's cause is logged at Error) are kept up to twice the limit.
const logLimit = 4 << 20

// LogTB is what [Logger] needs of a test; *testing.T and *testing.B satisfy it.
type LogTB interface {
	Helper()
	Cleanup(func())
	Failed() bool
	Log(args ...any)
}

// Logger returns a logger for an emulator a test starts itself with emulator.New (New uses it
// when Options.Logger is nil): by default the records are kept and, if the test has failed by
// the time its cleanups run, written to the test's output, so that a 500 in a test comes with
// the cause the emulator logged. [LogEnv] chooses streaming or discarding instead.
//
// The emulator may log after the test's function returned (a connection closing while the
// cleanups run): those records are kept, never passed to t.Log after the test ended, which
// would panic.
func Logger(t LogTB) *slog.Logger {
	t.Helper()
	mode := strings.ToLower(strings.TrimSpace(os.Getenv(LogEnv)))
	if mode == "off" {
		return slog.New(slog.DiscardHandler)
	}
	sink := &testLog{t: t, stream: mode == "stream"}
	t.Cleanup(sink.finish)
	// A benchmark keeps warnings and errors only: formatting a record per request would be
	// counted in the CPU time it measures.
	level := slog.LevelDebug
	if _, bench := t.(*testing.B); bench {
		level = slog.LevelWarn
	}
	return slog.New(&limitHandler{Handler: slog.NewTextHandler(sink, &slog.HandlerOptions{Level: level}), sink: sink})
}

// limitHandler stops formatting records below Warn once the kept log is full (they would be
// dropped anyway).
type limitHandler struct {
	slog.Handler
	sink *testLog
}

func (h *limitHandler) Enabled(ctx context.Context, level slog.Level) bool {
	if level < slog.LevelWarn && h.sink.full() {
		return false
	}
	return h.Handler.Enabled(ctx, level)
}

func (h *limitHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &limitHandler{Handler: h.Handler.WithAttrs(attrs), sink: h.sink}
}

func (h *limitHandler) WithGroup(name string) slog.Handler {
	return &limitHandler{Handler: h.Handler.WithGroup(name), sink: h.sink}
}

// testLog is the writer behind Logger's handler: slog's TextHandler writes each record with
// one Write call, so a Write is one record.
type testLog struct {
	t      LogTB
	stream bool

	mu      sync.Mutex
	ended   bool // the cleanup ran: the test is over, t.Log must not be called again
	buf     bytes.Buffer
	dropped int // records left out past logLimit
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return len(p), nil
	}
	if l.stream {
		l.t.Log("emulator: " + strings.TrimSuffix(string(p), "\n"))
		return len(p), nil
	}
	limit := logLimit
	if isWarnOrError(p) {
		limit *= 2
	}
	if l.buf.Len()+len(p) > limit {
		l.dropped++
		return len(p), nil
	}
	l.buf.Write(p)
	return len(p), nil
}

// full reports whether records below Warn are dropped now.
func (l *testLog) full() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.stream && (l.ended || l.buf.Len() >= logLimit)
}

// isWarnOrError reports whether a TextHandler record is at Warn or above.
func isWarnOrError(rec []byte) bool {
	return bytes.Contains(rec, []byte(" level=WARN")) || bytes.Contains(rec, []byte(" level=ERROR"))
}

// finish writes the kept log to a failed test's output; records logged later are kept but
// never written.
func (l *testLog) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = true
	if !l.t.Failed() || l.buf.Len() == 0 {
		l.buf.Reset()
		return
	}
	var b strings.Builder
	b.WriteString("the emulator's log (the test failed):\n")
	b.Write(l.buf.Bytes())
	if l.buf.Len() >= logLimit || l.dropped > 0 {
		fmt.Fprintf(&b, "(the log passed %d bytes: later records below WARN were left out, and %d others)\n", logLimit, l.dropped)
	}
	l.t.Log(b.String())
	l.buf.Reset()
}

// withTestLogger returns opts with Logger set for t when t can take a log and opts has none;
// the caller's Options are not changed.
func withTestLogger(t TB, opts *emulator.Options) *emulator.Options {
	lt, ok := t.(LogTB)
	if !ok || (opts != nil && opts.Logger != nil) {
		return opts
	}
	o := emulator.Options{}
	if opts != nil {
		o = *opts
	}
	o.Logger = Logger(lt)
	return &o
}
