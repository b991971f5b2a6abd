// Package answer writes the 200 body of GET /me/workspace-memberships. It
// is the product's cost per request, so the body is spliced by hand into a
// pooled buffer: every workspace, organization and role is encoded with the
// generated types once per fragment the store hands over, the encoding kept
// on the value (the store shares one value per version of a row), and
// membership metadata once per stored text; only the membership's own
// fields, its eligibility and the session are written per request, keys in
// the generated WorkspaceMembershipsResponse's order (alphabetical, as
// encoding/json writes it). TestSpliceMatchesGeneratedTypes holds the two
// to the same bytes, and every answer in the tests is validated against
// openapi.yaml.
//
// It imports gen, domain, eligibility, service and cache; the stores know
// nothing of it.
package answer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/cache"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
	"github.com/wachtbench/memberships/internal/service"
)

// metadataSize bounds the membership metadata encodings kept: metadata
// texts repeat across memberships far less than fragments do.
const metadataSize = 10_000

// Encoder writes answers, keeping membership metadata encodings by text;
// each fragment keeps its own (domain.Fragment.Encoding). Safe for
// concurrent use.
type Encoder struct {
	metadata     *cache.Texts[[]byte]
	hits, misses atomic.Uint64 // fragment encodings found kept, or made
}

// New returns an encoder.
func New() *Encoder {
	return &Encoder{metadata: cache.NewTexts[[]byte](metadataSize)}
}

// Stats returns how many workspace, organization and role encodings were
// found kept and how many were made, since the start.
func (e *Encoder) Stats() (hits, misses uint64) { return e.hits.Load(), e.misses.Load() }

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// Release returns an answer's buffer to the pool, unless it is one of the
// odd huge ones (over 4 MiB: several thousand memberships).
func Release(buf *[]byte) {
	if cap(*buf) <= 4<<20 {
		*buf = (*buf)[:0]
		buffers.Put(buf)
	}
}

// Encode writes the 200 body for entries read under session into a pooled
// buffer (Release it). It fails only on what the database holds and the
// contract cannot show: metadata that is not a JSON object.
func (e *Encoder) Encode(entries []service.Entry, session domain.SessionSummary) (*[]byte, error) {
	// First every membership's encoded parts, so the buffer is sized once:
	// growing a megabyte answer by doubling copied and cleared it twice
	// over.
	pp := partLists.Get().(*[][]byte)
	defer releaseParts(pp)
	parts, size := (*pp)[:0], 128 // the session, and the text around the data
	var made int
	for i := range entries {
		var err error
		if parts, err = e.appendParts(parts, &entries[i], &made); err != nil {
			*pp = parts
			return nil, err
		}
		size += perMembership
	}
	*pp = parts
	// Counted once a request: a counter shared by every core, touched per
	// fragment, costs more than the lookups.
	e.misses.Add(uint64(made))
	e.hits.Add(uint64(len(parts) - len(entries) - made)) // every part but the metadata
	for _, p := range parts {
		size += len(p) + 1
	}
	bp := buffers.Get().(*[]byte)
	if cap(*bp) < size {
		*bp = make([]byte, 0, size)
	}
	b := append((*bp)[:0], `{"data":[`...)
	for i := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		n := 3 + len(entries[i].Roles)
		b = appendMembership(b, &entries[i], parts[:n])
		parts = parts[n:]
	}
	b = append(b, `],"message":"","session":{"created_at":`...)
	b = appendTime(b, session.CreatedAt)
	b = append(b, `,"id":`...)
	b = appendID(b, session.ID)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, session.UpdatedAt)
	b = append(b, "},\"status\":200}\n"...)
	*bp = b
	return bp, nil
}

// perMembership bounds what a membership's own fields take besides its
// parts: the keys, times, ids and restriction, with room.
const perMembership = 512

// partLists are the per-request lists of encoded parts.
var partLists = sync.Pool{New: func() any { p := make([][]byte, 0, 64); return &p }}

func releaseParts(pp *[][]byte) {
	if cap(*pp) <= 1<<14 {
		clear((*pp)[:cap(*pp)]) // no hold on encodings evicted meanwhile
		*pp = (*pp)[:0]
		partLists.Put(pp)
	}
}

// appendParts appends m's encoded organization, workspace, metadata and
// roles, in that order, counting the fragments it had to encode in made.
func (e *Encoder) appendParts(parts [][]byte, m *service.Entry, made *int) ([][]byte, error) {
	org, err := encoded(&m.Organization.Fragment, m.Organization, encodeOrganization, made)
	if err != nil {
		return parts, fmt.Errorf("organization %d: %w", m.OrganizationID, err)
	}
	ws, err := encoded(&m.Workspace.Fragment, m.Workspace, encodeWorkspace, made)
	if err != nil {
		return parts, fmt.Errorf("workspace %d: %w", m.Workspace.ID, err)
	}
	meta, err := e.encodedMetadata(m.PublicMetadata)
	if err != nil {
		return parts, fmt.Errorf("membership %d public_metadata: %w", m.ID, err)
	}
	parts = append(parts, org, ws, meta)
	for _, r := range m.Roles {
		role, err := encoded(&r.Fragment, r, encodeRole, made)
		if err != nil {
			return parts, fmt.Errorf("role %d: %w", r.ID, err)
		}
		parts = append(parts, role)
	}
	return parts, nil
}

// appendMembership writes m, its parts as appendParts listed them.
func appendMembership(b []byte, m *service.Entry, parts [][]byte) []byte {
	b = append(b, `{"created_at":`...)
	b = appendTime(b, m.CreatedAt)
	b = append(b, `,"eligibility_restriction":`...)
	b = append(b, restrictions[m.Restriction]...)
	b = append(b, `,"id":`...)
	b = appendID(b, m.ID)
	b = append(b, `,"organization":`...)
	b = append(b, parts[0]...)
	b = append(b, `,"organization_id":`...)
	b = appendID(b, m.OrganizationID)
	b = append(b, `,"public_metadata":`...)
	b = append(b, parts[2]...)
	b = append(b, `,"roles":[`...)
	for i, role := range parts[3:] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, role...)
	}
	b = append(b, `],"updated_at":`...)
	b = appendTime(b, m.UpdatedAt)
	b = append(b, `,"user_id":`...)
	b = appendID(b, m.UserID)
	b = append(b, `,"workspace":`...)
	b = append(b, parts[1]...)
	return append(b, '}')
}

// encoded returns v's encoding, kept on its fragment f: the store shares
// one value per version of a row and never modifies it.
func encoded[V any](f *domain.Fragment, v *V, encode func(*V) ([]byte, error), made *int) ([]byte, error) {
	if b := f.Encoding(); b != nil {
		return b, nil
	}
	*made++
	b, err := encode(v)
	if err == nil {
		f.SetEncoding(b)
	}
	return b, err
}

var emptyObject = []byte("{}")

func (e *Encoder) encodedMetadata(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "{}" {
		return emptyObject, nil
	}
	if b, ok := e.metadata.Get(raw); ok {
		return b, nil
	}
	b, err := encodeMetadata(raw)
	if err == nil {
		e.metadata.Put(raw, b)
	}
	return b, err
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
