package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// cors grants credentialed cross-origin access to the origins a deployment
// lists, and nobody else: the session travels in a cookie, so a wildcard or a
// reflected origin would let any site read the caller's memberships. It runs
// after contract.resolve, which found the deployment.
type cors struct{}

// exposedHeaders are the response headers a granted page may read: the
// request id, the refreshed token staging deployments send in a header, and
// when to retry a 429 or 503.
const exposedHeaders = requestIDHeader + ", X-Development-Session, Retry-After"

// preflightMaxAge is how long a browser may cache a preflight (seconds).
const preflightMaxAge = "600"

// allowedOrigin reports whether origin may call the request's deployment.
func allowedOrigin(req *http.Request, origin string) bool {
	return slices.Contains(stateFrom(req.Context()).deployment.AllowedOrigins, strings.ToLower(origin))
}

// middleware adds the grant to actual requests of the API routes. The grant is
// set before the handler runs so error envelopes carry it too: the browser SDK
// shows errors[0].message, which it can only read with the grant. An unknown
// host is left to the contract middleware, which answers 404.
func (c *cors) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		h := ec.Response().Header()
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
		if origin := ec.Request().Header.Get(echo.HeaderOrigin); origin != "" {
			if allowedOrigin(ec.Request(), origin) {
				grant(h, origin)
				h.Set(echo.HeaderAccessControlExposeHeaders, exposedHeaders)
			}
		}
		return next(ec)
	}
}

// preflight answers OPTIONS on an API route. It runs without authentication
// (browsers never send cookies on a preflight) but after the deployment check:
// an unknown host is the 404 envelope. A listed origin asking for GET gets
// 204 with the grant; anything else gets 204 without one, which the browser
// treats as a refusal. An OPTIONS that is not a preflight is a wrong method.
func (c *cors) preflight(methods ...string) echo.HandlerFunc {
	allow := strings.Join(methods, ", ")
	return func(ec echo.Context) error {
		req := ec.Request()
		origin := req.Header.Get(echo.HeaderOrigin)
		method := req.Header.Get(echo.HeaderAccessControlRequestMethod)
		if origin == "" || method == "" {
			ec.Response().Header().Set(echo.HeaderAllow, allow)
			return errMethodNotAllowed
		}
		ok := allowedOrigin(req, origin)
		h := ec.Response().Header()
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
		h.Add(echo.HeaderVary, echo.HeaderAccessControlRequestMethod)
		h.Add(echo.HeaderVary, echo.HeaderAccessControlRequestHeaders)
		if ok && slices.Contains(methods, method) {
			grant(h, origin)
			h.Set(echo.HeaderAccessControlAllowMethods, allow)
			// Only the request id is worth sending; the session is a cookie.
			h.Set(echo.HeaderAccessControlAllowHeaders, requestIDHeader)
			h.Set(echo.HeaderAccessControlMaxAge, preflightMaxAge)
		}
		return ec.NoContent(http.StatusNoContent)
	}
}

func grant(h http.Header, origin string) {
	h.Set(echo.HeaderAccessControlAllowOrigin, origin)
	h.Set(echo.HeaderAccessControlAllowCredentials, "true")
}
