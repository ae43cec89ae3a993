package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// IndexSpec is the body of an index creation: settings, mappings and
// aliases as the engine's JSON objects. Zero fields are left out.
type IndexSpec struct {
	Settings map[string]any `json:"settings,omitempty"`
	Mappings map[string]any `json:"mappings,omitempty"`
	Aliases  map[string]any `json:"aliases,omitempty"`
}

// CreateIndex creates the index name (one name, never a pattern: see
// DeleteIndex). An existing index is ErrExists (errkind.AlreadyExists).
func (c *Client) CreateIndex(ctx context.Context, name string, spec IndexSpec) error {
	if err := validateName("create index", name); err != nil {
		return err
	}
	body, err := jsonBody("create index", spec)
	if err != nil {
		return err
	}
	return c.call(ctx, "create index", name, esapi.IndicesCreateRequest{Index: seg(name), Body: bytes.NewReader(body)}, nil)
}

// managedSettings are the index settings GET /{index} reports that the
// engine sets itself and refuses in a create request.
var managedSettings = [...]string{"uuid", "creation_date", "version", "provided_name", "verified_before_close"}

// IndexSpecs returns the definition of every open index target selects, by
// concrete index name: its settings, mappings and aliases as GET /{target}
// reports them, ready for CreateIndex, so the same index can be made again
// under another name or on another cluster (a backup's restore). target is
// read like Search's: an index, an alias (the indices it points to) or a '*'
// pattern, or several comma-separated, checked by
// lucidkeys.ValidateIndexPattern before any request and escaped as one path
// segment.
//
// The settings leave out those the engine sets itself and refuses on
// creation (index.uuid, index.creation_date, index.version,
// index.provided_name, index.verified_before_close); the engine reports
// the others as strings, nested
// under "index", which CreateIndex accepts as they are. Numbers in mappings
// are json.Number, so they come back exactly as stored. A pattern that
// matches nothing gives an empty map; a name (or alias) that does not exist
// is ErrNotFound. Patterns leave closed indices out (the engine could not
// read their documents either); a closed index named as such is returned.
func (c *Client) IndexSpecs(ctx context.Context, target string) (map[string]IndexSpec, error) {
	const op = "index specs"
	if err := validateTarget(op, target); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := c.call(ctx, op, target, esapi.IndicesGetRequest{Index: []string{seg(target)}, ExpandWildcards: "open"}, &buf); err != nil {
		return nil, err
	}
	var specs map[string]IndexSpec
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	if err := dec.Decode(&specs); err != nil {
		return nil, &Error{Op: op, Index: target, Reason: "cannot decode the answer", kind: ErrUnavailable, cause: err}
	}
	if specs == nil {
		specs = map[string]IndexSpec{}
	}
	for name, spec := range specs {
		if ix, ok := spec.Settings["index"].(map[string]any); ok {
			for _, k := range managedSettings {
				delete(ix, k)
			}
		}
		specs[name] = spec
	}
	return specs, nil
}

// DeleteIndex deletes the index name, never a pattern or list, whatever the
// engine's action.destructive_requires_name: '*', ',', '%', a leading '-',
// '_' or '+' ("_all", exclusions) and path characters are refused with
// ErrInvalid before any request (lucidkeys.ValidateIndexName), and the name
// is percent-escaped as one path segment, so the engine deletes at most the
// index of exactly that name. A missing index is ErrNotFound.
func (c *Client) DeleteIndex(ctx context.Context, name string) error {
	if err := validateName("delete index", name); err != nil {
		return err
	}
	if err := c.call(ctx, "delete index", name, esapi.IndicesDeleteRequest{Index: []string{seg(name)}}, nil); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.known, name)
	for e, idx := range c.writeTo {
		if idx == name {
			delete(c.writeTo, e)
		}
	}
	c.mu.Unlock()
	return nil
}

// IndexExists reports whether an index or alias called exactly name exists
// (never a pattern: see DeleteIndex).
func (c *Client) IndexExists(ctx context.Context, name string) (bool, error) {
	if err := validateName("index exists", name); err != nil {
		return false, err
	}
	err := c.call(ctx, "index exists", name, esapi.IndicesExistsRequest{Index: []string{seg(name)}}, nil)
	switch {
	case err == nil:
		return true, nil
	case isStatus(err, 404):
		return false, nil
	}
	return false, err
}

// Refresh makes recent writes to index (one name or alias, never a
// pattern: see DeleteIndex) visible to search.
func (c *Client) Refresh(ctx context.Context, index string) error {
	if err := validateName("refresh", index); err != nil {
		return err
	}
	return c.call(ctx, "refresh", index, esapi.IndicesRefreshRequest{Index: []string{seg(index)}}, nil)
}

