// Command quickstart runs the Lucid data tier end to end and reports what it
// reached. With no server URLs set it uses embedded defaults: an in-process
// MongoDB-wire server (FerretDB on SQLite under a temporary directory) and
// a volume root under a temporary directory; it says plainly what it
// skipped.
//
//	go run ./examples/quickstart
//
// Point it at real servers with LUCID_MONGO_URI, LUCID_REDIS_URL and
// LUCID_SEARCH_URL.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/HamiGames/lucid-data/mongostore/embedded"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run does the work of main, writing its report to w; getenv is os.Getenv
// (a parameter so tests choose the environment).
func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	fmt.Fprintln(w, "lucid-data quickstart")

	uri := getenv("LUCID_MONGO_URI")
	where := "configured (LUCID_MONGO_URI)"
	if uri == "" {
		srv, err := embedded.Start(ctx, embedded.Config{})
		if err != nil {
			return fmt.Errorf("embedded MongoDB-wire server: %w", err)
		}
		defer srv.Close()
		uri, where = srv.URI(), "embedded FerretDB "+embedded.FerretDBVersion()+" on SQLite"
	}
	if err := mongoHealth(ctx, w, uri, where); err != nil {
		return err
	}

	if u := getenv("LUCID_REDIS_URL"); u != "" {
		if err := redisHealth(ctx, w, u); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(w, "redis:   skipped (set LUCID_REDIS_URL to use a Redis server)")
	}

	if u := getenv("LUCID_SEARCH_URL"); u != "" {
		if err := searchHealth(ctx, w, strings.TrimRight(u, "/")); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(w, "search:  skipped (set LUCID_SEARCH_URL to use Elasticsearch or OpenSearch)")
	}
	fmt.Fprintln(w, "ok")
	return nil
}

func mongoHealth(ctx context.Context, w io.Writer, uri, where string) error {
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return fmt.Errorf("mongodb: %w", err)
	}
	defer c.Disconnect(context.Background())
	start := time.Now()
	if err := c.Ping(ctx, nil); err != nil {
		return fmt.Errorf("mongodb: ping: %w", err)
	}
	latency := time.Since(start)
	coll := c.Database("lucid_quickstart").Collection("users")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: "pi@example.org"}}); err != nil {
		return fmt.Errorf("mongodb: insert: %w", err)
	}
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("mongodb: count: %w", err)
	}
	fmt.Fprintf(w, "mongodb: up, %s, ping %s, users=%d\n", where, latency.Round(time.Microsecond), n)
	return nil
}

func redisHealth(ctx context.Context, w io.Writer, url string) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	start := time.Now()
	if err := c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	fmt.Fprintf(w, "redis:   up, ping %s\n", time.Since(start).Round(time.Microsecond))
	return nil
}

func searchHealth(ctx context.Context, w io.Writer, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_cluster/health", nil)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(w, "search:  %s %s\n", resp.Status, b)
	return nil
}
