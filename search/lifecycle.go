package search

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// LifecycleMode says who moves monthly indices through their phases.
type LifecycleMode string

// Lifecycle modes.
const (
	LifecycleILM LifecycleMode = "ilm" // Elasticsearch index lifecycle management
	LifecycleISM LifecycleMode = "ism" // OpenSearch index state management plugin
	LifecycleSDK LifecycleMode = "sdk" // the SDK's runner: PlanLifecycle and ApplyLifecycle
)

// LifecycleMode returns how lifecycle is enforced on this engine: ILM or ISM
// when the engine has it (probed at connect time with GET _ilm/status and
// GET _plugins/_ism/policies) unless Config.SDKLifecycle is set, else the
// SDK's runner.
func (c *Client) LifecycleMode() LifecycleMode {
	switch {
	case c.cfg.SDKLifecycle:
		return LifecycleSDK
	case c.ilm:
		return LifecycleILM
	case c.ism:
		return LifecycleISM
	}
	return LifecycleSDK
}

// policyName is the ILM/ISM policy name under the prefix.
func (c *Client) policyName() string { return c.cfg.IndexPrefix + "lucid-lifecycle" }

func days(d time.Duration) string { return strconv.Itoa(int(d/(24*time.Hour))) + "d" }

// ILMPolicy returns the ILM policy body for the Lucid lifecycle: hot until
// 7 days, warm (replicas 0, read-only, force-merged to one segment: ILM
// allows forcemerge in hot and warm only) until 30 days, cold (replicas 0)
// until 90 days, then delete. Ages count from index creation.
func ILMPolicy() map[string]any {
	return obj{"policy": obj{
		"_meta": obj{"managed_by": "lucid-data"},
		"phases": obj{
			"hot": obj{"min_age": "0ms", "actions": obj{"set_priority": obj{"priority": 100}}},
			"warm": obj{"min_age": days(lucidkeys.PhaseWarm.MinAge()), "actions": obj{
				"set_priority": obj{"priority": 50},
				"allocate":     obj{"number_of_replicas": 0},
				"readonly":     obj{},
				"forcemerge":   obj{"max_num_segments": 1},
			}},
			"cold": obj{"min_age": days(lucidkeys.PhaseCold.MinAge()), "actions": obj{
				"set_priority": obj{"priority": 0},
				"allocate":     obj{"number_of_replicas": 0},
			}},
			"delete": obj{"min_age": days(lucidkeys.PhaseDelete.MinAge()), "actions": obj{"delete": obj{}}},
		},
	}}
}

// ISMPolicy returns the OpenSearch ISM policy body for the Lucid lifecycle
// of the indices matching pattern: hot, warm after 7 days (replicas 0,
// read-only), cold after 30 days (force merge to one segment), delete after
// 90 days. Ages count from index creation.
func ISMPolicy(pattern string) map[string]any {
	to := func(state string, age time.Duration) []any {
		return []any{obj{"state_name": state, "conditions": obj{"min_index_age": days(age)}}}
	}
	return obj{"policy": obj{
		"description":   "lucid-data monthly index lifecycle",
		"default_state": "hot",
		"states": []any{
			obj{"name": "hot", "actions": []any{}, "transitions": to("warm", lucidkeys.PhaseWarm.MinAge())},
			obj{"name": "warm", "actions": []any{
				obj{"replica_count": obj{"number_of_replicas": 0}},
				obj{"read_only": obj{}},
			}, "transitions": to("cold", lucidkeys.PhaseCold.MinAge())},
			obj{"name": "cold", "actions": []any{
				obj{"force_merge": obj{"max_num_segments": 1}},
			}, "transitions": to("delete", lucidkeys.PhaseDelete.MinAge())},
			obj{"name": "delete", "actions": []any{obj{"delete": obj{}}}, "transitions": []any{}},
		},
		"ism_template": []any{obj{"index_patterns": []string{pattern}, "priority": 100}},
	}}
}

