package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/service"
)

// adapter implements the generated strict interface over the service: it
// turns requests into service calls and their entries into the answer
// (encode.go).
type adapter struct {
	svc *service.Service
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
	entries, err := a.svc.Memberships(ctx, r)
	if err != nil {
		return nil, internal(err)
	}
	buf := encodeAnswer(entries, st.caller.Session)
	etag := entityTag(*buf)
	// A refreshed token must reach the client, so that answer is always a 200.
	if req.Params.IfNoneMatch != nil && !st.refreshed && matches(*req.Params.IfNoneMatch, etag) {
		release(buf)
		return gen.GetUserWorkspaceMemberships304Response{Headers: gen.GetUserWorkspaceMemberships304ResponseHeaders{
			CacheControl: &cacheControl, ETag: &etag}}, nil
	}
	return answer{
		buf:     buf,
		headers: gen.GetUserWorkspaceMemberships200ResponseHeaders{CacheControl: &cacheControl, ETag: &etag},
	}, nil
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