// MonthlyIndex returns the index, under the configured prefix, holding
// entity's documents for the month of t (UTC):
// "{prefix}lucid-{entity}-{YYYY.MM}".
func (c *Client) MonthlyIndex(entity string, t time.Time) (string, error) {
	if err := c.errIfClosed("monthly index", ""); err != nil {
		return "", err
	}
	n, err := lucidkeys.MonthlyIndex(entity, t)
	if err != nil {
		return "", wrapInvalid("monthly index", "", err)
	}
	return c.cfg.IndexPrefix + n, nil
}

// WriteAlias returns "{prefix}lucid-{entity}-write", the alias whose write
// index is the current month's index.
func (c *Client) WriteAlias(entity string) (string, error) {
	if err := c.errIfClosed("write alias", ""); err != nil {
		return "", err
	}
	n, err := lucidkeys.WriteAlias(entity)
	if err != nil {
		return "", wrapInvalid("write alias", "", err)
	}
	return c.cfg.IndexPrefix + n, nil
}

// ReadAlias returns "{prefix}lucid-{entity}", the alias every monthly index
// of entity joins when created; search it to see all months still kept.
func (c *Client) ReadAlias(entity string) (string, error) {
	if err := c.errIfClosed("read alias", ""); err != nil {
		return "", err
	}
	n, err := lucidkeys.ReadAlias(entity)
	if err != nil {
		return "", wrapInvalid("read alias", "", err)
	}
	return c.cfg.IndexPrefix + n, nil
}

// IndexPattern returns "{prefix}lucid-{entity}-*", the pattern of entity's
// monthly indices (and of its index template).
func (c *Client) IndexPattern(entity string) (string, error) {
	if err := c.errIfClosed("index pattern", ""); err != nil {
		return "", err
	}
	n, err := lucidkeys.IndexPattern(entity)
	if err != nil {
		return "", wrapInvalid("index pattern", "", err)
	}
	return c.cfg.IndexPrefix + n, nil
}

// parseMonthly splits an index name under the prefix into entity and month.
func (c *Client) parseMonthly(name string) (string, time.Time, bool) {
	rest, ok := strings.CutPrefix(name, c.cfg.IndexPrefix)
	if !ok {
		return "", time.Time{}, false
	}
	e, m, err := lucidkeys.ParseMonthlyIndex(rest)
	return e, m, err == nil
}

// indexSpec is the creation body of one of entity's monthly indices:
// shards, replicas, the mapping (dynamic for unknown entities) and the read
// alias.
func (c *Client) indexSpec(entity string) (IndexSpec, error) {
	read, err := c.ReadAlias(entity)
	if err != nil {
		return IndexSpec{}, err
	}
	spec := IndexSpec{
		Settings: map[string]any{"number_of_shards": c.cfg.Shards, "number_of_replicas": c.cfg.Replicas},
		Aliases:  map[string]any{read: map[string]any{}},
	}
	if m, ok := Mapping(entity); ok {
		spec.Mappings = m
	}
	return spec, nil
}

// EnsureTemplates installs, for each entity (the five well-known ones when
// none are given), a composable index template (_index_template) named
// "{prefix}lucid-{entity}" for "{prefix}lucid-{entity}-*" with the entity's
// settings, mapping and read alias, so monthly indices created by anyone
// get them. When the engine has ILM or ISM it also installs the lifecycle
// policy (see EnsureLifecyclePolicy). It is idempotent.
func (c *Client) EnsureTemplates(ctx context.Context, entities ...string) error {
	if len(entities) == 0 {
		entities = lucidkeys.SearchEntities()
	}
	if c.ilm || c.ism {
		if err := c.EnsureLifecyclePolicy(ctx); err != nil {
			return err
		}
	}
	for _, e := range entities {
		pattern, err := c.IndexPattern(e)
		if err != nil {
			return err
		}
		spec, err := c.indexSpec(e)
		if err != nil {
			return err
		}
		if c.ilm {
			spec.Settings["index.lifecycle.name"] = c.policyName()
		}
		name := strings.TrimSuffix(pattern, "-*")
		body, err := jsonBody("put template", map[string]any{
			"index_patterns": []string{pattern},
			"priority":       200,
			"template":       spec,
			"_meta":          map[string]any{"managed_by": "lucid-data"},
		})
		if err != nil {
			return err
		}
		if err := c.call(ctx, "put template", name, esapi.IndicesPutIndexTemplateRequest{Name: seg(name), Body: bytes.NewReader(body)}, nil); err != nil {
			return err
		}
	}
	return nil
}

