package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(M(m),
		// FerretDB's SQLite pool and the driver's pools wind down asynchronously.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreAnyFunction("github.com/FerretDB/FerretDB/internal/util/state.(*Provider).Subscribe.func1"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestNamespace(t *testing.T) {
	seen := map[string]bool{}
	valid := regexp.MustCompile(`^lt[0-9a-f]{10}$`)
	for i := 0; i < 1000; i++ {
		ns := Namespace(t)
		if !valid.MatchString(ns) {
			t.Fatalf("Namespace() = %q, want lt + 10 hex digits", ns)
		}
		if seen[ns] {
			t.Fatalf("Namespace() repeated %q", ns)
		}
		seen[ns] = true
	}
}

func TestRedisAnswers(t *testing.T) {
	c := Redis(t)
	key := "lucid:test:" + Namespace(t) + ":k"
	if err := c.Set(ctx(t), key, "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Del(context.Background(), key) })
	if got, err := c.Get(ctx(t), key).Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
}

func TestRedisClusterAnswers(t *testing.T) {
	c := RedisCluster(t)
	info, err := c.ClusterInfo(ctx(t)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "cluster_state:ok") {
		t.Fatalf("cluster info: %s", info)
	}
	var masters atomic.Int32 // ForEachMaster calls concurrently
	if err := c.ForEachMaster(ctx(t), func(context.Context, *redis.Client) error { masters.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	if masters := masters.Load(); masters < 3 {
		t.Fatalf("%d masters, want >= 3", masters)
	}
	// Keys spread over all slots must all be writable through the client.
	ns := Namespace(t)
	for i := 0; i < 50; i++ {
		k := fmt.Sprintf("lucid:test:%s:%d", ns, i)
		if err := c.Set(ctx(t), k, i, time.Minute).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
}

func TestRedisProcessStopStart(t *testing.T) {
	r := StartRedis(t)
	if err := pingRedis(r.Addr()); err != nil {
		t.Fatalf("fresh server: %v", err)
	}
	r.Stop()
	if err := pingRedis(r.Addr()); err == nil {
		t.Fatal("ping succeeded on a stopped server")
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	if err := pingRedis(r.Addr()); err != nil {
		t.Fatalf("restarted server: %v", err)
	}
}

func TestMongoAnswers(t *testing.T) {
	db := Mongo(t)
	coll := db.Collection("probe")
	if _, err := coll.InsertOne(ctx(t), bson.D{{Key: "_id", Value: 1}, {Key: "x", Value: "y"}}); err != nil {
		t.Fatal(err)
	}
	var got bson.M
	if err := coll.FindOne(ctx(t), bson.D{{Key: "_id", Value: 1}}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got["x"] != "y" {
		t.Fatalf("found %v", got)
	}
}

func TestMongoProcessStopStartKeepsData(t *testing.T) {
	m := StartMongo(t)
	c := MongoClient(t, m.URI())
	coll := c.Database("restart").Collection("c")
	if _, err := coll.InsertOne(ctx(t), bson.D{{Key: "_id", Value: "kept"}}); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	short, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(short, nil); err == nil {
		t.Fatal("ping succeeded on a stopped server")
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	n, err := coll.CountDocuments(ctx(t), bson.D{{Key: "_id", Value: "kept"}})
	if err != nil || n != 1 {
		t.Fatalf("after restart: count %d, %v; want 1", n, err)
	}
}

func TestSearchAnswers(t *testing.T) {
	s := Search(t)
	if s.Product != "opensearch" && s.Product != "elasticsearch" {
		t.Fatalf("product %q", s.Product)
	}
	idx := Namespace(t) + "-probe"
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx(t), method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	t.Cleanup(func() { do(http.MethodDelete, "/"+idx, "") })
	if code, body := do(http.MethodPut, "/"+idx+"/_doc/1?refresh=true", `{"msg":"hello lucid"}`); code != 201 {
		t.Fatalf("index doc: %d %s", code, body)
	}
	code, body := do(http.MethodGet, "/"+idx+"/_search?q=msg:lucid", "")
	if code != 200 || !strings.Contains(body, `"hello lucid"`) {
		t.Fatalf("search: %d %s", code, body)
	}
}

func TestS3Answers(t *testing.T) {
	srv := S3(t)
	c := srv.Client()
	key := "probe/object.txt"
	if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader([]byte("lucid"))}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: &srv.Bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	if b, _ := io.ReadAll(out.Body); string(b) != "lucid" {
		t.Fatalf("got %q", b)
	}
}

func TestRequiredParsesEnv(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "1": true, "yes": true} {
		t.Setenv(RequireEnv, v)
		if got := Required(); got != want {
			t.Errorf("%s=%q: Required() = %v, want %v", RequireEnv, v, got, want)
		}
	}
}
