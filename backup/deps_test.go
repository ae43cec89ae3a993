package backup_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/internal/depcheck"
)

// Importing backup must link no database client and no AWS SDK: a Pi
// service that backs up its volumes pays for none of them.
func TestCoreDependencies(t *testing.T) {
	deps := depcheck.Forbid(t, "github.com/HamiGames/lucid-data/backup",
		"go.mongodb.org/mongo-driver",
		"github.com/redis/go-redis",
		"github.com/elastic/go-elasticsearch",
		"github.com/opensearch-project",
		"github.com/aws/aws-sdk-go-v2",
		"github.com/aws/smithy-go",
		"github.com/FerretDB",
		"github.com/HamiGames/lucid-data/mongostore",
		"github.com/HamiGames/lucid-data/cache",
		"github.com/HamiGames/lucid-data/search",
		"github.com/HamiGames/lucid-data/volume",
		"github.com/klauspost/pgzip",
	)
	if !slices.Contains(deps, "filippo.io/age") || !slices.Contains(deps, "github.com/klauspost/compress/zstd") {
		t.Fatalf("go list -deps output unexpected:\n%s", strings.Join(deps, "\n"))
	}
}