// EnsureLifecyclePolicy installs the lifecycle policy "{prefix}lucid-lifecycle"
// in ILM or ISM, whichever the engine has; without either it returns
// ErrUnsupported (use the SDK runner: ApplyLifecycle).
func (c *Client) EnsureLifecyclePolicy(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return ctxErr("lifecycle policy", "", err)
	}
	if err := c.errIfClosed("lifecycle policy", ""); err != nil {
		return err
	}
	name := c.policyName()
	switch {
	case c.ilm:
		body, err := jsonBody("put ilm policy", ILMPolicy())
		if err != nil {
			return err
		}
		return c.call(ctx, "put ilm policy", name, raw("PUT", "/_ilm/policy/"+seg(name), nil, body), nil)
	case c.ism:
		body, err := jsonBody("put ism policy", ISMPolicy(c.cfg.IndexPrefix+"lucid-*"))
		if err != nil {
			return err
		}
		path := "/_plugins/_ism/policies/" + seg(name)
		var cur struct {
			SeqNo       *int64 `json:"_seq_no"`
			PrimaryTerm *int64 `json:"_primary_term"`
		}
		err = c.call(ctx, "get ism policy", name, raw("GET", path, nil, nil), &cur)
		q := url.Values{}
		switch {
		case err == nil && cur.SeqNo != nil && cur.PrimaryTerm != nil:
			// Updating an ISM policy needs its concurrency token.
			q.Set("if_seq_no", strconv.FormatInt(*cur.SeqNo, 10))
			q.Set("if_primary_term", strconv.FormatInt(*cur.PrimaryTerm, 10))
		case err != nil && !isStatus(err, 404):
			return err
		}
		return c.call(ctx, "put ism policy", name, raw("PUT", path, q, body), nil)
	}
	return &Error{Op: "lifecycle policy", Reason: string(c.product) + " " + c.version + " has neither ILM nor ISM", kind: ErrUnsupported}
}

// Lifecycle actions of the SDK runner.
const (
	ActionSetReplicas = "set_replicas" // number_of_replicas 0 (warm, cold)
	ActionBlockWrite  = "block_write"  // index.blocks.write true (warm, cold)
	ActionForceMerge  = "force_merge"  // to 1 segment per shard (entering cold)
	ActionDelete      = "delete"       // the index is past DeleteAfter
)

// IndexLifecycle is the plan for one monthly index.
type IndexLifecycle struct {
	Index   string
	Entity  string
	Month   time.Time       // first instant of the index's month, UTC
	Age     time.Duration   // since the end of the month (negative: current month)
	Phase   lucidkeys.Phase // the phase the index belongs in
	Actions []string        // what ApplyLifecycle does (or did); empty when settled
	Err     error           // set by ApplyLifecycle when an action failed
}

// LifecyclePlan is a dry-run report (PlanLifecycle) or the record of an
// applied run (ApplyLifecycle).
type LifecyclePlan struct {
	Mode    LifecycleMode
	Now     time.Time
	Indices []IndexLifecycle // sorted by index name
	Applied bool
}

