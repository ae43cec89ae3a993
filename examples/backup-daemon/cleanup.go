package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/system"
)

// policy is the retention policy of cfg: BACKUP_RETENTION_DAYS with the
// LUCID_BACKUP_KEEP_* rules beside it (restic forget's semantics, see
// backup.PlanRetention).
func policy(cfg system.Config) backup.RetentionPolicy {
	return backup.RetentionPolicy{Within: time.Duration(cfg.RetentionDays) * 24 * time.Hour, KeepLast: cfg.KeepLast,
		KeepDaily: cfg.KeepDaily, KeepWeekly: cfg.KeepWeekly, KeepMonthly: cfg.KeepMonthly}
}

// cleanupResult is -cleanup's output: the plan, and with -yes what was
// deleted.
type cleanupResult struct {
	DryRun  bool               `json:"dry_run"`
	Plan    backup.CleanupPlan `json:"plan"`
	Deleted []string           `json:"deleted"`
}

// cleanup prints the retention plan and, with yes, deletes what it removes
// (and nothing else: Cleanup deletes only the plan's Remove list).
func cleanup(ctx context.Context, m *backup.Manager, cfg system.Config, yes bool, enc *json.Encoder, log *slog.Logger) error {
	plan, err := m.PlanCleanup(ctx, policy(cfg))
	if err != nil {
		return err
	}
	res := cleanupResult{DryRun: !yes, Plan: plan, Deleted: []string{}}
	if !yes {
		log.Info("cleanup: dry run (add -yes to delete)", "policy", plan.Policy.String(), "keep", len(plan.Keep), "remove", len(plan.Remove))
		return enc.Encode(res)
	}
	deleted, err := m.Cleanup(ctx, plan)
	res.Deleted = append(res.Deleted, deleted...)
	if err != nil {
		_ = enc.Encode(res)
		return err
	}
	log.Info("cleanup: done", "policy", plan.Policy.String(), "kept", len(plan.Keep), "deleted", len(deleted))
	return enc.Encode(res)
}
