package cachetest

import (
	"context"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
)

func recv(t *testing.T, s cache.Subscription) cache.Message {
	t.Helper()
	select {
	case m, ok := <-s.Messages():
		if !ok {
			t.Fatal("subscription closed")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
	}
	return cache.Message{}
}

// TestPubSub checks a PubSub implementation.
func TestPubSub(t *testing.T, newPubSub func(t *testing.T) cache.PubSub) {
	t.Run("PublishSubscribe", func(t *testing.T) {
		ps, ctx := newPubSub(t), ctxT(t)
		sub, err := ps.Subscribe(ctx, "a", "b")
		noErr(t, err, "subscribe")
		defer sub.Close()
		// The count is 1 on one node; on Cluster PUBLISH counts only the
		// serving node's subscribers, so delivery is what is checked.
		n, err := ps.Publish(ctx, "a", []byte("one"))
		noErr(t, err, "publish")
		if n > 1 {
			t.Fatalf("publish reached %d subscribers, want at most 1", n)
		}
		_, err = ps.Publish(ctx, "b", []byte("two"))
		noErr(t, err, "publish")
		_, err = ps.Publish(ctx, "c", []byte("nobody"))
		noErr(t, err, "publish")
		// Order is kept within a channel, not across channels: on Cluster a
		// PUBLISH served by another node reaches the subscriber's node over
		// the cluster bus, so "b" may overtake "a".
		got := map[string]string{}
		for range 2 {
			m := recv(t, sub)
			if m.Gap {
				t.Fatalf("unexpected gap notice %+v", m)
			}
			got[m.Channel] = string(m.Payload)
		}
		if got["a"] != "one" || got["b"] != "two" || len(got) != 2 {
			t.Fatalf("got %v, want a=one and b=two", got)
		}
		noErr(t, sub.Close(), "close")
		noErr(t, sub.Close(), "close twice")
		for range sub.Messages() { // drains and ends: the channel is closed
		}
	})
	t.Run("Typed", func(t *testing.T) {
		ps, ctx := newPubSub(t), ctxT(t)
		type event struct{ Kind string }
		topic, err := cache.NewTopic[event](ps, "events", cache.TypedOptions{})
		noErr(t, err, "topic")
		sub, err := topic.Subscribe(ctx)
		noErr(t, err, "subscribe")
		defer sub.Close()
		_, err = topic.Publish(ctx, event{Kind: "created"})
		noErr(t, err, "publish")
		e, err := topic.Decode(recv(t, sub))
		noErr(t, err, "decode")
		if e.Kind != "created" {
			t.Fatalf("decoded %+v", e)
		}
		_, err = topic.Decode(cache.Message{Gap: true})
		wantErr(t, err, cache.ErrInvalid, "decode gap")
	})
	t.Run("ContextEnds", func(t *testing.T) {
		ps, ctx := newPubSub(t), ctxT(t)
		sctx, cancel := context.WithCancel(ctx)
		sub, err := ps.Subscribe(sctx, "x")
		noErr(t, err, "subscribe")
		cancel()
		select {
		case _, ok := <-sub.Messages():
			if ok {
				t.Fatal("message after cancel")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("subscription did not end with its ctx")
		}
		noErr(t, sub.Close(), "close after ctx end")
	})
	t.Run("BadInput", func(t *testing.T) {
		ps, ctx := newPubSub(t), ctxT(t)
		_, err := ps.Subscribe(ctx)
		wantErr(t, err, cache.ErrInvalid, "no channels")
		_, err = ps.Subscribe(ctx, "bad channel")
		wantErr(t, err, cache.ErrInvalid, "space in channel")
		_, err = ps.Publish(ctx, "", []byte("x"))
		wantErr(t, err, cache.ErrInvalid, "empty channel")
		_, err = ps.Publish(ctx, "c", make([]byte, cache.DefaultMaxValueSize+1))
		wantErr(t, err, cache.ErrInvalid, "oversized payload")
		_, err = cache.NewTopic[int](nil, "c", cache.TypedOptions{})
		wantErr(t, err, cache.ErrInvalid, "nil pubsub")
	})
}