// PlanLifecycle reports, without changing anything, the phase each monthly
// index under the prefix belongs in and the actions ApplyLifecycle would
// take. An index's age is measured from the end of its month (Config.Clock),
// so "lucid-sessions-2026.08" is 7 days old on 8 September: its data are at
// most that old only then. Phases follow lucidkeys.PhaseForAge: hot below
// 7 days, warm below 30, cold below 90, deleted from 90.
func (c *Client) PlanLifecycle(ctx context.Context) (*LifecyclePlan, error) {
	now := c.now().UTC()
	plan := &LifecyclePlan{Mode: c.LifecycleMode(), Now: now}
	pattern := c.cfg.IndexPrefix + "lucid-*"
	var settings map[string]struct {
		Settings map[string]string `json:"settings"`
	}
	q := url.Values{"flat_settings": {"true"}, "allow_no_indices": {"true"}, "expand_wildcards": {"open"}}
	if err := c.call(ctx, "plan lifecycle", pattern, raw("GET", "/"+seg(pattern)+"/_settings", q, nil), &settings); err != nil {
		return nil, err
	}
	var stats struct {
		Indices map[string]struct {
			Primaries struct {
				Segments struct {
					Count int `json:"count"`
				} `json:"segments"`
			} `json:"primaries"`
		} `json:"indices"`
	}
	if err := c.call(ctx, "plan lifecycle", pattern, raw("GET", "/"+seg(pattern)+"/_stats/segments", nil, nil), &stats); err != nil {
		return nil, err
	}
	for name, s := range settings {
		entity, month, ok := c.parseMonthly(name)
		if !ok {
			continue
		}
		age := now.Sub(month.AddDate(0, 1, 0))
		il := IndexLifecycle{Index: name, Entity: entity, Month: month, Age: age, Phase: lucidkeys.PhaseForAge(age)}
		shards, _ := strconv.Atoi(s.Settings["index.number_of_shards"])
		switch il.Phase {
		case lucidkeys.PhaseDelete:
			il.Actions = []string{ActionDelete}
		case lucidkeys.PhaseWarm, lucidkeys.PhaseCold:
			if s.Settings["index.number_of_replicas"] != "0" {
				il.Actions = append(il.Actions, ActionSetReplicas)
			}
			if s.Settings["index.blocks.write"] != "true" {
				il.Actions = append(il.Actions, ActionBlockWrite)
			}
			if il.Phase == lucidkeys.PhaseCold && stats.Indices[name].Primaries.Segments.Count > max(shards, 1) {
				il.Actions = append(il.Actions, ActionForceMerge)
			}
		}
		plan.Indices = append(plan.Indices, il)
	}
	slices.SortFunc(plan.Indices, func(a, b IndexLifecycle) int {
		switch {
		case a.Index < b.Index:
			return -1
		case a.Index > b.Index:
			return 1
		}
		return 0
	})
	return plan, nil
}

// ApplyLifecycle enforces the lifecycle. In SDK mode it plans (see
// PlanLifecycle) and applies each index's actions: replicas 0 and a write
// block from warm on, a force merge to one segment entering cold, deletion
// after 90 days. Every index is attempted; failures are recorded per index
// and returned joined. Under ILM or ISM it installs the policy (the engine
// does the rest) and returns the plan unapplied.
func (c *Client) ApplyLifecycle(ctx context.Context) (*LifecyclePlan, error) {
	if c.LifecycleMode() != LifecycleSDK {
		if err := c.EnsureLifecyclePolicy(ctx); err != nil {
			return nil, err
		}
		return c.PlanLifecycle(ctx)
	}
	plan, err := c.PlanLifecycle(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i := range plan.Indices {
		il := &plan.Indices[i]
		if len(il.Actions) == 0 {
			continue
		}
		il.Err = c.applyIndex(ctx, il)
		if il.Err != nil {
			errs = append(errs, il.Err)
		}
		c.log.Info("search: lifecycle", "index", il.Index, "phase", il.Phase, "actions", il.Actions, "ok", il.Err == nil)
	}
	plan.Applied = true
	return plan, errors.Join(errs...)
}

func (c *Client) applyIndex(ctx context.Context, il *IndexLifecycle) error {
	if slices.Contains(il.Actions, ActionDelete) {
		err := c.DeleteIndex(ctx, il.Index)
		if isStatus(err, 404) {
			return nil // already gone: the goal is reached
		}
		return err
	}
	set := obj{}
	if slices.Contains(il.Actions, ActionSetReplicas) {
		set["index.number_of_replicas"] = 0
	}
	if slices.Contains(il.Actions, ActionBlockWrite) {
		set["index.blocks.write"] = true
	}
	if len(set) > 0 {
		body, _ := json.Marshal(set)
		if err := c.call(ctx, "lifecycle settings", il.Index, raw("PUT", "/"+seg(il.Index)+"/_settings", nil, body), nil); err != nil {
			return err
		}
	}
	if slices.Contains(il.Actions, ActionForceMerge) {
		q := url.Values{"max_num_segments": {"1"}}
		if err := c.call(ctx, "lifecycle force merge", il.Index, raw("POST", "/"+seg(il.Index)+"/_forcemerge", q, nil), nil); err != nil {
			return err
		}
		// Release the merged-away segments now, so the next plan sees one.
		if err := c.Refresh(ctx, il.Index); err != nil {
			return err
		}
	}
	return nil
}
