package faultproxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHTTPFaults(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	p, err := NewHTTP(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	get := func() (int, error) {
		res, err := cl.Get(p.URL() + "/x")
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		io.Copy(io.Discard, res.Body)
		return res.StatusCode, nil
	}
	if st, err := get(); err != nil || st != 200 {
		t.Fatalf("proxied: %d %v", st, err)
	}
	p.FailNext(2, 429)
	for i := 0; i < 2; i++ {
		if st, _ := get(); st != 429 {
			t.Fatalf("injected #%d: %d", i, st)
		}
	}
	if st, _ := get(); st != 200 {
		t.Fatalf("after storm: %d", st)
	}
	p.Cut()
	if _, err := get(); err == nil {
		t.Fatal("cut proxy answered")
	}
	p.Restore()
	if st, err := get(); err != nil || st != 200 {
		t.Fatalf("restored: %d %v", st, err)
	}
	p.SetDelay(20 * time.Millisecond)
	if st, err := get(); err != nil || st != 200 {
		t.Fatalf("delayed: %d %v", st, err)
	}
	if p.Served() != 4 || p.Failed() != 2 {
		t.Fatalf("served %d failed %d", p.Served(), p.Failed())
	}
	p.Close()
	p.Close()
}

func TestTCPCut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	p, err := NewTCP(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q %v", buf, err)
	}
	p.Cut()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(buf); err == nil {
		t.Fatal("read after cut succeeded")
	}
	p.Restore()
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write([]byte("pong"))
	if _, err := io.ReadFull(c2, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("echo after restore: %q %v", buf, err)
	}
}
