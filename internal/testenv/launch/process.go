// Package launch starts and stops the server processes internal/testenv and
// the test script need: a process with its log, waiting for a TCP port, and
// the OpenSearch node from the Maven Central runner. It has no heavy
// dependencies, so the test script can `go run` its command quickly.
package launch

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Process is a server binary started by Start. Its output goes to a log file
// whose tail is quoted when start-up fails.
type Process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	mu   sync.Mutex
	err  error
}

// Start runs name with args in dir, logging to dir/<name>.log. The process
// gets its own process group and is killed if this process dies.
func Start(name, dir string, args ...string) (*Process, error) {
	if _, err := exec.LookPath(name); err != nil {
		return nil, fmt.Errorf("%s not installed (the test script installs it): %w", name, err)
	}
	logPath := filepath.Join(dir, filepath.Base(name)+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = lf, lf
	// Its own process group, so stopping it stops its children; and killed if
	// the test binary dies without running Shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &Process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		lf.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM to the group, then SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) {
	if done, _ := p.Exited(); done {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Tail returns the last lines of the process log, for error messages.
func (p *Process) Tail() string {
	b, _ := os.ReadFile(p.log)
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(bytes.TrimSpace(b))
}

// Log returns the path of the process log.
func (p *Process) Log() string { return p.log }

// WaitTCP waits until addr accepts connections, the process exits, or
// timeout passes.
func (p *Process) WaitTCP(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var d net.Dialer
	for {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s exited (%v) before listening on %s:\n%s", p.name, err, addr, p.Tail())
		}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s not listening on %s after %s:\n%s", p.name, addr, timeout, p.Tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
