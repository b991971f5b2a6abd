// Package contracttest checks, in tests, that every response the server gives
// satisfies openapi.yaml: the contract is enforced on requests by the server
// and on responses here, so it is checked both ways.
//
// It imports only the root package (the embedded openapi.yaml); tests
// import it, never production code.
package contracttest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	memberships "github.com/wachtbench/memberships"
)

var (
	once    sync.Once
	router  routers.Router
	loadErr error
)

// load parses openapi.yaml as written (not the generated copy), once.
func load() (routers.Router, error) {
	once.Do(func() {
		spec, err := openapi3.NewLoader().LoadFromData(memberships.OpenAPI)
		if err == nil {
			err = spec.Validate(context.Background())
		}
		if err != nil {
			loadErr = err
			return
		}
		spec.Servers = nil
		router, loadErr = gorillamux.NewRouter(spec)
	})
	return router, loadErr
}

// Check validates one response to req against the contract. Responses to
// routes the contract does not describe must still be error envelopes.
func Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	r, err := load()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	route, params, err := r.FindRoute(req)
	if err != nil {
		if req.Method == http.MethodOptions && status == http.StatusNoContent {
			checkPreflight(t, r, req, err, header, body)
			return
		}
		// Unknown route or method: the 404/405 envelope, checked by shape.
		checkEnvelope(t, req, status, header, body)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true, // a status the contract does not list fails
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d violates the contract: %v\nbody: %s", req.Method, req.URL, status, err, body)
	}
}

// checkPreflight accepts the one answer the contract does not describe but
// browsers need: 204 to a CORS preflight on a contract path, empty, either
// without a grant or granting exactly the asking origin, with credentials.
func checkPreflight(t testing.TB, r routers.Router, req *http.Request, routeErr error, header http.Header, body []byte) {
	t.Helper()
	asked := req.Clone(req.Context())
	asked.Method = req.Header.Get("Access-Control-Request-Method")
	origin := req.Header.Get("Origin")
	if origin == "" || asked.Method == "" {
		t.Errorf("OPTIONS %s without Origin and Access-Control-Request-Method answered 204", req.URL)
		return
	}
	if !errors.Is(routeErr, routers.ErrMethodNotAllowed) {
		t.Errorf("preflight OPTIONS %s answered 204 on a path outside the contract", req.URL)
	}
	if len(body) != 0 {
		t.Errorf("preflight OPTIONS %s: 204 with a body: %s", req.URL, body)
	}
	if !slices.Contains(header.Values("Vary"), "Origin") {
		t.Errorf("preflight OPTIONS %s: Vary %q lacks Origin", req.URL, header.Values("Vary"))
	}
	switch got := header.Get("Access-Control-Allow-Origin"); got {
	case "":
		if header.Get("Access-Control-Allow-Credentials") != "" || header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight OPTIONS %s: partial grant %v", req.URL, header)
		}
	case origin:
		if header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight OPTIONS %s: grant without credentials", req.URL)
		}
		if _, _, err := r.FindRoute(asked); err != nil {
			t.Errorf("preflight OPTIONS %s: grant for %s, which the contract does not offer", req.URL, asked.Method)
		}
	default:
		t.Errorf("preflight OPTIONS %s from %q: Access-Control-Allow-Origin %q", req.URL, origin, got)
	}
}

func checkEnvelope(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		t.Errorf("%s %s is outside the contract but answered %d", req.Method, req.URL, status)
	}
	if ct := header.Get("Content-Type"); ct != "application/json" && ct != "application/json; charset=UTF-8" {
		t.Errorf("%s %s: Content-Type %q, want application/json", req.Method, req.URL, ct)
	}
	if !bytes.HasPrefix(body, []byte(`{"errors":[{`)) {
		t.Errorf("%s %s: body is not an error envelope: %s", req.Method, req.URL, body)
	}
}

// Transport wraps base (http.DefaultTransport when nil) so that every response
// that passes through it is checked against the contract.
func Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper{t: t, base: base}
}

type roundTripper struct {
	t    testing.TB
	base http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	Check(rt.t, req, resp.StatusCode, resp.Header, body)
	return resp, nil
}

// Serve runs h on req in-process and checks the response.
func Serve(t testing.TB, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	Check(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
	return rec
}
