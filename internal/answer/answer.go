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
	"slices"
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
	bp := buffers.Get().(*[]byte)
	b := append((*bp)[:0], `{"data":[`...)
	w := writer{enc: e}
	for i := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = w.appendMembership(b, &entries[i]); err != nil {
			*bp = b
			Release(bp)
			return nil, err
		}
		if i == 0 && len(entries) > 1 {
			// Sized once, by the first membership: growing a megabyte
			// answer by doubling copies it about twice over. The pooled
			// buffers are mostly large enough already. Capped: the first
			// may be huge (another writer's metadata) and the rest small.
			// Divided, not multiplied: the product overflows a 32-bit int.
			n, per, rest := growMax, len(b)+perMembership, len(entries)-1
			if rest <= growMax/per {
				n = min(per*rest+256, growMax)
			}
			b = slices.Grow(b, n)
		}
	}
	// Counted once a request: a counter shared by every core, touched per
	// fragment, costs more than the lookups.
	e.misses.Add(uint64(w.made))
	e.hits.Add(uint64(w.fragments - w.made))
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

// perMembership is room for a membership's own fields beyond the first's.
const perMembership = 64

// growMax bounds what the first membership's size reserves for the rest;
// past it, the answer grows as append grows it.
const growMax = 1 << 20

// writer is one answer being written: what it counts, and the metadata
// last encoded, since a caller's memberships often repeat one text (the
// store hands them over as one shared copy).
type writer struct {
	enc               *Encoder
	made, fragments   int // fragment encodings made, and fragments shown
	lastMeta, lastEnc []byte
}

// appendMembership writes m, keys in the generated type's order.
func (w *writer) appendMembership(b []byte, m *service.Entry) ([]byte, error) {
	var err error
	org := m.Organization.Encoding()
	if org == nil {
		if org, err = encodeKept(&m.Organization.Fragment, m.Organization, encodeOrganization, &w.made); err != nil {
			return b, fmt.Errorf("organization %d: %w", m.OrganizationID, err)
		}
	}
	ws := m.Workspace.Encoding()
	if ws == nil {
		if ws, err = encodeKept(&m.Workspace.Fragment, m.Workspace, encodeWorkspace, &w.made); err != nil {
			return b, fmt.Errorf("workspace %d: %w", m.Workspace.ID, err)
		}
	}
	meta, err := w.metadata(m.PublicMetadata)
	if err != nil {
		return b, fmt.Errorf("membership %d public_metadata: %w", m.ID, err)
	}
	w.fragments += 2 + len(m.Roles)
	b = append(b, `{"created_at":`...)
	b = appendTime(b, m.CreatedAt)
	b = append(b, `,"eligibility_restriction":`...)
	b = append(b, restrictions[m.Restriction]...)
	b = append(b, `,"id":`...)
	b = appendID(b, m.ID)
	b = append(b, `,"organization":`...)
	b = append(b, org...)
	b = append(b, `,"organization_id":`...)
	b = appendID(b, m.OrganizationID)
	b = append(b, `,"public_metadata":`...)
	b = append(b, meta...)
	b = append(b, `,"roles":[`...)
	for i, r := range m.Roles {
		role := r.Encoding()
		if role == nil {
			if role, err = encodeKept(&r.Fragment, r, encodeRole, &w.made); err != nil {
				return b, fmt.Errorf("role %d: %w", r.ID, err)
			}
		}
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
	b = append(b, ws...)
	return append(b, '}'), nil
}

// encodeKept encodes v and keeps the encoding on its fragment f (the store
// shares one value per version of a row and never modifies it), counting
// it in made. The callers look for a kept one first, inline: that is every
// fragment of nearly every answer.
func encodeKept[V any](f *domain.Fragment, v *V, encode func(*V) ([]byte, error), made *int) ([]byte, error) {
	*made++
	b, err := encode(v)
	if err == nil {
		f.SetEncoding(b)
	}
	return b, err
}

var emptyObject = []byte("{}")

// metadata returns raw's encoding: the previous membership's again, or
// one kept per text.
func (w *writer) metadata(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "{}" {
		return emptyObject, nil
	}
	if w.lastEnc != nil && string(raw) == string(w.lastMeta) {
		return w.lastEnc, nil
	}
	b, ok := w.enc.metadata.Get(raw)
	if !ok {
		var err error
		if b, err = encodeMetadata(raw); err != nil {
			return nil, err
		}
		w.enc.metadata.Put(raw, b)
	}
	w.lastMeta, w.lastEnc = raw, b
	return b, nil
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
