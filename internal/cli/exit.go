package cli

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wachtbench/memberships/client"
	"github.com/wachtbench/memberships/internal/domain"
)

// Exit codes, chosen by the error's type (exitCode); the table is in the
// root command's help, so scripts can tell a retry from a fix.
const (
	exitOK          = 0
	exitError       = 1 // anything below does not cover
	exitUsage       = 2 // bad command, argument, flag or MEMBERSHIPS_* value
	exitData        = 3 // the data given is invalid or conflicts with the database
	exitNotFound    = 4 // what was named is not in the database
	exitUnavailable = 5 // the database or the API cannot be reached; retry later
	exitRejected    = 6 // the API answered with an error envelope
)

const exitCodesHelp = `Exit codes:
  0  success
  1  any other failure
  2  usage: unknown command or flag, wrong arguments, a flag or MEMBERSHIPS_*
     value that does not parse or is out of range, an address that cannot
     be listened on
  3  invalid data: the file load was given does not parse, breaks a rule or
     conflicts with the database (nothing was loaded)
  4  not found: token's --host or --user is not in the database
  5  unavailable: the database cannot be opened or migrated; list cannot
     reach --url, or the API answered 429 or 503 (retry later)
  6  rejected: the API answered list with another error (the message and
     its code are printed)`

// usageError marks a bad command line or setting: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// codedError carries an exit code chosen where the failure is understood
// (invalid data, an unavailable database); its message is err's.
type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

func invalidData(err error) error { return codedError{exitData, err} }
func unavailable(err error) error { return codedError{exitUnavailable, err} }

// exitCode maps an error returned by a command to the process's exit code.
func exitCode(err error) int {
	var (
		ue  usageError
		ce  codedError
		api *client.APIError
		ue2 *url.Error
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, domain.ErrNotFound):
		return exitNotFound
	case errors.Is(err, domain.ErrConflict):
		return exitData
	case errors.As(err, &api):
		if api.Status == http.StatusTooManyRequests || api.Status == http.StatusServiceUnavailable {
			return exitUnavailable
		}
		return exitRejected
	case errors.As(err, &ue2): // the HTTP client's: no answer from --url
		return exitUnavailable
	}
	return exitError
}
