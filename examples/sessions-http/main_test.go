//go:build !lucidfuzz

package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/internal/testlog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }

// backends runs f on the in-memory cache and on testenv's Redis.
func backends(t *testing.T, f func(t *testing.T, newBackend func() cache.Backend)) {
	t.Run("memory", func(t *testing.T) {
		f(t, func() cache.Backend {
			m := cache.NewMemory()
			t.Cleanup(func() { m.Close() })
			return m
		})
	})
	t.Run("redis", func(t *testing.T) {
		url := testenv.RedisURL(t)
		f(t, func() cache.Backend {
			c, err := cache.Connect(context.Background(), cache.Config{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		})
	})
}

type client struct {
	t    *testing.T
	base string
}

// do sends a request and returns the response with its body read.
func (c client) do(method, path, token, body string) (*http.Response, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c client) want(method, path, token, body string, status int) (*http.Response, string) {
	c.t.Helper()
	resp, b := c.do(method, path, token, body)
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	if status >= 400 && path != "/readyz" && !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		c.t.Errorf("%s %s: error answered as %q, want JSON: %s", method, path, resp.Header.Get("Content-Type"), b)
	}
	return resp, b
}

func serve(t *testing.T, b cache.Backend, lim Limits) client {
	t.Helper()
	users, err := parseUsers("ada:lovelace,grace:hopper")
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(b, Options{Users: users, Limits: lim, LimitEntity: testenv.Namespace(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return client{t: t, base: srv.URL}
}

// TestRoutes calls every route with good and bad input.
func TestRoutes(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() cache.Backend) {
		c := serve(t, newBackend(), Limits{PerIP: 1000, LoginPerUser: 3, PerUser: 6, Window: time.Minute})

		_, b := c.want("GET", "/livez", "", "", 200)
		if strings.TrimSpace(b) != "ok" {
			t.Errorf("/livez: %q", b)
		}
		_, b = c.want("GET", "/readyz", "", "", 200)
		if !strings.Contains(b, `"status":"up"`) || !strings.Contains(b, `"sessions"`) {
			t.Errorf("/readyz: %s", b)
		}

		// Bad logins.
		c.want("POST", "/login", "", `{"user":`, 400)
		c.want("POST", "/login", "", `{"user":"ada","password":"lovelace","admin":true}`, 400)
		c.want("POST", "/login", "", `{"user":"ada"}`, 400)
		c.want("POST", "/login", "", `{"user":"a b","password":"x"}`, 400)
		c.want("POST", "/login", "", `{"user":"ada","password":"`+strings.Repeat("x", 8<<10)+`"}`, 413)
		c.want("GET", "/login", "", "", 405)
		c.want("POST", "/login", "", `{"user":"grace","password":"wrong"}`, 401)
		c.want("POST", "/login", "", `{"user":"nobody","password":"x"}`, 401)

		// A good one.
		resp, b := c.want("POST", "/login", "", `{"user":"ada","password":"lovelace"}`, 200)
		var s sessionResponse
		if err := json.Unmarshal([]byte(b), &s); err != nil || s.Token == "" || s.UserID != "ada" || s.SessionID == "" {
			t.Fatalf("login: %v %s", err, b)
		}
		if strings.Contains(s.SessionID, s.Token) || strings.Contains(s.Token, s.SessionID) {
			t.Errorf("session id %q and token relate", s.SessionID)
		}
		if resp.Header.Get("RateLimit") == "" || resp.Header.Get("RateLimit-Policy") != "1000;w=60" {
			t.Errorf("login lacks the per-IP RateLimit headers: %v", resp.Header)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("a token response may be cached: %v", resp.Header)
		}
		tok := "Bearer " + s.Token

		// /me without, with a wrong and with the right token.
		resp, _ = c.want("GET", "/me", "", "", 401)
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		c.want("GET", "/me", "Basic YWRhOmxvdmVsYWNl", "", 401)
		c.want("GET", "/me", "Bearer not-a-token", "", 401)
		c.want("POST", "/me", tok, "", 405)
		resp, b = c.want("GET", "/me", tok, "", 200) // 1 of PerUser
		var me sessionResponse
		if err := json.Unmarshal([]byte(b), &me); err != nil || me.UserID != "ada" || me.SessionID != s.SessionID || me.Token != "" {
			t.Fatalf("/me: %v %s", err, b)
		}
		if resp.Header.Get("RateLimit-Policy") != "6;w=60" {
			t.Errorf("/me lacks the per-user RateLimit headers: %v", resp.Header)
		}

		// The per-user limit: 6 a minute, whichever session.
		_, b2 := c.want("POST", "/login", "", `{"user":"ada","password":"lovelace"}`, 200)
		var s2 sessionResponse
		json.Unmarshal([]byte(b2), &s2)
		tok2 := "Bearer " + s2.Token
		for range 4 {
			c.want("GET", "/me", tok, "", 200)
		}
		c.want("GET", "/me", tok2, "", 200) // 6 of 6
		resp, _ = c.want("GET", "/me", tok2, "", 429)
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After: %v", resp.Header)
		}

		// Logins per user: three attempts a minute for grace (one used above).
		c.want("POST", "/login", "", `{"user":"grace","password":"wrong"}`, 401)
		c.want("POST", "/login", "", `{"user":"grace","password":"hopper"}`, 200)
		resp, _ = c.want("POST", "/login", "", `{"user":"grace","password":"hopper"}`, 429)
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After: %v", resp.Header)
		}

		// Logout ends the session, and only it.
		c2 := serve(t, newBackend(), Limits{PerIP: 1000, Window: time.Minute}) // a fresh per-user budget
		_, b = c2.want("POST", "/login", "", `{"user":"ada","password":"lovelace"}`, 200)
		json.Unmarshal([]byte(b), &s)
		_, b = c2.want("POST", "/login", "", `{"user":"ada","password":"lovelace"}`, 200)
		json.Unmarshal([]byte(b), &s2)
		c2.want("POST", "/logout", "", "", 401)
		c2.want("POST", "/logout", "Bearer "+s.Token, "", 204)
		c2.want("GET", "/me", "Bearer "+s.Token, "", 401)
		c2.want("POST", "/logout", "Bearer "+s.Token, "", 401)
		c2.want("GET", "/me", "Bearer "+s2.Token, "", 200)
		c2.want("GET", "/nowhere", "", "", 404)
	})
}

