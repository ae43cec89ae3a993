package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/internal/testenv/launch"
)

// Environment variables for the search engine.
const (
	SearchURLEnv = "LUCID_TEST_SEARCH_URL" // http://host:9200, Elasticsearch 8 or OpenSearch 2/3
	// SearchRepoEnv names a directory under the node's path.repo, for
	// snapshot tests; the test script and the harness's own node set it.
	SearchRepoEnv = "LUCID_TEST_SEARCH_REPO"
)

// SearchServer is a running Elasticsearch or OpenSearch.
type SearchServer struct {
	URL     string // base URL, no trailing slash
	Product string // "elasticsearch" or "opensearch"
	Version string // e.g. "2.19.1"
}

var sharedSearch once[SearchServer]

// Search returns the shared search engine of this test binary, announced
// once. Name indices with a Namespace(t) prefix: other tests and packages use
// the same engine.
func Search(t testing.TB) SearchServer {
	t.Helper()
	s, err := sharedSearch.get(findSearch)
	if err != nil {
		unavailable(t, "search engine", err)
	}
	announce(t, "search", s.Product, s.Version, s.URL)
	return s
}

func findSearch() (SearchServer, error) {
	if u := os.Getenv(SearchURLEnv); u != "" {
		return probeSearch(strings.TrimRight(u, "/"))
	}
	if pool, err := dockerDaemon(); err == nil {
		addr, err := dockerRun(pool, "docker.elastic.co/elasticsearch/elasticsearch", "8.11.4",
			[]string{"discovery.type=single-node", "xpack.security.enabled=false", "ES_JAVA_OPTS=-Xms512m -Xmx512m"},
			"9200/tcp", func(addr string) error { _, err := probeSearch("http://" + addr); return err })
		if err != nil {
			return SearchServer{}, err
		}
		return probeSearch("http://" + addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	n, err := launch.StartOpenSearch(ctx)
	if err != nil {
		return SearchServer{}, err
	}
	onShutdown(n.Stop)
	// The snapshot tests find the node's path.repo here, as the test
	// script exports it for its shared node.
	if os.Getenv(SearchRepoEnv) == "" {
		_ = os.Setenv(SearchRepoEnv, n.Repo)
	}
	return probeSearch(n.URL)
}

// probeSearch asks GET / which product and version answer, and waits for at
// least yellow cluster health.
func probeSearch(base string) (SearchServer, error) {
	var root struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := getJSON(base+"/", &root); err != nil {
		return SearchServer{}, err
	}
	s := SearchServer{URL: base, Product: "elasticsearch", Version: root.Version.Number}
	if root.Version.Distribution == "opensearch" {
		s.Product = "opensearch"
	}
	var health struct {
		Status string `json:"status"`
	}
	if err := getJSON(base+"/_cluster/health?wait_for_status=yellow&timeout=60s", &health); err != nil {
		return SearchServer{}, err
	}
	if health.Status != "green" && health.Status != "yellow" {
		return SearchServer{}, fmt.Errorf("search cluster health %q at %s", health.Status, base)
	}
	return s, nil
}

func getJSON(url string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return json.Unmarshal(b, v)
}
