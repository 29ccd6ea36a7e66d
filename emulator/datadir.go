package emulator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

// LockFile is the file inside Options.DataDir that an emulator holds an exclusive lock on while
// it runs (an advisory lock, released by the operating system when the process ends, however it
// ends). It holds the PID of the process that has the lock, so the next one can say who.
const LockFile = "emulator.lock"

// ErrDataDirInUse means another emulator (in this process or another) runs on the data directory.
// Two emulators on one directory would disagree on limits, signing keys and Reset, and one could
// wipe the other's data, so the second refuses to start. The error's text names the PID.
var ErrDataDirInUse = errors.New("data directory in use")

// dataDirLock is the lock an emulator holds on its data directory.
type dataDirLock struct{ lock *flock.Flock }

// prepareDataDir creates the data directory (mode 0700), tightens an existing one to 0700 (it
// holds the CA key, the token signing key and the secrets' hashes), and locks it for this process.
func prepareDataDir(dir string) (*dataDirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("emulator: create data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("emulator: restrict the data directory %s to its owner (chmod 700): %w", dir, err)
	}
	path := filepath.Join(dir, LockFile)
	lock := flock.New(path, flock.SetPermissions(0o600))
	locked, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("emulator: lock the data directory %s: %w", dir, err)
	}
	if !locked {
		holder := "another process"
		if pid := readLockPID(path); pid > 0 {
			holder = "process " + strconv.Itoa(pid)
		}
		return nil, fmt.Errorf("emulator: the data directory %s is used by another emulator (%s holds %s): stop that emulator, or give this one another data directory: %w",
			dir, holder, LockFile, ErrDataDirInUse)
	}
	// The lock is on the file, not on this descriptor's contents: writing the PID through
	// another descriptor keeps it.
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		lock.Unlock()
		return nil, fmt.Errorf("emulator: write %s: %w", path, err)
	}
	return &dataDirLock{lock: lock}, nil
}

// readLockPID reads the PID a lock file holds; 0 when it holds none (the holder has not written
// it yet).
func readLockPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// release gives the directory up. The file stays: removing it would let a third emulator lock a
// new file while a second still waits on the old one.
func (l *dataDirLock) release() error {
	if l == nil {
		return nil
	}
	return l.lock.Unlock()
}

// CACertFile is the file name of the emulator's CA certificate inside Options.DataDir: public,
// meant to be handed to clients (D365_CA_FILE). Its key stays beside it, private to the emulator.
const CACertFile = "ca.pem"
