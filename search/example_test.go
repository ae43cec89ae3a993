package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/search"
)

// Queries are typed values that render to the engine's query DSL; user
// text only ever becomes a match value.
func ExampleBool() {
	q := search.Bool{
		Must:   []search.Query{search.MultiMatch{Text: "merkle proof", Fields: []string{"title^2", "description"}, Fuzziness: "AUTO"}},
		Filter: []search.Query{search.Term{Field: "user_id", Value: "u42"}},
	}
	b, _ := json.Marshal(q)
	fmt.Println(string(b))
	// Output:
	// {"bool":{"filter":[{"term":{"user_id":{"value":"u42"}}}],"must":[{"multi_match":{"fields":["title^2","description"],"fuzziness":"AUTO","query":"merkle proof"}}]}}
}

func ExampleEscapeQueryString() {
	fmt.Println(search.EscapeQueryString(`title:* OR (admin AND "x")`))
	// Output:
	// title\:\* or \(admin and \"x\"\)
}

// Connect from the environment (LUCID_SEARCH_URL and the other
// LUCID_SEARCH_* variables), check the cluster, close.
func ExampleFromEnv() {
	ctx := context.Background()
	cfg, err := search.FromEnv()
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := search.Connect(ctx, cfg)
	if err != nil {
		fmt.Println(errkind.Of(err)) // e.g. unavailable
		return
	}
	defer c.Close()
	r := c.Check(ctx)
	fmt.Println(r.Status, r.Version)
}

// Connect, write an upload session into its monthly index and search a
// user's sessions across months.
func ExampleConnect() {
	ctx := context.Background()
	c, err := search.Connect(ctx, search.Config{Addresses: []string{"http://127.0.0.1:9200"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	now := time.Now()
	_, err = c.IndexEntity(ctx, lucidkeys.EntitySessions, "s1",
		map[string]any{"session_id": "s1", "user_id": "u42", "created_at": now}, now,
		&search.WriteOptions{Refresh: search.RefreshWaitFor})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.SearchSessions(ctx, "u42", search.SessionFilter{Status: []string{"active"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Total)
}

// A long-lived bulk indexer: every item ends in exactly one callback.
func ExampleBulkIndexer() {
	ctx := context.Background()
	c, err := search.Connect(ctx, search.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	bi := c.NewBulkIndexer(search.BulkConfig{Workers: 2, FlushBytes: 1 << 20, FlushInterval: time.Second})
	for i := range 1000 {
		_ = bi.Add(ctx, search.BulkItem{
			Index: "lucid-audit-logs-write",
			ID:    fmt.Sprintf("evt-%d", i),
			Body:  map[string]any{"event_id": fmt.Sprintf("evt-%d", i), "action": "auth.login", "outcome": "success", "message": "login"},
			OnFailure: func(item search.BulkItem, res search.BulkItemResult, err error) {
				fmt.Println("not indexed:", err)
			},
		})
	}
	if err := bi.Close(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%+v\n", bi.Stats())
}

// Page through every hit with search_after over a point in time.
func ExampleClient_Scan() {
	ctx := context.Background()
	c, err := search.Connect(ctx, search.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for hit, err := range c.Scan(ctx, "lucid-blocks", search.ScanOptions{Sort: []search.Sort{{Field: "block_height"}}}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(hit.ID)
	}
}

// The lifecycle runner's dry run, then the real thing.
func ExampleClient_PlanLifecycle() {
	ctx := context.Background()
	c, err := search.Connect(ctx, search.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	plan, err := c.PlanLifecycle(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, il := range plan.Indices {
		fmt.Println(il.Index, il.Phase, il.Actions)
	}
	if _, err := c.ApplyLifecycle(ctx); err != nil {
		fmt.Println(err)
	}
}

// Names in an esapi request sent through Transport are escaped as one path
// segment each, as the SDK escapes its own: the engine decodes them back to
// exactly the name, never to "_all", a list or a path.
func ExampleEscapePathSegment() {
	fmt.Println(search.EscapePathSegment("lucid-sessions-2026.11"))
	fmt.Println(search.EscapePathSegment("a+b=c&d@e"))
	fmt.Println(search.EscapePathSegment("lucid-sessions-*,lucid-blocks-*"))
	// Output:
	// lucid-sessions-2026.11
	// a%2Bb%3Dc%26d%40e
	// lucid-sessions-%2A%2Clucid-blocks-%2A
}

// Copy the definition of every monthly sessions index (settings, mappings,
// aliases) to a "scratch-" index of the same name, empty.
func ExampleClient_IndexSpecs() {
	ctx := context.Background()
	c, err := search.Connect(ctx, search.Config{Addresses: []string{"http://127.0.0.1:9200"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	specs, err := c.IndexSpecs(ctx, "lucid-sessions-*")
	if err != nil {
		fmt.Println(err)
		return
	}
	for name, spec := range specs {
		spec.Aliases = nil // the aliases would join the copies to the originals' read alias
		if err := c.CreateIndex(ctx, "scratch-"+name, spec); err != nil {
			fmt.Println(err)
			return
		}
	}
}
