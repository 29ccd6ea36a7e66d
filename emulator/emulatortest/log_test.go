package emulatortest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// logTB is a test whose failure the test sets, recording what is logged to it. Logging after
// its cleanups ran fails the real test, as testing panics on t.Log after a test ended.
type logTB struct {
	real     *testing.T
	mu       sync.Mutex
	failed   bool
	ended    bool
	logged   []string
	cleanups []func()
}

func (f *logTB) Helper()                           {}
func (f *logTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *logTB) Fatalf(format string, args ...any) { f.real.Fatalf(format, args...) }
func (f *logTB) Errorf(format string, args ...any) { f.real.Errorf(format, args...) }
func (f *logTB) Failed() bool                      { f.mu.Lock(); defer f.mu.Unlock(); return f.failed }
func (f *logTB) Log(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		f.real.Errorf("Log after the test ended: %v", args)
	}
	f.logged = append(f.logged, fmt.Sprint(args...))
}

// end runs the cleanups, last registered first, as testing does, and marks the test over.
func (f *logTB) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.mu.Lock()
	f.ended = true
	f.mu.Unlock()
}

func (f *logTB) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.logged, "\n")
}

// A failed test's output ends with the emulator's log, here the reason of a refused request; a
// test that passed shows nothing of it.
func TestNewWritesTheEmulatorsLogWhenTheTestFails(t *testing.T) {
	t.Setenv(emulatortest.LogEnv, "") // the default, whatever the developer's shell says
	for _, failed := range []bool{true, false} {
		t.Run(fmt.Sprintf("failed=%v", failed), func(t *testing.T) {
			f := &logTB{real: t}
			env := emulatortest.New(f, nil)
			client, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.Create(context.Background(), "contacts", dataverse.Record{"nosuchcolumn": 1}, nil); err == nil {
				t.Fatal("a create with an unknown column succeeded")
			}
			f.failed = failed
			f.end()
			out := f.output()
			refusal := `msg="webapi: request refused" component=webapi method=POST path=/api/data/v9.2/contacts`
			switch {
			case failed && !strings.Contains(out, refusal):
				t.Errorf("failed test's output lacks the emulator's log line %q:\n%s", refusal, out)
			case !failed && out != "":
				t.Errorf("a test that passed got output:\n%s", out)
			}
		})
	}
}

// Streaming writes each record as it comes; a record logged after the test ended is not passed
// to t.Log (testing would panic).
func TestLoggerStreamsAndNeverLogsAfterTheTestEnded(t *testing.T) {
	t.Setenv(emulatortest.LogEnv, "stream")
	f := &logTB{real: t}
	log := emulatortest.Logger(f)
	log.Info("first", "n", 1)
	if out := f.output(); !strings.Contains(out, "msg=first n=1") {
		t.Errorf("streamed output %q lacks the record", out)
	}
	f.failed = true
	f.end()
	log.Error("after the end")
	if out := f.output(); strings.Contains(out, "after the end") {
		t.Errorf("a record logged after the test ended reached t.Log: %q", out)
	}
}

func TestLoggerOff(t *testing.T) {
	t.Setenv(emulatortest.LogEnv, "off")
	f := &logTB{real: t}
	emulatortest.Logger(f).Error("boom")
	f.failed = true
	f.end()
	if out := f.output(); out != "" || len(f.cleanups) != 0 {
		t.Errorf("with %s=off: output %q, %d cleanups", emulatortest.LogEnv, out, len(f.cleanups))
	}
}
