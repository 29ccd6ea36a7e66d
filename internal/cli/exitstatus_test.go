package cli

import (
	"errors"
	"os/exec"
)

// exitStatus extracts a process exit code from the error testscript's Exec returns.
func exitStatus(err error) (int, bool) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), true
	}
	return 0, false
}
