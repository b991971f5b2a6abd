package server_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wachtbench/memberships/server"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Tokens never reach the logs or error bodies, whichever way they are sent
// and whatever happens to them; neither do private keys or private metadata.
func TestNoSecretsInLogsOrBodies(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, server.Config{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	good := e.session("prod.test", "alice@example.com", nil)
	dev := e.session("staging.test", "dev@example.com", nil)
	expired := e.expired("prod.test", "alice@example.com", time.Now().Add(time.Hour))
	var bodies strings.Builder
	for _, c := range []call{
		{host: "prod.test", cookie: good},
		{host: "prod.test", cookie: good + "x"},
		{host: "prod.test", cookie: expired},
		{host: "staging.test", path: "/me/workspace-memberships?__dev_session__=" + dev},
		{host: "staging.test", path: "/me/workspace-memberships?__dev_session__=" + dev + "&org_id=x"},
		{host: "nowhere.test", cookie: good},
		{host: "prod.test", cookie: good, path: "/nope?__dev_session__=" + dev},
	} {
		rec := e.do(c)
		bodies.WriteString(rec.Body.String())
	}
	e.store.Close() // and a 500
	bodies.WriteString(e.do(call{host: "prod.test", cookie: good}).Body.String())

	secrets := []string{good, dev, expired, "PRIVATE KEY", "never-served", "hidden"}
	for _, s := range secrets {
		for where, text := range map[string]string{"logs": logs.b.String(), "error bodies": bodies.String()} {
			// A signature is the part no one else could produce; check it too.
			sig := s[strings.LastIndex(s, ".")+1:]
			if strings.Contains(text, s) || (len(sig) > 20 && strings.Contains(text, sig)) {
				t.Errorf("%s contain a secret (%.20s…)", where, s)
			}
		}
	}
	if !strings.Contains(logs.b.String(), `"request_id"`) {
		t.Error("no access log written; the test proves nothing")
	}
}
