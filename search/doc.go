// Package search is the search layer of the Lucid data tier: Elasticsearch 8 and
// OpenSearch 2/3 through github.com/elastic/go-elasticsearch/v8 — index
// management, monthly indices and their lifecycle, bulk indexing, full-text
// search and aggregations.
package search