// TestPerIP: every route but the probes counts against the client's IP.
func TestPerIP(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() cache.Backend) {
		c := serve(t, newBackend(), Limits{PerIP: 3, Window: time.Minute})
		c.want("POST", "/login", "", `{"user":"nobody","password":"x"}`, 401)
		c.want("GET", "/me", "", "", 401)
		c.want("POST", "/logout", "", "", 401)
		resp, _ := c.do("GET", "/me", "", "")
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("RateLimit-Policy") != "3;w=60" {
			t.Fatalf("4th request from one IP: %d %v", resp.StatusCode, resp.Header)
		}
		for range 5 {
			c.want("GET", "/livez", "", "", 200)
			c.want("GET", "/readyz", "", "", 200)
		}
	})
}

// TestStoreDown: a closed backend makes the server unready and its routes
// answer 503, never 500 or a login.
func TestStoreDown(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() cache.Backend) {
		b := newBackend()
		c := serve(t, b, Limits{})
		c.want("GET", "/readyz", "", "", 200)
		b.Close()
		time.Sleep(1100 * time.Millisecond) // past the aggregator's 1 s result cache
		_, body := c.want("GET", "/readyz", "", "", 503)
		if !strings.Contains(body, `"status":"down"`) {
			t.Errorf("/readyz: %s", body)
		}
		c.want("GET", "/livez", "", "", 200)
		c.want("POST", "/login", "", `{"user":"ada","password":"lovelace"}`, 503)
	})
}

// TestGracefulShutdown runs the command as main does and stops it with
// SIGTERM, on memory and on Redis (LUCID_REDIS_URL).
func TestGracefulShutdown(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"memory": {},
		"redis":  {cache.EnvURL: testenv.RedisURL(t)},
	} {
		t.Run(name, func(t *testing.T) {
			var logs lockedBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			addrc := make(chan string, 1)
			done := make(chan error, 1)
			go func() {
				done <- run(context.Background(), []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, log,
					func(a string) { addrc <- a })
			}()
			var addr string
			select {
			case addr = <-addrc:
			case err := <-done:
				t.Fatalf("run: %v", err)
			}
			c := client{t: t, base: "http://" + addr}
			_, b := c.want("POST", "/login", "", `{"user":"ada","password":"lovelace"}`, 200)
			var s sessionResponse
			json.Unmarshal([]byte(b), &s)
			c.want("GET", "/me", "Bearer "+s.Token, "", 200)
			http.DefaultClient.CloseIdleConnections()

			if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("run after SIGTERM: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("run did not stop on SIGTERM")
			}
			if conn, err := net.Dial("tcp", addr); err == nil {
				conn.Close()
				t.Error("still listening after shutdown")
			}
			l := logs.String()
			for _, want := range []string{"listening", "shutting down", "stopped", "status=200"} {
				if !strings.Contains(l, want) {
					t.Errorf("log lacks %q:\n%s", want, l)
				}
			}
			if strings.Contains(l, s.Token) || strings.Contains(l, "lovelace") {
				t.Errorf("log holds a secret:\n%s", l)
			}
		})
	}
}

func TestBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-users", "nopassword"}, func(string) string { return "" }, slog.New(slog.DiscardHandler), nil); err == nil {
		t.Error("run accepted -users without a password")
	}
	if err := run(context.Background(), []string{"-nope"}, func(string) string { return "" }, slog.New(slog.DiscardHandler), nil); err == nil {
		t.Error("run accepted an unknown flag")
	}
}

// lockedBuffer is internal/testlog's goroutine-safe buffer.
type lockedBuffer = testlog.Buffer
