package health_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/HamiGames/lucid-data/health"
)

func Example() {
	agg := health.NewAggregator(health.Options{Timeout: time.Second})
	// Every SDK client has Check(ctx) health.Report; a function serves too.
	_ = agg.Register("redis", health.CheckerFunc(func(ctx context.Context) health.Report {
		return health.Report{Status: health.Up, Version: "Redis 7.0.15"}
	}), health.CheckOptions{})
	_ = agg.Register("search", health.CheckerFunc(func(ctx context.Context) health.Report {
		return health.Report{Status: health.Down}
	}), health.CheckOptions{Optional: true})

	mux := http.NewServeMux()
	mux.Handle("/livez", agg.LiveHandler())
	mux.Handle("/readyz", agg.ReadyHandler()) // 503 only when a required component is down

	s := agg.Check(context.Background())
	fmt.Println(s.Status, s.Checks["redis"].Status, s.Checks["search"].Status)
	// Output: degraded up down
}
