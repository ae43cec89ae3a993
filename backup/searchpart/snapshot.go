package searchpart

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/search"
)

// LucidRepository is the snapshot repository Lucid's Python backup service
// registered (an fs repository).
const LucidRepository = "lucid_backup"

// lucidLayout is the time layout of Lucid's snapshot names after their
// "snapshot_" prefix (snapshot_YYYYmmdd_HHMMSS, UTC).
const lucidLayout = "20060102_150405"

// ParseLucidSnapshotName reports whether name has the form Lucid's backup
// service gave its snapshots, snapshot_YYYYmmdd_HHMMSS, and returns the
// time it encodes (UTC).
func ParseLucidSnapshotName(name string) (time.Time, bool) {
	const prefix = "snapshot_"
	if len(name) != len(prefix)+len(lucidLayout) || name[:len(prefix)] != prefix {
		return time.Time{}, false
	}
	t, err := time.Parse(lucidLayout, name[len(prefix):])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// Snapshots drives the engine's own snapshot API: repositories, snapshots
// and their restore, which the engine does itself (the data never passes
// through this process). An engine that cannot have the repository — an fs
// repository whose location is not under the node's path.repo, or no
// repository of that name — fails with backup.ErrUnsupported (kind
// Unimplemented); a missing snapshot is backup.ErrNotFound.
type Snapshots struct {
	Client *search.Client
}

// Snapshot is one snapshot as the engine lists it.
type Snapshot struct {
	Name    string    `json:"snapshot"`
	State   string    `json:"state"` // "SUCCESS", "PARTIAL", "FAILED", "IN_PROGRESS"
	Indices []string  `json:"indices"`
	Start   time.Time `json:"-"`
	End     time.Time `json:"-"`
	// Lucid is set when Name has the form of Lucid's snapshots
	// (snapshot_YYYYmmdd_HHMMSS); LucidTime is the time it encodes.
	Lucid     bool      `json:"-"`
	LucidTime time.Time `json:"-"`
}

func checkNames(names ...string) error {
	for _, n := range names {
		if err := lucidkeys.ValidateIndexName(n); err != nil {
			return &backup.Error{Op: "snapshot", Kind: backup.ErrInvalid, Err: err}
		}
	}
	return nil
}

func jsonReader(v any) (*bytes.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// RegisterFS registers (or updates) the fs repository repo at location, a
// directory that must lie under the path.repo of every node; otherwise the
// engine refuses and the error is backup.ErrUnsupported.
func (s Snapshots) RegisterFS(ctx context.Context, repo, location string) error {
	if err := checkNames(repo); err != nil {
		return err
	}
	body, err := jsonReader(map[string]any{"type": "fs", "settings": map[string]any{"location": location}})
	if err != nil {
		return err
	}
	return do(ctx, s.Client, "register repository "+repo, esapi.SnapshotCreateRepositoryRequest{Repository: search.EscapePathSegment(repo), Body: body}, nil)
}

// List returns the snapshots of repo in the engine's order (by start
// time), Lucid's marked.
func (s Snapshots) List(ctx context.Context, repo string) ([]Snapshot, error) {
	if err := checkNames(repo); err != nil {
		return nil, err
	}
	var res struct {
		Snapshots []struct {
			Snapshot
			StartMillis int64 `json:"start_time_in_millis"`
			EndMillis   int64 `json:"end_time_in_millis"`
		} `json:"snapshots"`
	}
	if err := do(ctx, s.Client, "list snapshots of "+repo, esapi.SnapshotGetRequest{Repository: search.EscapePathSegment(repo), Snapshot: []string{"_all"}}, &res); err != nil {
		return nil, err
	}
	out := make([]Snapshot, 0, len(res.Snapshots))
	for _, r := range res.Snapshots {
		sn := r.Snapshot
		sn.Start, sn.End = time.UnixMilli(r.StartMillis).UTC(), time.UnixMilli(r.EndMillis).UTC()
		sn.LucidTime, sn.Lucid = ParseLucidSnapshotName(sn.Name)
		out = append(out, sn)
	}
	return out, nil
}

// LucidSnapshots returns the snapshots of Lucid's repository
// (LucidRepository) that carry Lucid's names, oldest first as listed.
func (s Snapshots) LucidSnapshots(ctx context.Context) ([]Snapshot, error) {
	all, err := s.List(ctx, LucidRepository)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, sn := range all {
		if sn.Lucid {
			out = append(out, sn)
		}
	}
	return out, nil
}

// Create takes the snapshot name of indices (names or patterns; none:
// every index) into repo and waits for it to complete.
func (s Snapshots) Create(ctx context.Context, repo, name string, indices ...string) error {
	if err := checkNames(repo, name); err != nil {
		return err
	}
	for _, p := range indices {
		if err := lucidkeys.ValidateIndexPattern(p); err != nil {
			return &backup.Error{Op: "snapshot", Kind: backup.ErrInvalid, Err: err}
		}
	}
	spec := map[string]any{"include_global_state": false}
	if len(indices) > 0 {
		spec["indices"] = indices
	}
	body, err := jsonReader(spec)
	if err != nil {
		return err
	}
	wait := true
	return do(ctx, s.Client, "create snapshot "+name, esapi.SnapshotCreateRequest{Repository: search.EscapePathSegment(repo), Snapshot: search.EscapePathSegment(name), Body: body, WaitForCompletion: &wait}, nil)
}

// RestoreOptions select and rename what Snapshots.Restore restores.
type RestoreOptions struct {
	// Indices to restore (names or patterns); none: all of the snapshot.
	Indices []string
	// RenamePattern and RenameReplacement are the engine's
	// rename_pattern (a Java regular expression) and rename_replacement
	// ("$1" groups): "lucid-(.+)" and "scratch-lucid-$1".
	RenamePattern, RenameReplacement string
	// IncludeAliases restores the indices' aliases too (not renamed by
	// the engine: leave it off when renaming next to the originals).
	IncludeAliases bool
}

// Restore restores snapshot name of repo and waits for it. The engine
// refuses to restore over an open index of the same name: rename, or
// delete the index first.
func (s Snapshots) Restore(ctx context.Context, repo, name string, o RestoreOptions) error {
	if err := checkNames(repo, name); err != nil {
		return err
	}
	spec := map[string]any{"include_global_state": false, "include_aliases": o.IncludeAliases}
	if len(o.Indices) > 0 {
		spec["indices"] = o.Indices
	}
	if o.RenamePattern != "" {
		spec["rename_pattern"], spec["rename_replacement"] = o.RenamePattern, o.RenameReplacement
	}
	body, err := jsonReader(spec)
	if err != nil {
		return err
	}
	wait := true
	return do(ctx, s.Client, "restore snapshot "+name, esapi.SnapshotRestoreRequest{Repository: search.EscapePathSegment(repo), Snapshot: search.EscapePathSegment(name), Body: body, WaitForCompletion: &wait}, nil)
}

// Delete deletes snapshot name of repo.
func (s Snapshots) Delete(ctx context.Context, repo, name string) error {
	if err := checkNames(repo, name); err != nil {
		return err
	}
	return do(ctx, s.Client, "delete snapshot "+name, esapi.SnapshotDeleteRequest{Repository: search.EscapePathSegment(repo), Snapshot: []string{search.EscapePathSegment(name)}}, nil)
}
