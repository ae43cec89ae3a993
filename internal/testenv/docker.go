package testenv

import (
	"fmt"
	"os"
	"time"

	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"
)

// dockerPool is a reachable Docker daemon, or the reason there is none.
var dockerPool once[*dockertest.Pool]

// NoDockerEnv set to 1 makes testenv skip Docker and go straight to local
// processes, e.g. to test exactly what CI runs on a laptop with Docker.
const NoDockerEnv = "LUCID_TEST_NO_DOCKER"

func dockerDaemon() (*dockertest.Pool, error) {
	return dockerPool.get(func() (*dockertest.Pool, error) {
		if os.Getenv(NoDockerEnv) == "1" {
			return nil, fmt.Errorf("%s=1", NoDockerEnv)
		}
		pool, err := dockertest.NewPool("")
		if err != nil {
			return nil, err
		}
		if err := pool.Client.Ping(); err != nil {
			return nil, fmt.Errorf("no Docker daemon: %w", err)
		}
		pool.MaxWait = 3 * time.Minute
		return pool, nil
	})
}

// dockerRun starts an official image and returns the host address of its
// exposed port once ready answers nil. The container is removed by Shutdown.
func dockerRun(pool *dockertest.Pool, repo, tag string, env []string, port string, ready func(addr string) error) (string, error) {
	res, err := pool.RunWithOptions(&dockertest.RunOptions{Repository: repo, Tag: tag, Env: env},
		func(hc *docker.HostConfig) { hc.AutoRemove = true })
	if err != nil {
		return "", fmt.Errorf("docker run %s:%s: %w", repo, tag, err)
	}
	onShutdown(func() { _ = pool.Purge(res) })
	_ = res.Expire(1800) // a crashed test binary still frees the container
	addr := res.GetHostPort(port)
	if err := pool.Retry(func() error { return ready(addr) }); err != nil {
		return "", fmt.Errorf("docker %s:%s not ready: %w", repo, tag, err)
	}
	return addr, nil
}
