package server

import (
	"net/http"
	"strconv"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/answer"
)

// The 200 body is written by internal/answer into a pooled buffer; these
// are the response objects of the generated interface that send it, and
// the 304.

// okResponse is the 200 response, encoded: body, in the pooled buffer
// when it was encoded for this request (else kept, shared: never modified).
type okResponse struct {
	body    []byte
	pooled  *[]byte
	headers gen.GetUserWorkspaceMemberships200ResponseHeaders
}

var _ gen.GetUserWorkspaceMembershipsResponseObject = okResponse{}

// VisitGetUserWorkspaceMembershipsResponse writes the answer as the
// generated 200 response would, and returns a pooled buffer.
func (a okResponse) VisitGetUserWorkspaceMembershipsResponse(w http.ResponseWriter) error {
	if a.pooled != nil {
		defer answer.Release(a.pooled)
	}
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
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(a.body)
	return err
}

// notModified is the 304 response: the generated one formats each header
// with fmt.Sprint, two allocations on the path every poll takes.
type notModified string

var _ gen.GetUserWorkspaceMembershipsResponseObject = notModified("")

// VisitGetUserWorkspaceMembershipsResponse writes the 304 as the generated
// response would, with etag as the ETag.
func (etag notModified) VisitGetUserWorkspaceMembershipsResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", string(etag))
	w.WriteHeader(http.StatusNotModified)
	return nil
}
