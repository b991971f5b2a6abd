package client

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// SessionCookie is the cookie that carries the session token.
const SessionCookie = "__session"

// WithSession sends token as the __session cookie on every request.
func WithSession(token string) ClientOption {
	return WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: token})
		return nil
	})
}

// APIError is an error answer of the API: its status and the first entry of
// its error envelope.
type APIError struct {
	Status  int
	Code    ErrorCode
	Message string
	// RetryAfter is when a 429 or 503 may be retried (its Retry-After).
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (status %d, code %d)", e.Message, e.Status, e.Code)
}

// Err returns the answer's error as an *APIError, or nil for a 200.
func (r *GetUserWorkspaceMembershipsResponse) Err() error {
	if r.JSON200 != nil {
		return nil
	}
	for _, env := range []*ErrorResponse{r.JSON400, r.JSON401, r.JSON404, r.JSON500} {
		if env != nil && len(env.Errors) > 0 {
			return &APIError{Status: r.StatusCode(), Code: env.Errors[0].Code, Message: env.Errors[0].Message}
		}
	}
	for _, env := range []*RetryLaterResponse{r.JSON429, r.JSON503} {
		if env != nil && len(env.Errors) > 0 {
			secs, _ := strconv.Atoi(r.HTTPResponse.Header.Get("Retry-After"))
			return &APIError{Status: r.StatusCode(), Code: ErrorCode(env.Errors[0].Code), Message: env.Errors[0].Message,
				RetryAfter: time.Duration(secs) * time.Second}
		}
	}
	return &APIError{Status: r.StatusCode(), Message: "unexpected answer: " + http.StatusText(r.StatusCode())}
}
