package cache

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"time"
)

// MemorySessions is the in-memory implementation of SessionStore.
type MemorySessions struct {
	m *Memory
	*sessionCore
}

var _ SessionStore = (*MemorySessions)(nil)

type memSession struct {
	user    string
	values  map[string]string
	created time.Time
	exp     time.Time
}

// Sessions returns an in-memory SessionStore on m.
func (m *Memory) Sessions(opts SessionOptions) (SessionStore, error) {
	if err := m.open("sessions"); err != nil {
		return nil, err
	}
	core, err := newSessionCore(opts)
	if err != nil {
		return nil, err
	}
	return &MemorySessions{m: m, sessionCore: core}, nil
}

func (s *MemorySessions) live(id string, now time.Time) (memSession, bool) {
	ss, ok := s.m.sessions[id]
	if ok && !now.Before(ss.exp) {
		delete(s.m.sessions, id)
		return memSession{}, false
	}
	return ss, ok
}

func (s *MemorySessions) out(id string, ss memSession) Session {
	return Session{ID: s.publicID(id), UserID: ss.user, Values: maps.Clone(ss.values), CreatedAt: ss.created, ExpiresAt: ss.exp.Truncate(time.Millisecond)}
}

// Create implements SessionStore.
func (s *MemorySessions) Create(ctx context.Context, userID string, values map[string]string, ttl time.Duration) (Session, error) {
	if _, _, err := userIndexKey(userID); err != nil {
		return Session{}, err
	}
	ttl, err := s.sessTTL(ttl)
	if err != nil {
		return Session{}, err
	}
	if _, err := encodeSession(stored{User: userID, Values: values}); err != nil {
		return Session{}, err
	}
	if err := s.m.alive(ctx, "session create"); err != nil {
		return Session{}, err
	}
	token, id := s.newToken(userID)
	now := time.Now()
	ss := memSession{user: userID, values: maps.Clone(values), created: time.UnixMilli(now.UnixMilli()), exp: now.Add(ttl)}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.sessions[id] = ss
	if s.m.users[userID] == nil {
		s.m.users[userID] = map[string]bool{}
	}
	s.m.users[userID][id] = true
	out := s.out(id, ss)
	out.Token = token
	return out, nil
}

func (s *MemorySessions) find(ctx context.Context, token string) (string, memSession, error) {
	id, _, err := s.tokenKey(token)
	if err != nil {
		return "", memSession{}, err
	}
	if err := s.m.alive(ctx, "session"); err != nil {
		return "", memSession{}, err
	}
	ss, ok := s.live(id, time.Now())
	if !ok {
		return "", memSession{}, fmt.Errorf("cache: session: %w", ErrNotFound)
	}
	return id, ss, nil
}

// Get implements SessionStore.
func (s *MemorySessions) Get(ctx context.Context, token string) (Session, error) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	id, ss, err := s.find(ctx, token)
	if err != nil {
		return Session{}, err
	}
	return s.out(id, ss), nil
}

// Extend implements SessionStore.
func (s *MemorySessions) Extend(ctx context.Context, token string, ttl time.Duration) error {
	ttl, err := s.sessTTL(ttl)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	id, ss, err := s.find(ctx, token)
	if err != nil {
		return err
	}
	ss.exp = time.Now().Add(ttl)
	s.m.sessions[id] = ss
	return nil
}

// Delete implements SessionStore.
func (s *MemorySessions) Delete(ctx context.Context, token string) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	id, ss, err := s.find(ctx, token)
	if err != nil {
		return err
	}
	delete(s.m.sessions, id)
	delete(s.m.users[ss.user], id)
	return nil
}

// List implements SessionStore.
func (s *MemorySessions) List(ctx context.Context, userID string) ([]Session, error) {
	if _, _, err := userIndexKey(userID); err != nil {
		return nil, err
	}
	if err := s.m.alive(ctx, "session list"); err != nil {
		return nil, err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	var out []Session
	now := time.Now()
	for id := range s.m.users[userID] {
		if ss, ok := s.live(id, now); ok {
			out = append(out, s.out(id, ss))
		} else {
			delete(s.m.users[userID], id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// RevokeAll implements SessionStore.
func (s *MemorySessions) RevokeAll(ctx context.Context, userID string) (int, error) {
	if _, _, err := userIndexKey(userID); err != nil {
		return 0, err
	}
	if err := s.m.alive(ctx, "session revoke"); err != nil {
		return 0, err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	n := 0
	now := time.Now()
	for id := range s.m.users[userID] {
		if _, ok := s.live(id, now); ok {
			n++
		}
		delete(s.m.sessions, id)
	}
	delete(s.m.users, userID)
	return n, nil
}
