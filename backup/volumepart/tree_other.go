//go:build !linux

package volumepart

import (
	"context"
	"io"

	"github.com/HamiGames/lucid-data/backup"
)

func errUnsupportedOS() error {
	return &backup.Error{Op: "volume part", Kind: backup.ErrUnsupported, Msg: "volume parts are written on Linux only"}
}

func writeTree(context.Context, string, string, map[string]*entry, io.Writer) (partStats, error) {
	return partStats{}, errUnsupportedOS()
}

func removePaths(string, []string) (int, error) { return 0, errUnsupportedOS() }

func makeWritable(string, []entry) error { return errUnsupportedOS() }
