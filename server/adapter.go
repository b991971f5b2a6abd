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
	// revalidated counts If-None-Match requests: unchanged, read.
	revalidated *prometheus.CounterVec
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
	if req.Params.IfNoneMatch != nil && !st.refreshed {
		etag, ok := a.unchanged(ctx, *req.Params.IfNoneMatch, in)
		a.count(ok)
		if ok {
			return gen.GetUserWorkspaceMemberships304Response{Headers: gen.GetUserWorkspaceMemberships304ResponseHeaders{
				CacheControl: &cacheControl, ETag: &etag}}, nil
		}
	}
	entries, err := a.svc.Memberships(ctx, r)
	if err != nil {
		return nil, internal(err)
	}
	buf, err := a.enc.Encode(entries, st.caller.Session)
	if err != nil {
		return nil, internal(err)
	}
	etag := entityTag(*buf)
	if len(entries) > 0 {
		a.feed.Keep(etag, in, entries[0].Stamp, len(entries), func(i int) (int64, int64) {
			return entries[i].Workspace.ID, entries[i].OrganizationID
		})
	}
	if req.Params.IfNoneMatch != nil && !st.refreshed && matches(*req.Params.IfNoneMatch, etag) {
		answer.Release(buf)
		return gen.GetUserWorkspaceMemberships304Response{Headers: gen.GetUserWorkspaceMemberships304ResponseHeaders{
			CacheControl: &cacheControl, ETag: &etag}}, nil
	}
	return okResponse{
		buf:     buf,
		headers: gen.GetUserWorkspaceMemberships200ResponseHeaders{CacheControl: &cacheControl, ETag: &etag},
	}, nil
}

// unchanged reports whether an ETag of ifNoneMatch names an answer this
// instance gave for in that is still the answer, from a read of the change
// feed (shared by the requests that wait for it): no membership read, no
// encoding. A failed read only means the answer is read.
func (a *adapter) unchanged(ctx context.Context, ifNoneMatch string, in revalidate.Inputs) (string, bool) {
	if a.feed == nil || !a.feed.Refresh(ctx, a.svc.Changes) {
		return "", false
	}
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if a.feed.Current(t, in) {
			return t, true
		}
	}
	return "", false
}

func (a *adapter) count(unchanged bool) {
	if a.revalidated == nil {
		return
	}
	result := "read"
	if unchanged {
		result = "unchanged"
	}
	a.revalidated.WithLabelValues(result).Inc()
}

// inputs are what the answer to r depends on besides the tables.
func inputs(r service.Request) revalidate.Inputs {
	in := revalidate.Inputs{
		DeploymentID: r.Deployment.ID, UserID: r.Caller.UserID, HasMFA: r.Caller.HasMFA,
		ClientIP:    r.ClientIP.String(),
		IPAllowlist: r.Deployment.IPAllowlistPerWorkspaceEnabled, EnforceMFA: r.Deployment.EnforceMFAPerWorkspaceEnabled,
		SessionID: r.Caller.Session.ID, SessionCreated: r.Caller.Session.CreatedAt.UnixMicro(),
		SessionUpdated: r.Caller.Session.UpdatedAt.UnixMicro(),
	}
	if r.OrganizationID != nil {
		in.Organization = *r.OrganizationID
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
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// answersKept bounds the answers an instance keeps to revalidate (their
// ETag, inputs and what they show: about 50 bytes plus 32 a membership).
const answersKept = 100_000
