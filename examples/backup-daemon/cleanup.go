package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/system"
)

// cleanup will print the retention plan and, with yes, carry it out, once
// the core's retention (backup.Manager.PlanCleanup) is in.
func cleanup(ctx context.Context, m *backup.Manager, cfg system.Config, yes bool, enc *json.Encoder, log *slog.Logger) error {
	return errors.New("backup-daemon: -cleanup needs backup.Manager.PlanCleanup, not in this build yet")
}
