package fragment

import (
	"bytes"
	"cmp"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// The one decoder of both stores' rows (see Dialect for the columns).

func scanWorkspace(s Scanner) (*domain.Workspace, key, error) {
	var (
		w                = &domain.Workspace{}
		meta, ips, segs  []byte
		created, updated int64
	)
	if err := s.Scan(&w.ID, &w.Version, &w.OrganizationID, &w.Name, &w.ImageURL, &w.Description, &meta,
		&w.Enforce2FA, &w.EnableIPRestriction, &ips, &created, &updated, &w.MemberCount, &segs); err != nil {
		return nil, key{}, err
	}
	w.PublicMetadata, w.CreatedAt, w.UpdatedAt = object(meta), fromMicros(created), fromMicros(updated)
	var err error
	if w.WhitelistedIPs, err = Strings(ips); err != nil {
		return nil, key{}, fmt.Errorf("workspace %d whitelisted_ips: %w", w.ID, err)
	}
	if w.Segments, err = decodeSegments(segs); err != nil {
		return nil, key{}, fmt.Errorf("workspace %d segments: %w", w.ID, err)
	}
	w.KeepEncoding()
	return w, key{w.ID, w.Version}, nil
}

func scanOrganization(s Scanner) (*domain.Organization, key, error) {
	var (
		o                = &domain.Organization{}
		meta, ips, segs  []byte
		created, updated int64
		auto             sql.NullInt64
	)
	if err := s.Scan(&o.ID, &o.Version, &o.Name, &o.ImageURL, &o.Description, &meta,
		&o.EnforceMFA, &o.EnableIPRestriction, &ips, &auto, &created, &updated, &o.MemberCount, &segs); err != nil {
		return nil, key{}, err
	}
	o.PublicMetadata, o.CreatedAt, o.UpdatedAt = object(meta), fromMicros(created), fromMicros(updated)
	if auto.Valid {
		o.AutoAssignedWorkspaceID = &auto.Int64
	}
	var err error
	if o.WhitelistedIPs, err = Strings(ips); err != nil {
		return nil, key{}, fmt.Errorf("organization %d whitelisted_ips: %w", o.ID, err)
	}
	if o.Segments, err = decodeSegments(segs); err != nil {
		return nil, key{}, fmt.Errorf("organization %d segments: %w", o.ID, err)
	}
	o.KeepEncoding()
	return o, key{o.ID, o.Version}, nil
}

func scanRole(s Scanner) (*domain.Role, key, error) {
	var (
		r                = &domain.Role{}
		perms            []byte
		created, updated int64
	)
	if err := s.Scan(&r.ID, &r.Version, &r.Name, &perms, &created, &updated); err != nil {
		return nil, key{}, err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	var err error
	if r.Permissions, err = Strings(perms); err != nil {
		return nil, key{}, fmt.Errorf("role %d permissions: %w", r.ID, err)
	}
	r.KeepEncoding()
	return r, key{r.ID, r.Version}, nil
}

var errRefs = errors.New(`malformed "id.version" list`)

// appendRefs appends the keys of "id.version,id.version" (NULL: none) to
// out, ordered by id.
func appendRefs(out []key, b []byte) ([]key, error) {
	start := len(out)
	for len(b) > 0 {
		item := b
		if i := bytes.IndexByte(b, ','); i >= 0 {
			item, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		i := bytes.IndexByte(item, '.')
		if i < 0 {
			return nil, errRefs
		}
		id, err1 := strconv.ParseInt(string(item[:i]), 10, 64)
		v, err2 := strconv.ParseInt(string(item[i+1:]), 10, 64)
		if err1 != nil || err2 != nil {
			return nil, errRefs
		}
		out = append(out, key{id, v})
	}
	slices.SortFunc(out[start:], func(a, b key) int { return cmp.Compare(a.id, b.id) })
	return out, nil
}

// object returns stored JSON object text as a RawMessage, "{}" when empty.
func object(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return json.RawMessage(b)
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
