package testenv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/internal/testenv/launch"
)

// Environment variables naming external Redis servers.
const (
	RedisURLEnv     = "LUCID_TEST_REDIS_URL"     // redis://host:port/db
	RedisClusterEnv = "LUCID_TEST_REDIS_CLUSTER" // host:port,host:port,...
)

var (
	sharedRedis   once[string]   // URL
	sharedCluster once[[]string] // seed addresses
)

// RedisURL returns the URL of the shared Redis server of this test binary.
// Keep keys under Namespace(t): other tests use the same server.
func RedisURL(t testing.TB) string {
	t.Helper()
	u, err := sharedRedis.get(findRedis)
	if err != nil {
		unavailable(t, "Redis", err)
	}
	return u
}

// Redis returns a client of the shared Redis server, closed when t ends.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL(t))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	announceRedis(t, "Redis", c)
	return c
}

// RedisClusterAddrs returns seed addresses of the shared 3-master Redis
// Cluster of this test binary.
func RedisClusterAddrs(t testing.TB) []string {
	t.Helper()
	a, err := sharedCluster.get(findCluster)
	if err != nil {
		unavailable(t, "Redis Cluster", err)
	}
	return append([]string(nil), a...)
}

// RedisCluster returns a cluster client of the shared Redis Cluster, closed
// when t ends.
func RedisCluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: RedisClusterAddrs(t)})
	t.Cleanup(func() { _ = c.Close() })
	announceRedis(t, "Redis Cluster", c)
	return c
}

func announceRedis(t testing.TB, server string, c redis.UniversalClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		t.Fatalf("testenv: %s INFO: %v", server, err)
	}
	product, version := "Redis", infoField(info, "redis_version")
	if v := infoField(info, "valkey_version"); v != "" {
		product, version = "Valkey", v
	}
	announce(t, server, product, version, infoField(info, "tcp_port"))
}

func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

func pingRedis(addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

func findRedis() (string, error) {
	if u := os.Getenv(RedisURLEnv); u != "" {
		return u, nil
	}
	if pool, err := dockerDaemon(); err == nil {
		addr, err := dockerRun(pool, "redis", "7", nil, "6379/tcp", pingRedis)
		if err != nil {
			return "", err
		}
		return "redis://" + addr + "/0", nil
	}
	p, err := startRedisProcess("")
	if err != nil {
		return "", err
	}
	onShutdown(p.Stop)
	return "redis://" + p.Addr() + "/0", nil
}

// RedisProcess is a private redis-server a test owns, for fault tests that
// stop and restart it. Other tests never see it.
type RedisProcess struct {
	addr string
	dir  string
	args []string
	p    *launch.Process
}

// StartRedis starts a private redis-server on a free loopback port. It is
// stopped when t ends.
func StartRedis(t testing.TB) *RedisProcess {
	t.Helper()
	p, err := startRedisProcess(t.TempDir())
	if err != nil {
		unavailable(t, "redis-server", err)
	}
	t.Cleanup(p.Stop)
	return p
}

func startRedisProcess(dir string, extra ...string) (*RedisProcess, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "lucid-redis-")
		if err != nil {
			return nil, err
		}
		dir = d
		onShutdown(func() { _ = os.RemoveAll(d) })
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no"}, extra...)
	r := &RedisProcess{addr: addr, dir: dir, args: args}
	if err := r.Start(); err != nil {
		return nil, err
	}
	return r, nil
}

// Addr returns host:port.
func (r *RedisProcess) Addr() string { return r.addr }

// URL returns redis://host:port/0.
func (r *RedisProcess) URL() string { return "redis://" + r.addr + "/0" }

// Start starts the server again on the same port after Stop. Data is not
// kept (no persistence), like a Redis that crashed without a snapshot.
func (r *RedisProcess) Start() error {
	if r.p != nil {
		if done, _ := r.p.Exited(); !done {
			return nil
		}
	}
	p, err := launch.Start("redis-server", r.dir, r.args...)
	if err != nil {
		return err
	}
	if err := p.WaitTCP(r.addr, 20*time.Second); err != nil {
		p.Stop(time.Second)
		return err
	}
	r.p = p
	return nil
}

// Stop kills the server: clients see connections refused until Start.
func (r *RedisProcess) Stop() {
	if r.p != nil {
		r.p.Stop(5 * time.Second)
	}
}

