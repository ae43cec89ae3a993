// Command opensearch starts the test OpenSearch node once for a whole test
// run, writes its URL to -urlfile, and stops it on SIGINT or SIGTERM. The
// test script exports the URL as LUCID_TEST_SEARCH_URL so every package's
// tests share one node instead of each starting its own JVM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/HamiGames/lucid-data/internal/testenv/launch"
)

func main() {
	urlFile := flag.String("urlfile", "", "write the node's URL to this file once it is green")
	repoFile := flag.String("repofile", "", "write the node's path.repo directory to this file before the URL")
	timeout := flag.Duration("timeout", 4*time.Minute, "start-up limit")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	n, err := launch.StartOpenSearch(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "opensearch:", err)
		os.Exit(1)
	}
	if *repoFile != "" {
		if err := os.WriteFile(*repoFile, []byte(n.Repo+"\n"), 0o644); err != nil {
			n.Stop()
			fmt.Fprintln(os.Stderr, "opensearch:", err)
			os.Exit(1)
		}
	}
	if *urlFile != "" {
		// Written atomically: the test script polls for a non-empty file.
		err := os.WriteFile(*urlFile+".tmp", []byte(n.URL+"\n"), 0o644)
		if err == nil {
			err = os.Rename(*urlFile+".tmp", *urlFile)
		}
		if err != nil {
			n.Stop()
			fmt.Fprintln(os.Stderr, "opensearch:", err)
			os.Exit(1)
		}
	}
	fmt.Println(n.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	n.Stop()
}
