package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/answer"
	"github.com/wachtbench/memberships/internal/revalidate"
	"github.com/wachtbench/memberships/internal/service"
)

// adapter implements the generated strict interface over the service: it
// turns requests into service calls and their entries into the answer
// (internal/answer, sent by response.go).
type adapter struct {
	svc  *service.Service
	enc  *answer.Encoder
	feed *revalidate.Feed // answers given, and the change feed read
	// answered counts requests by source (kept, read); revalidated those
	// with If-None-Match by result (unchanged, kept, read).
	answered, revalidated *prometheus.CounterVec
}

var _ gen.StrictServerInterface = (*adapter)(nil)

// cacheControl lets the browser keep the answer but revalidate it (with its
// ETag) before every use; it is personal, so no shared cache keeps it.
var cacheControl = "private, no-cache"

func (a *adapter) GetUserWorkspaceMemberships(ctx context.Context, req gen.GetUserWorkspaceMembershipsRequestObject) (gen.GetUserWorkspaceMembershipsResponseObject, error) {
	st := stateFrom(ctx)
	r := service.Request{Deployment: st.deployment, Caller: st.caller, ClientIP: st.clientIP}
	if req.Params.OrgId != nil {
		id, err := strconv.ParseInt(*req.Params.OrgId, 10, 64)
		if err != nil {
			return gen.GetUserWorkspaceMemberships400JSONResponse{Body: errorBody(gen.CodeBadParameter, `Invalid query parameter "org_id"`)}, nil
		}
		r.OrganizationID = &id
	}
	in := inputs(r)
	// A refreshed token must reach the client, so that answer is always a 200.
	inm := req.Params.IfNoneMatch
	if st.refreshed {
		inm = nil
	}
	if resp := a.fromFeed(ctx, inm, in); resp != nil {
		return resp, nil
	}
	entries, err := a.svc.Memberships(ctx, r)
	if err != nil {
		return nil, internal(err)
	}
	buf, err := a.enc.Encode(entries, st.caller.Session)
	if err != nil {
		return nil, internal(err)
	}
	a.countAnswer("read")
	etag := entityTag(*buf)
	if len(entries) > 0 {
		a.feed.Keep(etag, in, entries[0].Stamp, *buf, len(entries), func(i int) (int64, int64) {
			return entries[i].Workspace.ID, entries[i].OrganizationID
		})
	}
	if inm != nil && matches(*inm, etag) {
		answer.Release(buf)
		return notModified(etag), nil
	}
	return okResponse{body: *buf, pooled: buf, headers: okHeaders(etag)}, nil
}

// fromFeed answers from what this instance kept, when the change feed
// (one read, shared by the requests that wait for it) says it is still the
// answer: a 304 for an ETag of ifNoneMatch, else the 200 last sent to in.
// No membership read, no encoding. Nil: the answer is read (nothing kept,
// a change, a gap, or a failed read of the feed).
func (a *adapter) fromFeed(ctx context.Context, ifNoneMatch *string, in revalidate.Inputs) gen.GetUserWorkspaceMembershipsResponseObject {
	revalidating := ifNoneMatch != nil
	if a.feed == nil {
		a.count(revalidating, "read")
		return nil
	}
	etag, body, kept := a.feed.Kept(in)
	// Without an ETag and with nothing kept, the feed read is spared.
	if (revalidating || kept) && a.feed.Refresh(ctx, a.svc.Changes) {
		if revalidating {
			var current string
			eachTag(*ifNoneMatch, func(t string) bool {
				if t == "*" {
					t = etag
				}
				if t != "" && a.feed.Current(t, in) {
					current = t
				}
				return current == ""
			})
			if current != "" {
				a.count(revalidating, "unchanged")
				return notModified(current)
			}
		}
		if kept && a.feed.Current(etag, in) {
			a.count(revalidating, "kept")
			return okResponse{body: body, headers: okHeaders(etag)}
		}
	}
	a.count(revalidating, "read")
	return nil
}

func okHeaders(etag string) gen.GetUserWorkspaceMemberships200ResponseHeaders {
	return gen.GetUserWorkspaceMemberships200ResponseHeaders{CacheControl: &cacheControl, ETag: &etag}
}

// count counts a request with If-None-Match by result (unchanged, kept,
// read) in revalidated, and one answered from what was kept in answered.
func (a *adapter) count(revalidating bool, result string) {
	if revalidating && a.revalidated != nil {
		a.revalidated.WithLabelValues(result).Inc()
	}
	if result != "read" {
		a.countAnswer("kept")
	}
}

// countAnswer counts an answer sent in answered, by source: kept or read.
func (a *adapter) countAnswer(source string) {
	if a.answered != nil {
		a.answered.WithLabelValues(source).Inc()
	}
}

// inputs are what the answer to r depends on besides the tables.
func inputs(r service.Request) revalidate.Inputs {
	in := revalidate.Inputs{
		DeploymentID: r.Deployment.ID, UserID: r.Caller.UserID, HasMFA: r.Caller.HasMFA,
		ClientIP:    r.ClientIP,
		IPAllowlist: r.Deployment.IPAllowlistPerWorkspaceEnabled, EnforceMFA: r.Deployment.EnforceMFAPerWorkspaceEnabled,
		SessionID: r.Caller.Session.ID, SessionCreated: r.Caller.Session.CreatedAt.UnixMicro(),
		SessionUpdated: r.Caller.Session.UpdatedAt.UnixMicro(),
	}
	if r.OrganizationID != nil {
		in.Organization, in.Filtered = *r.OrganizationID, true
	}
	return in
}

// entityTag is the strong ETag of an answer: a hash of its bytes, which hold
// everything the answer depends on (session, client IP through the
// eligibility, filter, data), so it only ever matches the answer this very
// request gets.
// xxhash (64 bits) and the length: a SHA-256 cost 6% of a request, and an
// ETag is compared only with the answers one client held.
func entityTag(body []byte) string {
	b := make([]byte, 0, 24)
	b = binary.BigEndian.AppendUint64(b, xxhash.Sum64(body))
	b = binary.AppendUvarint(b, uint64(len(body)))
	return `"` + base64.RawURLEncoding.EncodeToString(b) + `"`
}

// matches reports whether an If-None-Match value lists etag; as RFC 9110
// says, "*" matches any answer and the comparison is weak (W/ is ignored).
func matches(ifNoneMatch, etag string) bool {
	found := false
	eachTag(ifNoneMatch, func(t string) bool {
		found = t == "*" || t == etag
		return !found
	})
	return found
}

// eachTag calls f with each entity tag an If-None-Match value lists, W/
// dropped, until f returns false.
func eachTag(ifNoneMatch string, f func(string) bool) {
	for t := range strings.SplitSeq(ifNoneMatch, ",") {
		if !f(strings.TrimPrefix(strings.TrimSpace(t), "W/")) {
			return
		}
	}
}

// answersKept bounds the answers an instance keeps to revalidate (their
// ETag, inputs and what they show: about 50 bytes plus 32 a membership).
const answersKept = 100_000

// DefaultAnswerBytes is how many bytes of answers an instance keeps whole
// by default (Config.AnswerBytes): up to 3,800 answers of 10 memberships.
const DefaultAnswerBytes = 64 << 20

func answerBytes(n int) int {
	switch {
	case n == 0:
		return DefaultAnswerBytes
	case n < 0:
		return 0
	}
	return n
}
