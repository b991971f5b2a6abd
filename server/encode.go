package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/service"
)

// The 200 answer is the product's cost per request, so it is written by hand
// into a pooled buffer instead of being converted to the generated structs
// and reflected over by encoding/json; metadata, already a compact JSON
// object in the store, is copied through rather than decoded into maps and
// encoded again. The shape is the generated WorkspaceMembershipsResponse's,
// keys in its order (alphabetical, as encoding/json writes it):
// TestEncoderMatchesGeneratedTypes holds the two to the same bytes, and every
// answer in the tests is validated against openapi.yaml.

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
	defer func() {
		if cap(*a.buf) <= 1<<20 { // do not keep the odd huge answer's buffer
			*a.buf = (*a.buf)[:0]
			buffers.Put(a.buf)
		}
	}()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if v := a.headers.CacheControl; v != nil {
		h.Set("Cache-Control", *v)
	}
	if v := a.headers.SetCookie; v != nil {
		h.Set("Set-Cookie", *v)
	}
	if v := a.headers.XDevelopmentSession; v != nil {
		h.Set("X-Development-Session", *v)
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(*a.buf)
	return err
}

// encodeAnswer writes the 200 body for entries read under session.
func encodeAnswer(entries []service.Entry, session domain.SessionSummary) *[]byte {
	bp := buffers.Get().(*[]byte)
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

func appendMembership(b []byte, e *service.Entry) []byte {
	w, o := &e.Workspace, &e.Organization
	b = append(b, `{"created_at":`...)
	b = appendTime(b, e.CreatedAt)
	b = append(b, `,"eligibility_restriction":{"message":`...)
	b = appendString(b, e.Restriction.Message())
	b = append(b, `,"type":`...)
	b = appendString(b, string(e.Restriction))
	b = append(b, `},"id":`...)
	b = appendID(b, e.ID)

	b = append(b, `,"organization":{"auto_assigned_workspace_id":`...)
	if o.AutoAssignedWorkspaceID != nil {
		b = appendID(b, *o.AutoAssignedWorkspaceID)
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"created_at":`...)
	b = appendTime(b, o.CreatedAt)
	b = append(b, `,"description":`...)
	b = appendString(b, o.Description)
	b = append(b, `,"enable_ip_restriction":`...)
	b = strconv.AppendBool(b, o.EnableIPRestriction)
	b = append(b, `,"enforce_mfa":`...)
	b = strconv.AppendBool(b, o.EnforceMFA)
	b = append(b, `,"id":`...)
	b = appendID(b, o.ID)
	b = append(b, `,"image_url":`...)
	b = appendString(b, o.ImageURL)
	b = append(b, `,"member_count":`...)
	b = strconv.AppendInt(b, o.MemberCount, 10)
	b = append(b, `,"name":`...)
	b = appendString(b, o.Name)
	b = append(b, `,"private_metadata":{},"public_metadata":`...)
	b = appendObject(b, o.PublicMetadata)
	b = append(b, `,"segments":`...)
	b = appendSegments(b, o.Segments)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, o.UpdatedAt)
	b = append(b, `,"whitelisted_ips":`...)
	b = appendStrings(b, o.WhitelistedIPs)

	b = append(b, `},"organization_id":`...)
	b = appendID(b, e.OrganizationID)
	b = append(b, `,"public_metadata":`...)
	b = appendObject(b, e.PublicMetadata)
	b = append(b, `,"roles":[`...)
	for i, r := range e.Roles {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"created_at":`...)
		b = appendTime(b, r.CreatedAt)
		b = append(b, `,"id":`...)
		b = appendID(b, r.ID)
		b = append(b, `,"name":`...)
		b = appendString(b, r.Name)
		b = append(b, `,"permissions":`...)
		b = appendStrings(b, r.Permissions)
		b = append(b, `,"updated_at":`...)
		b = appendTime(b, r.UpdatedAt)
		b = append(b, '}')
	}
	b = append(b, `],"updated_at":`...)
	b = appendTime(b, e.UpdatedAt)
	b = append(b, `,"user_id":`...)
	b = appendID(b, e.UserID)

	b = append(b, `,"workspace":{"created_at":`...)
	b = appendTime(b, w.CreatedAt)
	b = append(b, `,"description":`...)
	b = appendString(b, w.Description)
	b = append(b, `,"enable_ip_restriction":`...)
	b = strconv.AppendBool(b, w.EnableIPRestriction)
	b = append(b, `,"enforce_2fa":`...)
	b = strconv.AppendBool(b, w.Enforce2FA)
	b = append(b, `,"id":`...)
	b = appendID(b, w.ID)
	b = append(b, `,"image_url":`...)
	b = appendString(b, w.ImageURL)
	b = append(b, `,"member_count":`...)
	b = strconv.AppendInt(b, w.MemberCount, 10)
	b = append(b, `,"name":`...)
	b = appendString(b, w.Name)
	b = append(b, `,"private_metadata":{},"public_metadata":`...)
	b = appendObject(b, w.PublicMetadata)
	b = append(b, `,"segments":`...)
	b = appendSegments(b, w.Segments)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, w.UpdatedAt)
	b = append(b, `,"whitelisted_ips":`...)
	b = appendStrings(b, w.WhitelistedIPs)
	return append(b, "}}"...)
}

func appendSegments(b []byte, ss []domain.Segment) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"created_at":`...)
		b = appendTime(b, s.CreatedAt)
		b = append(b, `,"deployment_id":`...)
		b = appendID(b, s.DeploymentID)
		b = append(b, `,"id":`...)
		b = appendID(b, s.ID)
		b = append(b, `,"name":`...)
		b = appendString(b, s.Name)
		b = append(b, `,"type":`...)
		b = appendString(b, string(s.Type))
		b = append(b, `,"updated_at":`...)
		b = appendTime(b, s.UpdatedAt)
		b = append(b, '}')
	}
	return append(b, ']')
}

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

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendObject copies a stored JSON object through; stores keep metadata
// compact and checked to be an object, so only emptiness needs a default.
func appendObject(b []byte, raw []byte) []byte {
	if len(raw) == 0 {
		return append(b, "{}"...)
	}
	return append(b, raw...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping as encoding/json does:
// quotes, backslashes, control characters, <, > and & (HTML-safe), U+2028
// and U+2029; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