// DeleteTemplates removes the index templates EnsureTemplates installed
// for entities (all five well-known ones when none are given); missing
// templates are ignored.
func (c *Client) DeleteTemplates(ctx context.Context, entities ...string) error {
	if len(entities) == 0 {
		entities = lucidkeys.SearchEntities()
	}
	for _, e := range entities {
		name, err := c.ReadAlias(e)
		if err != nil {
			return err
		}
		err = c.call(ctx, "delete template", name, esapi.IndicesDeleteIndexTemplateRequest{Name: seg(name)}, nil)
		if err != nil && !isStatus(err, 404) {
			return err
		}
	}
	return nil
}

// EnsureMonthlyIndex creates entity's index for the month of t if it does
// not exist yet (with mapping, settings and read alias) and returns its
// name. Known indices are remembered, so repeated calls cost nothing.
func (c *Client) EnsureMonthlyIndex(ctx context.Context, entity string, t time.Time) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", ctxErr("ensure monthly index", "", err)
	}
	name, err := c.MonthlyIndex(entity, t)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	ok := c.known[name]
	c.mu.Unlock()
	if ok {
		return name, nil
	}
	spec, err := c.indexSpec(entity)
	if err != nil {
		return "", err
	}
	if err := c.CreateIndex(ctx, name, spec); err != nil && !isAlreadyExists(err) {
		return "", err
	}
	c.mu.Lock()
	c.known[name] = true
	c.mu.Unlock()
	return name, nil
}

func isAlreadyExists(err error) bool { return errors.Is(err, ErrExists) }

// Rollover makes the current month's index (by Config.Clock) entity's write
// index: it creates the index when the month is new and moves the write
// alias onto it in one atomic alias update, so writers through the alias
// never see a gap. It returns the current index and is cheap when nothing
// changed.
func (c *Client) Rollover(ctx context.Context, entity string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", ctxErr("rollover", "", err)
	}
	now := c.now()
	current, err := c.MonthlyIndex(entity, now)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	done := c.writeTo[entity] == current
	c.mu.Unlock()
	if done {
		return current, nil
	}
	if _, err := c.EnsureMonthlyIndex(ctx, entity, now); err != nil {
		return "", err
	}
	write, err := c.WriteAlias(entity)
	if err != nil {
		return "", err
	}
	var holders map[string]any
	err = c.call(ctx, "rollover", write, esapi.IndicesGetAliasRequest{Name: []string{seg(write)}}, &holders)
	if err != nil && !isStatus(err, 404) {
		return "", err
	}
	actions := []any{map[string]any{"add": map[string]any{"index": current, "alias": write, "is_write_index": true}}}
	for idx := range holders {
		if idx != current {
			actions = append(actions, map[string]any{"remove": map[string]any{"index": idx, "alias": write}})
		}
	}
	body, err := jsonBody("rollover", map[string]any{"actions": actions})
	if err != nil {
		return "", err
	}
	if err := c.call(ctx, "rollover", write, esapi.IndicesUpdateAliasesRequest{Body: bytes.NewReader(body)}, nil); err != nil {
		return "", err
	}
	c.mu.Lock()
	c.writeTo[entity] = current
	c.mu.Unlock()
	c.log.Debug("search: rollover", "entity", entity, "index", current)
	return current, nil
}

// IndexFor returns where a document of entity dated at belongs, creating
// indices on demand: the write alias (after Rollover) when at falls in the
// current month, else that month's index. Use it to route bulk items.
func (c *Client) IndexFor(ctx context.Context, entity string, at time.Time) (string, error) {
	if lucidkeys.MonthOf(at).Equal(lucidkeys.MonthOf(c.now())) {
		if _, err := c.Rollover(ctx, entity); err != nil {
			return "", err
		}
		return c.WriteAlias(entity)
	}
	return c.EnsureMonthlyIndex(ctx, entity, at)
}

// IndexEntity indexes doc as entity's document dated at, in the monthly
// index of at (through the write alias for the current month), creating the
// index on demand. id is required (ErrInvalid when empty, before any
// request): an entity document has its own identity (session_id, tx_id,
// event_id, ...), and an engine-generated id would index a retried write
// twice. Use Index with an empty id for engine-generated ids.
func (c *Client) IndexEntity(ctx context.Context, entity, id string, doc any, at time.Time, o *WriteOptions) (*WriteResult, error) {
	if id == "" {
		return nil, invalidf("index entity", "document id is empty")
	}
	if len(id) > maxIDBytes {
		return nil, invalidf("index entity", "document id is %d bytes, longer than %d", len(id), maxIDBytes)
	}
	idx, err := c.IndexFor(ctx, entity, at)
	if err != nil {
		return nil, err
	}
	return c.Index(ctx, idx, id, doc, o)
}
