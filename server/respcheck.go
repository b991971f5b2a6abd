package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wachtbench/memberships/internal/domain"
)

// ResponseValidation is what becomes of an answer that breaks the contract.
type ResponseValidation string

const (
	// ValidateOff sends answers unchecked.
	ValidateOff ResponseValidation = "off"
	// ValidateLog sends the answer, counts it in
	// memberships_contract_violations_total and logs the rule it broke.
	ValidateLog ResponseValidation = "log"
	// ValidateEnforce replaces the answer with a 500 envelope (and logs and
	// counts it as ValidateLog does).
	ValidateEnforce ResponseValidation = "enforce"
)

// ParseResponseValidation reads one mode for every deployment ("log"), or a
// mode per deployment mode ("production=off,staging=enforce"; a deployment
// mode left out is off).
func ParseResponseValidation(s string) (map[domain.Mode]ResponseValidation, error) {
	valid := func(v string) (ResponseValidation, error) {
		switch r := ResponseValidation(strings.TrimSpace(v)); r {
		case ValidateOff, ValidateLog, ValidateEnforce:
			return r, nil
		}
		return "", fmt.Errorf("%q is not off, log or enforce", v)
	}
	if !strings.Contains(s, "=") {
		r, err := valid(s)
		return map[domain.Mode]ResponseValidation{domain.ModeProduction: r, domain.ModeStaging: r}, err
	}
	out := map[domain.Mode]ResponseValidation{}
	for _, part := range strings.Split(s, ",") {
		mode, v, _ := strings.Cut(part, "=")
		m := domain.Mode(strings.TrimSpace(mode))
		if m != domain.ModeProduction && m != domain.ModeStaging {
			return nil, fmt.Errorf("%q is not a deployment mode (production, staging)", mode)
		}
		r, err := valid(v)
		if err != nil {
			return nil, err
		}
		out[m] = r
	}
	return out, nil
}

// responseCheck validates the handler's answer against the contract before
// it leaves, as the deployment's mode says. The answer is held back until
// it is judged, so enforce can still replace it.
type responseCheck struct {
	ct         *contract
	modes      map[domain.Mode]ResponseValidation
	violations *prometheus.CounterVec
	log        *slog.Logger
}

func (rc *responseCheck) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		st := stateFrom(req.Context())
		mode := rc.modes[st.deployment.Mode]
		if mode == "" || mode == ValidateOff {
			return next(c)
		}
		if mode == ValidateEnforce {
			// A 304 has no body to check: it would confirm an answer an
			// instance that only logs (or an older release) let through.
			req.Header.Del("If-None-Match")
		}
		res := c.Response()
		w := &heldResponse{ResponseWriter: res.Writer}
		res.Writer = w
		err := next(c)
		res.Writer = w.ResponseWriter
		if err != nil || w.status == 0 {
			return err
		}
		if verr := rc.validate(req, w); verr != nil {
			rule := brokenRule(verr)
			rc.violations.WithLabelValues(string(mode)).Inc()
			rc.log.ErrorContext(req.Context(), "answer breaks the contract", "request_id", requestID(c),
				"mode", string(mode), "status", w.status, "rule", rule)
			if mode == ValidateEnforce {
				// The 500 keeps a refreshed session token (Set-Cookie,
				// X-Development-Session): the old one is already rotated.
				// It drops the broken answer's validator, and is not kept.
				res.Header().Del(echo.HeaderContentType)
				res.Header().Del(echo.HeaderContentLength)
				res.Header().Del("ETag")
				res.Header().Set("Cache-Control", "no-store")
				res.Committed = false
				return internal(errors.New("answer breaks the contract: " + rule))
			}
		}
		w.ResponseWriter.WriteHeader(w.status)
		_, err = w.ResponseWriter.Write(w.body.Bytes())
		return err
	}
}

func (rc *responseCheck) validate(req *http.Request, w *heldResponse) error {
	route, params, err := rc.ct.router.FindRoute(req)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 w.status,
		Header:                 w.Header(),
		Body:                   io.NopCloser(bytes.NewReader(w.body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	})
}

// brokenRule says where the answer broke which rule, without the schema
// dump kin-openapi's error carries.
func brokenRule(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return "/" + strings.Join(se.JSONPointer(), "/") + ": " + se.Reason
	}
	return err.Error()
}

// heldResponse keeps the status and body of an answer; its headers are the
// real response's.
type heldResponse struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *heldResponse) WriteHeader(status int) { w.status = status }

func (w *heldResponse) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
