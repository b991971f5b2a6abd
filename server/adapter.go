package server

import (
	"context"
	"strconv"

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

var noStore = "no-store"

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
	return answer{
		buf:     encodeAnswer(entries, st.caller.Session),
		headers: gen.GetUserWorkspaceMemberships200ResponseHeaders{CacheControl: &noStore},
	}, nil
}
