package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/limit"
)

// apiError is a failure with its place in the contract: the status, the code
// and the message the client sees. The cause, if any, is only logged.
type apiError struct {
	status  int
	code    gen.ErrorCode
	message string
	cause   error
	// retryAfter, when set, is sent as Retry-After (whole seconds).
	retryAfter time.Duration
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %v", e.code, e.message, e.cause)
	}
	return fmt.Sprintf("%d %s", e.code, e.message)
}

func (e *apiError) Unwrap() error { return e.cause }

// The failures the contract lists, by code.
var (
	errMissingSession     = &apiError{status: http.StatusUnauthorized, code: gen.CodeMissingSession, message: "Session token is missing"}
	errInvalidSession     = &apiError{status: http.StatusUnauthorized, code: gen.CodeInvalidSession, message: "Session token is invalid"}
	errTwoSessionCookies  = &apiError{status: http.StatusUnauthorized, code: gen.CodeInvalidSession, message: "More than one __session cookie was sent; a cookie set for a parent domain may be shadowing this deployment's"}
	errExpiredSession     = &apiError{status: http.StatusUnauthorized, code: gen.CodeExpiredSession, message: "Session token has expired or is not valid yet"}
	errInactiveSession    = &apiError{status: http.StatusUnauthorized, code: gen.CodeInactiveSession, message: "Session is not active"}
	errDeploymentNotFound = &apiError{status: http.StatusNotFound, code: gen.CodeDeploymentNotFound, message: "Deployment not found"}
	errRouteNotFound      = &apiError{status: http.StatusNotFound, code: gen.CodeRouteNotFound, message: "Route not found"}
	errMethodNotAllowed   = &apiError{status: http.StatusMethodNotAllowed, code: gen.CodeMethodNotAllowed, message: "Method not allowed"}
	// A shed request is retried at once by nobody sensible; a second is plenty.
	errOverloaded = &apiError{status: http.StatusServiceUnavailable, code: gen.ErrorCode(gen.CodeOverloaded), message: "Server busy; retry later", retryAfter: time.Second}
)

func rateLimited(wait time.Duration) *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: gen.ErrorCode(gen.CodeRateLimited), message: "Too many requests; retry later", retryAfter: wait}
}

func badParameter(message string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: gen.CodeBadParameter, message: message}
}

func internal(cause error) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: gen.CodeInternal, message: "internal error", cause: cause}
}

func errorBody(code gen.ErrorCode, message string) gen.ErrorResponse {
	return gen.ErrorResponse{Errors: []gen.Error{{Code: code, Message: message}}}
}

// renderError is Echo's HTTPErrorHandler: every failure, from the router, the
// contract, authentication, the handler or a panic, leaves as one envelope.
func renderError(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := classify(err)
		id := requestID(c)
		message := e.message
		if e.retryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(limit.Seconds(e.retryAfter)))
		}
		if e.status == http.StatusInternalServerError {
			log.ErrorContext(c.Request().Context(), "request failed", "request_id", id, "err", err)
			message = fmt.Sprintf("internal error (request id %s)", id)
		}
		if err := c.JSON(e.status, errorBody(e.code, message)); err != nil {
			log.Debug("writing error response", "request_id", id, "err", err)
		}
	}
}

// classify maps any error to its place in the contract; anything unknown is
// internal.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return errRouteNotFound
		case http.StatusMethodNotAllowed:
			return errMethodNotAllowed
		case http.StatusBadRequest:
			// The generated wrapper's binding errors: the contract check has
			// already passed, so this is rare; say no more than necessary.
			return badParameter("Invalid request parameter")
		}
	}
	return internal(err)
}