func findCluster() ([]string, error) {
	if v := os.Getenv(RedisClusterEnv); v != "" {
		return strings.Split(v, ","), nil
	}
	dir, err := os.MkdirTemp("", "lucid-redis-cluster-")
	if err != nil {
		return nil, err
	}
	onShutdown(func() { _ = os.RemoveAll(dir) })
	c, err := startCluster(dir)
	if err != nil {
		return nil, err
	}
	onShutdown(c.stopAll)
	return c.addrs, nil
}

// RedisClusterProcess is a private 3-master Redis Cluster on loopback, for
// fault tests that stop or hang its nodes.
type RedisClusterProcess struct {
	addrs []string
	nodes []*launch.Process
	args  [][]string
	dirs  []string
}

// StartRedisCluster starts a private 3-master Redis Cluster (no replicas)
// on free loopback ports. It is stopped when t ends.
func StartRedisCluster(t testing.TB) *RedisClusterProcess {
	t.Helper()
	c, err := startCluster(t.TempDir())
	if err != nil {
		unavailable(t, "redis cluster", err)
	}
	t.Cleanup(c.stopAll)
	return c
}

// Addrs returns the masters' host:port.
func (c *RedisClusterProcess) Addrs() []string { return append([]string(nil), c.addrs...) }

// Stop kills every node: clients see connections refused until Start.
func (c *RedisClusterProcess) Stop() { c.stopAll() }

// Start restarts the stopped nodes on their ports and waits until the
// cluster is ok again (each node keeps its nodes.conf, so the slots stay).
func (c *RedisClusterProcess) Start() error {
	for i, p := range c.nodes {
		if done, _ := p.Exited(); !done {
			continue
		}
		np, err := launch.Start("redis-server", c.dirs[i], c.args[i]...)
		if err != nil {
			return err
		}
		c.nodes[i] = np
		if err := np.WaitTCP(c.addrs[i], 20*time.Second); err != nil {
			return err
		}
	}
	return waitClusterOK(c.addrs, 30*time.Second)
}

func (c *RedisClusterProcess) stopAll() {
	for _, p := range c.nodes {
		p.Stop(5 * time.Second)
	}
}

// startCluster starts three cluster-enabled redis-servers under dir and
// joins them into one cluster with redis-cli.
func startCluster(dir string) (*RedisClusterProcess, error) {
	// Docker's single redis image is no cluster: a local one it is.
	if _, err := exec.LookPath("redis-cli"); err != nil {
		return nil, fmt.Errorf("redis-cli not installed (the test script installs redis-tools): %w", err)
	}
	ports, err := clusterPorts(3)
	if err != nil {
		return nil, err
	}
	c := &RedisClusterProcess{}
	for i, port := range ports {
		nodeDir := fmt.Sprintf("%s/node%d", dir, i)
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			c.stopAll()
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", nodeDir, "--protected-mode", "no", "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"}
		p, err := launch.Start("redis-server", nodeDir, args...)
		if err != nil {
			c.stopAll()
			return nil, err
		}
		c.nodes, c.args, c.dirs = append(c.nodes, p), append(c.args, args), append(c.dirs, nodeDir)
		if err := p.WaitTCP(addr, 20*time.Second); err != nil {
			c.stopAll()
			return nil, err
		}
		c.addrs = append(c.addrs, addr)
	}
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		c.stopAll()
		return nil, fmt.Errorf("redis-cli --cluster create: %v: %s", err, out)
	}
	if err := waitClusterOK(c.addrs, 30*time.Second); err != nil {
		c.stopAll()
		return nil, err
	}
	return c, nil
}

// clusterPorts picks n ports whose cluster bus ports (port+10000) are free too.
func clusterPorts(n int) ([]int, error) {
	var ports []int
	for tries := 0; len(ports) < n && tries < 200; tries++ {
		p := 20000 + rand.IntN(10000)
		if portFree(p) && portFree(p+10000) {
			ports = append(ports, p)
		}
	}
	if len(ports) < n {
		return nil, fmt.Errorf("no free port pairs for a Redis Cluster")
	}
	return ports, nil
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func waitClusterOK(addrs []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok := true
		var last string
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a})
			info, err := c.ClusterInfo(context.Background()).Result()
			c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				ok, last = false, fmt.Sprint(err, info)
				break
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis cluster not ok after %s: %s", timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
