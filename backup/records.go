package backup

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Records are small JSON documents kept in the sink beside the backups:
// the scheduler's run status, Verify's results. They live under the
// reserved prefix "_records/<kind>/<name>", which no backup ID can start
// with, so List, Incomplete and Delete never see them. Like every object,
// a record is written once.
const recordsPrefix = "_records/"

// RecordVerify is the kind of the records Verify writes.
const RecordVerify = "verify"

// maxRecordSize bounds a record: records hold status, not data.
const maxRecordSize = 1 << 20

var (
	recordKindRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,199}$`)
	recordNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)
)

// ValidRecordKind reports whether s can be a record's kind: 1 to 200 of
// a-z, 0-9, '.', '_' and '-', starting with a letter or digit.
func ValidRecordKind(s string) bool { return recordKindRE.MatchString(s) }

// ValidRecordName reports whether s can name a record: as a kind, and
// upper-case letters too, so that a name can hold a backup ID
// (20260102T030405Z-0123abcd).
func ValidRecordName(s string) bool { return recordNameRE.MatchString(s) }

// splitRecord splits a sink name "_records/<kind>/<name>".
func splitRecord(name string) (kind, rec string, ok bool) {
	rest, ok := strings.CutPrefix(name, recordsPrefix)
	if !ok {
		return "", "", false
	}
	kind, rec, ok = strings.Cut(rest, "/")
	return kind, rec, ok && ValidRecordKind(kind) && ValidRecordName(rec)
}

func recordObject(op, kind, name string) (string, error) {
	if !ValidRecordKind(kind) {
		return "", newErr(ErrInvalid, op, "", "", "bad record kind %.60q", kind)
	}
	if name != "" && !ValidRecordName(name) {
		return "", newErr(ErrInvalid, op, "", "", "bad record name %.60q", name)
	}
	return recordsPrefix + kind + "/" + name, nil
}

// PutRecord stores v, JSON-encoded, as the record name of kind (both as
// ValidRecordKind and ValidRecordName say). Records are written once: ErrExists when it
// exists. At most 1 MiB.
func (m *Manager) PutRecord(ctx context.Context, kind, name string, v any) error {
	if err := m.check("put record"); err != nil {
		return err
	}
	obj, err := recordObject("put record", kind, name)
	if err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return newErr(ErrInvalid, "put record", "", "", "%s/%s: %v", kind, name, err)
	}
	if len(b) > maxRecordSize {
		return newErr(ErrInvalid, "put record", "", "", "%s/%s: %d bytes, more than %d", kind, name, len(b), maxRecordSize)
	}
	if err := m.writeObject(ctx, obj, append(b, '\n')); err != nil {
		return wrap(ctx, err, "put record", "", "")
	}
	return nil
}

// Records returns the names of the records of kind, in lexical order.
func (m *Manager) Records(ctx context.Context, kind string) ([]string, error) {
	if err := m.check("records"); err != nil {
		return nil, err
	}
	prefix, err := recordObject("records", kind, "")
	if err != nil {
		return nil, err
	}
	names, err := m.sink.List(ctx, prefix)
	if err != nil {
		return nil, wrap(ctx, err, "records", "", "")
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if k, r, ok := splitRecord(n); ok && k == kind {
			out = append(out, r)
		}
	}
	return out, nil
}

// GetRecord decodes the record name of kind into v: ErrNotFound when it
// does not exist, ErrCorrupt when it is not the JSON of v.
func (m *Manager) GetRecord(ctx context.Context, kind, name string, v any) error {
	if err := m.check("get record"); err != nil {
		return err
	}
	obj, err := recordObject("get record", kind, name)
	if err != nil {
		return err
	}
	if name == "" {
		return newErr(ErrInvalid, "get record", "", "", "empty record name")
	}
	r, err := m.sink.Open(ctx, obj)
	if err != nil {
		return wrap(ctx, err, "get record", "", "")
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxRecordSize+2))
	if err != nil {
		return wrap(ctx, err, "get record", "", "")
	}
	if len(b) > maxRecordSize+1 {
		return newErr(ErrCorrupt, "get record", "", "", "%s/%s: more than %d bytes", kind, name, maxRecordSize)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &Error{Op: "get record", Kind: ErrCorrupt, Msg: kind + "/" + name, Err: err}
	}
	return nil
}

// DeleteRecord removes the record name of kind; removing a record that
// does not exist is not an error.
func (m *Manager) DeleteRecord(ctx context.Context, kind, name string) error {
	if err := m.check("delete record"); err != nil {
		return err
	}
	obj, err := recordObject("delete record", kind, name)
	if err != nil {
		return err
	}
	if name == "" {
		return newErr(ErrInvalid, "delete record", "", "", "empty record name")
	}
	if err := m.sink.Delete(ctx, obj); err != nil {
		return wrap(ctx, err, "delete record", "", "")
	}
	return nil
}

// verifyRecordName is "<backup ID>-<unix nanos>".
func verifyRecordName(id string, t time.Time) string {
	return id + "-" + strconv.FormatInt(t.UnixNano(), 10)
}

func parseVerifyRecord(name string) (id string, t time.Time, ok bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || !ValidID(name[:i]) {
		return "", t, false
	}
	ns, err := strconv.ParseInt(name[i+1:], 10, 64)
	if err != nil || ns < 0 {
		return "", t, false
	}
	return name[:i], time.Unix(0, ns).UTC(), true
}

// putVerifyRecord records a successful Verify of rep.ID at the Manager's
// clock. Two verifies in one nanosecond (a test's frozen clock) take the
// next free nanosecond.
func (m *Manager) putVerifyRecord(ctx context.Context, rep *Report) error {
	t := m.now()
	var err error
	for range 8 {
		err = m.PutRecord(ctx, RecordVerify, verifyRecordName(rep.ID, t), rep)
		if !errors.Is(err, ErrExists) {
			return err
		}
		t = t.Add(time.Nanosecond)
	}
	return err
}

// Verified returns, for each backup that has one, the time of its last
// Verify that passed (from the records Verify writes; the Manager's clock
// at the time). Records of backups deleted since are left out only once
// Delete removed them.
func (m *Manager) Verified(ctx context.Context) (map[string]time.Time, error) {
	names, err := m.Records(ctx, RecordVerify)
	if err != nil {
		return nil, wrap(ctx, err, "verified", "", "")
	}
	out := map[string]time.Time{}
	for _, n := range names {
		id, t, ok := parseVerifyRecord(n)
		if !ok {
			continue
		}
		if t.After(out[id]) {
			out[id] = t
		}
	}
	return out, nil
}
