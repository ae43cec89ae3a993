package search_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/HamiGames/lucid-data/search"
)

// activeSessions is service code: it takes the Searcher interface, so a
// handler can be tested with any implementation and runs on a *search.Client
// (Elasticsearch 8 or OpenSearch 2/3) in production.
func activeSessions(ctx context.Context, s search.Searcher, userID, text string) ([]string, error) {
	res, err := s.SearchSessions(ctx, userID, search.SessionFilter{
		Status: []string{"active"},
		Text:   text, // user input: analysed as text, never parsed as query syntax
		Size:   10,
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	return ids, nil
}

// A Searcher from the environment (LUCID_SEARCH_URL and friends): a user's
// active sessions whose title or description matches a fuzzy text.
func ExampleSearcher() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := search.FromEnv()
	if err != nil {
		log.Fatal(err) // names the bad variable, never a secret
	}
	c, err := search.Connect(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ids, err := activeSessions(ctx, c, "u42", "merkle proof")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ids), "sessions")
}
