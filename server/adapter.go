package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/service"
)

// adapter implements the generated strict interface over the service: it
// turns requests into service calls and entries into contract types.
type adapter struct {
	svc *service.Service
}

var _ gen.StrictServerInterface = (*adapter)(nil)

var noStore = "no-store"

func (a *adapter) GetUserWorkspaceMemberships(ctx context.Context, req gen.GetUserWorkspaceMembershipsRequestObject) (gen.GetUserWorkspaceMembershipsResponseObject, error) {
	st := stateFrom(ctx)
	r := service.Request{Deployment: st.deployment, Caller: st.caller, ClientIP: st.clientIP}
	if req.Params.OrgId != nil {
		id, err := strconv.ParseInt(*req.Params.OrgId, 10, 64)
		if err != nil {
			return gen.GetUserWorkspaceMemberships400JSONResponse(errorBody(gen.CodeBadParameter, `Invalid query parameter "org_id"`)), nil
		}
		r.OrganizationID = &id
	}
	entries, err := a.svc.Memberships(ctx, r)
	if err != nil {
		return nil, internal(err)
	}
	data := make([]gen.WorkspaceMembership, len(entries))
	for i := range entries {
		data[i] = membership(&entries[i])
	}
	return gen.GetUserWorkspaceMemberships200JSONResponse{
		Body: gen.WorkspaceMembershipsResponse{
			Status:  200,
			Message: "",
			Data:    data,
			Session: gen.SessionSummary{
				Id:        id(st.caller.Session.ID),
				CreatedAt: utc(st.caller.Session.CreatedAt),
				UpdatedAt: utc(st.caller.Session.UpdatedAt),
			},
		},
		Headers: refreshedToken(st, gen.GetUserWorkspaceMemberships200ResponseHeaders{CacheControl: &noStore}),
	}, nil
}

// refreshedToken hands a refreshed session token back: as the session cookie
// on production deployments, in X-Development-Session on staging ones.
func refreshedToken(st *requestState, h gen.GetUserWorkspaceMemberships200ResponseHeaders) gen.GetUserWorkspaceMemberships200ResponseHeaders {
	switch {
	case st.newToken == "":
	case st.deployment.Mode == domain.ModeStaging:
		h.XDevelopmentSession = &st.newToken
	default:
		cookie := (&http.Cookie{Name: sessionCookie, Value: st.newToken, Path: "/",
			HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}).String()
		h.SetCookie = &cookie
	}
	return h
}

func membership(e *service.Entry) gen.WorkspaceMembership {
	w, o := &e.Workspace, &e.Organization
	roles := make([]gen.WorkspaceRole, len(e.Roles))
	for i, r := range e.Roles {
		roles[i] = gen.WorkspaceRole{
			Id: id(r.ID), Name: r.Name, Permissions: nonNil(r.Permissions),
			CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
		}
	}
	auto := ""
	if o.AutoAssignedWorkspaceID != nil {
		auto = id(*o.AutoAssignedWorkspaceID)
	}
	return gen.WorkspaceMembership{
		Id:             id(e.ID),
		OrganizationId: id(e.OrganizationID),
		UserId:         id(e.UserID),
		PublicMetadata: metadata(e.PublicMetadata),
		CreatedAt:      utc(e.CreatedAt),
		UpdatedAt:      utc(e.UpdatedAt),
		Roles:          roles,
		Workspace: gen.Workspace{
			Id: id(w.ID), Name: w.Name, ImageUrl: w.ImageURL, Description: w.Description,
			MemberCount: w.MemberCount, PublicMetadata: metadata(w.PublicMetadata),
			PrivateMetadata: gen.PrivateMetadata{}, Enforce2fa: w.Enforce2FA,
			EnableIpRestriction: w.EnableIPRestriction, WhitelistedIps: nonNil(w.WhitelistedIPs),
			CreatedAt: utc(w.CreatedAt), UpdatedAt: utc(w.UpdatedAt), Segments: segments(w.Segments),
		},
		Organization: gen.Organization{
			Id: id(o.ID), Name: o.Name, ImageUrl: o.ImageURL, Description: o.Description,
			MemberCount: o.MemberCount, PublicMetadata: metadata(o.PublicMetadata),
			PrivateMetadata: gen.PrivateMetadata{}, EnforceMfa: o.EnforceMFA,
			EnableIpRestriction: o.EnableIPRestriction, WhitelistedIps: nonNil(o.WhitelistedIPs),
			AutoAssignedWorkspaceId: auto,
			CreatedAt:               utc(o.CreatedAt), UpdatedAt: utc(o.UpdatedAt), Segments: segments(o.Segments),
		},
		EligibilityRestriction: gen.EligibilityRestriction{
			Type:    gen.EligibilityRestrictionType(e.Restriction),
			Message: e.Restriction.Message(),
		},
	}
}

func segments(ss []domain.Segment) []gen.Segment {
	out := make([]gen.Segment, len(ss))
	for i, s := range ss {
		out[i] = gen.Segment{
			Id: id(s.ID), DeploymentId: id(s.DeploymentID), Name: s.Name,
			Type:      gen.SegmentType(s.Type),
			CreatedAt: utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt),
		}
	}
	return out
}

// metadata decodes a stored JSON object; anything else (which the store's
// constraints should never let in) is served as {} rather than failing.
func metadata(raw json.RawMessage) gen.Metadata {
	m := gen.Metadata{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	return m
}

func id(v int64) string { return strconv.FormatInt(v, 10) }

func utc(t time.Time) time.Time { return t.UTC() }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
