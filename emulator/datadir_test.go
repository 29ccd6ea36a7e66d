package emulator_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// A second emulator on a data directory in use refuses to start, names the PID that holds the
// directory and touches nothing; once the first stops, the directory can be used again.
func TestDataDirHoldsOneEmulator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := emulator.New(&emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, "emulator.db"))
	if err != nil {
		t.Fatal(err)
	}

	second, err := emulator.New(&emulator.Options{DataDir: dir})
	if err == nil {
		second.Close()
		first.Close()
		t.Fatal("a second emulator started on a data directory in use")
	}
	if !errors.Is(err, emulator.ErrDataDirInUse) {
		t.Errorf("error %v is not ErrDataDirInUse", err)
	}
	pid := strconv.Itoa(os.Getpid())
	if msg := err.Error(); !strings.Contains(msg, "process "+pid) || !strings.Contains(msg, dir) {
		t.Errorf("error %q does not name the directory and the holder's PID %s", msg, pid)
	}
	after, err := os.ReadFile(filepath.Join(dir, "emulator.db"))
	if err != nil || string(after) != string(before) {
		t.Errorf("the refused start changed the first emulator's database (%v)", err)
	}
	// The first emulator still serves.
	if _, err := first.Apps(t.Context(), ""); err != nil {
		t.Errorf("first emulator after the refused start: %v", err)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third, err := emulator.New(&emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatalf("start after the first stopped: %v", err)
	}
	third.Close()
}

// An existing data directory that others may read is tightened to the owner only: it holds the
// CA key, the token signing key and the secrets' hashes.
func TestExistingDataDirIsTightenedTo0700(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	emu, err := emulator.New(&emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("data directory mode %#o, want 0700", perm)
	}
}
