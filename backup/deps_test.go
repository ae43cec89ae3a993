package backup_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Importing backup must link no database client and no AWS SDK: a Pi
// service that backs up its volumes pays for none of them.
func TestCoreDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/HamiGames/lucid-data/backup").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := []string{
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
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if strings.HasPrefix(dep, b) {
				t.Errorf("backup imports %s", dep)
			}
		}
	}
	if !strings.Contains(string(out), "filippo.io/age") || !strings.Contains(string(out), "github.com/klauspost/compress/zstd") {
		t.Fatalf("go list -deps output unexpected:\n%s", out)
	}
}
