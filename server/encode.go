package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
	"github.com/wachtbench/memberships/internal/service"
)

// The 200 answer is the product's cost per request, so it is spliced by hand
// into a pooled buffer from pre-encoded fragments: the store hands every
// workspace, organization and role already encoded with the generated types
// (internal/store/fragment, once per version of the row) and membership
// metadata already as encoding/json writes it. Only the membership's own
// fields, its eligibility and the session are written here, keys in the
// generated WorkspaceMembershipsResponse's order (alphabetical, as
// encoding/json writes it): TestSpliceMatchesGeneratedTypes holds the two to
// the same bytes, and every answer in the tests is validated against
// openapi.yaml.

// answer is the 200 response, encoded.
type answer struct {
	buf     *[]byte
	headers gen.GetUserWorkspaceMemberships200ResponseHeaders
}

var _ gen.GetUserWorkspaceMembershipsResponseObject = answer{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// VisitGetUserWorkspaceMembershipsResponse writes the answer as the
// generated 200 response would, and returns the buffer to the pool.
func (a answer) VisitGetUserWorkspaceMembershipsResponse(w http.ResponseWriter) error {
	defer release(a.buf)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if v := a.headers.CacheControl; v != nil {
		h.Set("Cache-Control", *v)
	}
	if v := a.headers.ETag; v != nil {
		h.Set("ETag", *v)
	}
	if v := a.headers.SetCookie; v != nil {
		h.Set("Set-Cookie", *v)
	}
	if v := a.headers.XDevelopmentSession; v != nil {
		h.Set("X-Development-Session", *v)
	}
	// A known length spares the chunked framing (and a write at the end).
	h.Set("Content-Length", strconv.Itoa(len(*a.buf)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(*a.buf)
	return err
}

// release returns an answer's buffer to the pool, unless it is one of the
// odd huge ones (over 4 MiB: several thousand memberships).
func release(buf *[]byte) {
	if cap(*buf) <= 4<<20 {
		*buf = (*buf)[:0]
		buffers.Put(buf)
	}
}

// encodeAnswer writes the 200 body for entries read under session.
func encodeAnswer(entries []service.Entry, session domain.SessionSummary) *[]byte {
	bp := buffers.Get().(*[]byte)
	// Sized once: growing a megabyte answer by doubling copied it twice over.
	if need := answerSize(entries); cap(*bp) < need {
		*bp = make([]byte, 0, need)
	}
	b := append((*bp)[:0], `{"data":[`...)
	for i := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMembership(b, &entries[i])
	}
	b = append(b, `],"message":"","session":{"created_at":`...)
	b = appendTime(b, session.CreatedAt)
	b = append(b, `,"id":`...)
	b = appendID(b, session.ID)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, session.UpdatedAt)
	b = append(b, "},\"status\":200}\n"...)
	*bp = b
	return bp
}

// answerSize is the room encodeAnswer's answer needs: the fragments and
// metadata, and a bound on the rest (about 400 bytes a membership).
func answerSize(entries []service.Entry) int {
	const session, perMembership = 128, 512 // the fixed text, times, ids and restriction, with room
	n := session
	for i := range entries {
		e := &entries[i]
		n += perMembership + len(e.Workspace.JSON) + len(e.Organization.JSON) + len(e.PublicMetadata)
		for _, r := range e.Roles {
			n += len(r.JSON) + 1
		}
	}
	return n
}

func appendMembership(b []byte, e *service.Entry) []byte {
	b = append(b, `{"created_at":`...)
	b = appendTime(b, e.CreatedAt)
	b = append(b, `,"eligibility_restriction":`...)
	b = append(b, restrictions[e.Restriction]...)
	b = append(b, `,"id":`...)
	b = appendID(b, e.ID)
	b = append(b, `,"organization":`...)
	b = append(b, e.Organization.JSON...)
	b = append(b, `,"organization_id":`...)
	b = appendID(b, e.OrganizationID)
	b = append(b, `,"public_metadata":`...)
	b = appendObject(b, e.PublicMetadata)
	b = append(b, `,"roles":[`...)
	for i := range e.Roles {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.Roles[i].JSON...)
	}
	b = append(b, `],"updated_at":`...)
	b = appendTime(b, e.UpdatedAt)
	b = append(b, `,"user_id":`...)
	b = appendID(b, e.UserID)
	b = append(b, `,"workspace":`...)
	b = append(b, e.Workspace.JSON...)
	return append(b, '}')
}

// restrictions are the four eligibility_restriction objects, encoded once.
var restrictions = func() map[eligibility.Restriction][]byte {
	m := map[eligibility.Restriction][]byte{}
	for _, r := range []eligibility.Restriction{eligibility.None, eligibility.IPNotAllowed, eligibility.MFARequired, eligibility.IPAndMFARequired} {
		b, err := json.Marshal(gen.EligibilityRestriction{Type: gen.EligibilityRestrictionType(r), Message: r.Message()})
		if err != nil {
			panic(err)
		}
		m[r] = b
	}
	return m
}()

// appendID writes an id as the contract wants it: a decimal string.
func appendID(b []byte, id int64) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, id, 10)
	return append(b, '"')
}

// appendTime writes t in UTC as RFC 3339, as time.Time's MarshalJSON does.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendObject copies metadata through: the store hands it over as
// encoding/json writes it (fragment.Cache.Metadata).
func appendObject(b []byte, raw []byte) []byte {
	if len(raw) == 0 {
		return append(b, "{}"...)
	}
	return append(b, raw...)
}
