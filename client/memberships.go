package client

import (
	"context"
	"errors"
	"net/http"
	"sync"
)

// Memberships is the hand-written face of the API: one method per question,
// typed answers, and *APIError for every error answer. The generated
// ClientWithResponses underneath stays reachable through Raw.
type Memberships struct {
	c       *ClientWithResponses
	session *sessionFollower
	last    lastAnswers
}

// lastAnswers are the latest 200 answers and their ETags, by organization
// filter, so that List revalidates (If-None-Match) instead of downloading an
// unchanged answer again.
type lastAnswers struct {
	mu sync.Mutex
	m  map[string]lastAnswer
}

type lastAnswer struct {
	etag   string
	answer *WorkspaceMembershipsResponse
}

func (l *lastAnswers) get(filter string) lastAnswer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[filter]
}

func (l *lastAnswers) put(filter string, a lastAnswer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]lastAnswer{}
	}
	l.m[filter] = a
}

// New returns a client of the deployment at baseURL (scheme and host, e.g.
// "https://acme.example.com"). Options are the generated ones plus
// WithSession; a client without WithHTTPClient uses http.DefaultClient, so
// bound the calls with the context. When the server refreshes an expired
// session token, the client sends the new one from then on (see Session).
func New(baseURL string, opts ...ClientOption) (*Memberships, error) {
	f := &sessionFollower{}
	c, err := NewClientWithResponses(baseURL, append(opts, func(c *Client) error {
		f.next = c.Client
		if f.next == nil {
			f.next = http.DefaultClient
		}
		c.Client = f
		return nil
	})...)
	if err != nil {
		return nil, err
	}
	return &Memberships{c: c, session: f}, nil
}

// Session is the latest session token the server handed back when it
// refreshed an expired one ("" if it has not): keep it for the next run, the
// one given to WithSession must not be used again.
func (m *Memberships) Session() string { return m.session.current() }

// Raw is the generated client, for what the wrapper does not cover.
func (m *Memberships) Raw() *ClientWithResponses { return m.c }

// ListOption narrows a List call.
type ListOption func(*GetUserWorkspaceMembershipsParams)

// InOrganization keeps only the memberships of one organization (a decimal
// id). An organization without memberships of the caller gives an empty
// list, never an error.
func InOrganization(orgID string) ListOption {
	return func(p *GetUserWorkspaceMembershipsParams) { p.OrgId = &orgID }
}

// List returns the caller's workspace memberships, newest first, with the
// session they were read under. An error answer is an *APIError. The client
// remembers the last answer (per organization filter) and its ETag, asks
// with If-None-Match, and on 304 Not Modified returns that same answer:
// treat it as read-only.
func (m *Memberships) List(ctx context.Context, opts ...ListOption) (*WorkspaceMembershipsResponse, error) {
	var params GetUserWorkspaceMembershipsParams
	for _, o := range opts {
		o(&params)
	}
	filter := ""
	if params.OrgId != nil {
		filter = *params.OrgId
	}
	last := m.last.get(filter)
	if last.etag != "" {
		params.IfNoneMatch = &last.etag
	}
	resp, err := m.c.GetUserWorkspaceMembershipsWithResponse(ctx, &params)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode() == http.StatusNotModified && last.answer != nil {
		return last.answer, nil
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	if etag := resp.HTTPResponse.Header.Get("ETag"); etag != "" {
		m.last.put(filter, lastAnswer{etag: etag, answer: resp.JSON200})
	}
	return resp.JSON200, nil
}

// ListOrg is List(ctx, InOrganization(orgID)).
func (m *Memberships) ListOrg(ctx context.Context, orgID string) (*WorkspaceMembershipsResponse, error) {
	return m.List(ctx, InOrganization(orgID))
}

// Restricted reports whether the caller may not use the membership's
// workspace right now; EligibilityRestriction.Message says why.
func (m WorkspaceMembership) Restricted() bool {
	return m.EligibilityRestriction.Type != None
}

// CodeOf returns the envelope code of an *APIError anywhere in err's chain.
func CodeOf(err error) (ErrorCode, bool) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code, true
	}
	return 0, false
}

// IsUnauthorized reports whether err is a 401: no session, or one that does
// not authenticate (sign in again).
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsExpired reports whether err is a 401 for a session token that expired
// and could not be refreshed (its session's rotating token is past its
// validity), or is not valid yet: sign in again.
func IsExpired(err error) bool {
	code, ok := CodeOf(err)
	return ok && code == CodeExpiredSession
}

// IsBadRequest reports whether err is a 400: a malformed parameter.
func IsBadRequest(err error) bool { return hasStatus(err, http.StatusBadRequest) }

// IsNotFound reports whether err is a 404: no deployment answers on the
// client's host (or the base URL has a path the API does not have).
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsRateLimited reports whether err is a 429: this client address sent too
// many failing requests, or this session too many requests. Wait
// APIError.RetryAfter before trying again.
func IsRateLimited(err error) bool { return hasStatus(err, http.StatusTooManyRequests) }

// IsOverloaded reports whether err is a 503: the server refused the request
// at once rather than queue it. Wait APIError.RetryAfter and retry.
func IsOverloaded(err error) bool { return hasStatus(err, http.StatusServiceUnavailable) }

func hasStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}
