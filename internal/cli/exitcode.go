package cli

import (
	"context"
	"errors"

	"github.com/d365s2s/d365/dataverse"
)

// Exit codes of the d365 command. Scripts may rely on them.
const (
	// ExitOK means success.
	ExitOK = 0
	// ExitError means the operation failed for a reason not covered below (network, I/O, …).
	ExitError = 1
	// ExitUsage means the command line or configuration is wrong: unknown flag, missing argument,
	// missing or invalid setting. Nothing was sent.
	ExitUsage = 2
	// ExitAuth means Microsoft Entra ID refused to issue an access token (an AADSTS error).
	ExitAuth = 3
	// ExitService means Dataverse answered the request with an error status.
	ExitService = 4
	// ExitInterrupted means the command was interrupted (Ctrl-C or SIGTERM) before it finished.
	ExitInterrupted = 130
)

// exitError attaches an exit code to an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a usage or configuration problem (ExitUsage).
func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

// exitCode picks the exit code for an error returned by a command.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, dataverse.ErrInvalidArgument):
		return ExitUsage // refused by the client before anything was sent
	case isEntraError(err):
		return ExitAuth
	case isServiceError(err):
		return ExitService
	default:
		return ExitError
	}
}
