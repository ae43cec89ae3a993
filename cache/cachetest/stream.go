package cachetest

import (
	"context"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
)

// TestStream checks a Stream implementation. newStreams returns one
// Stream per consumer name, all on one fresh stream and group, with a
// short Block.
func TestStream(t *testing.T, newStreams func(t *testing.T, consumers ...string) []cache.Stream) {
	testStream(t, newStreams, false)
}

func testStream(t *testing.T, newStreams func(t *testing.T, consumers ...string) []cache.Stream, fake bool) {
	t.Run("AtLeastOnce", onClock(fake, func(t *testing.T) {
		ss, ctx := newStreams(t, "a", "b"), ctxT(t)
		a, b := ss[0], ss[1]
		for _, m := range []string{"m1", "m2", "m3"} {
			_, err := a.Add(ctx, []byte(m))
			noErr(t, err, "add")
		}
		got, err := a.Read(ctx, 2)
		noErr(t, err, "read")
		if len(got) != 2 || string(got[0].Payload) != "m1" || string(got[1].Payload) != "m2" {
			t.Fatalf("read %+v", got)
		}
		noErr(t, a.Ack(ctx, got[0].ID), "ack")
		// a "crashes" holding m2; b reads m3, then claims m2.
		got3, err := b.Read(ctx, 10)
		noErr(t, err, "read b")
		if len(got3) != 1 || string(got3[0].Payload) != "m3" {
			t.Fatalf("b read %+v", got3)
		}
		noErr(t, b.Ack(ctx, got3[0].ID), "ack b")
		if n, err := b.Pending(ctx); err != nil || n != 1 {
			t.Fatalf("pending = %d, %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
		claimed, err := b.Claim(ctx, 20*time.Millisecond, 10)
		noErr(t, err, "claim")
		if len(claimed) != 1 || string(claimed[0].Payload) != "m2" {
			t.Fatalf("claimed %+v", claimed)
		}
		noErr(t, b.Ack(ctx, claimed[0].ID), "ack claimed")
		if n, err := b.Pending(ctx); err != nil || n != 0 {
			t.Fatalf("pending after ack = %d, %v", n, err)
		}
		none, err := b.Read(ctx, 10) // waits the short Block: nothing new
		if err != nil || len(none) != 0 {
			t.Fatalf("empty read = %+v, %v", none, err)
		}
	}))
	t.Run("ReadWakesOnAdd", onClock(fake, func(t *testing.T) {
		ss, ctx := newStreams(t, "a"), ctxT(t)
		got := make(chan []cache.StreamMessage, 1)
		go func() {
			for {
				m, err := ss[0].Read(ctx, 1)
				if err != nil || len(m) > 0 {
					got <- m
					return
				}
			}
		}()
		time.Sleep(20 * time.Millisecond)
		_, err := ss[0].Add(ctx, []byte("late"))
		noErr(t, err, "add")
		if m := <-got; len(m) != 1 || string(m[0].Payload) != "late" {
			t.Fatalf("read %+v", m)
		}
	}))
	t.Run("DeadlineAndBadInput", onClock(fake, func(t *testing.T) {
		ss, ctx := newStreams(t, "a"), ctxT(t)
		short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		time.Sleep(10 * time.Millisecond)
		_, err := ss[0].Read(short, 1)
		wantErr(t, err, context.DeadlineExceeded, "read past deadline")
		_, err = ss[0].Read(ctx, 0)
		wantErr(t, err, cache.ErrInvalid, "read count 0")
		_, err = ss[0].Add(ctx, make([]byte, cache.DefaultMaxValueSize+1))
		wantErr(t, err, cache.ErrInvalid, "oversized payload")
		_, err = ss[0].Claim(ctx, -time.Second, 1)
		wantErr(t, err, cache.ErrInvalid, "negative idle")
	}))
}
