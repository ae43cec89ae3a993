package mongopart

import (
	"bytes"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// RewriteArchive returns the plain archive b with each collection's
// metadata passed through edit: for tests that need metadata a server
// cannot produce (a validator from MongoDB, read on FerretDB).
func RewriteArchive(b []byte, edit func(db, coll string, m *Metadata)) ([]byte, error) {
	var hdr Header
	var colls []CollectionMetadata
	var order []string
	docs := map[string][][]byte{}
	if err := ReadArchive(bytes.NewReader(b), ArchiveHandler{
		Prelude: func(h Header, c []CollectionMetadata) error { hdr, colls = h, c; return nil },
		Doc: func(db, coll string, doc bson.Raw) error {
			docs[db+"\x00"+coll] = append(docs[db+"\x00"+coll], append([]byte(nil), doc...))
			return nil
		},
		End: func(db, coll string, _ int64) error { order = append(order, db+"\x00"+coll); return nil },
	}); err != nil {
		return nil, err
	}
	for i, c := range colls {
		m, err := ParseMetadata([]byte(c.Metadata))
		if err != nil {
			return nil, err
		}
		edit(c.DB, c.Collection, &m)
		if colls[i].Metadata, err = MarshalMetadata(m); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	aw, err := newArchiveWriter(&out, hdr, colls)
	if err != nil {
		return nil, err
	}
	for _, ns := range order {
		db, coll, _ := strings.Cut(ns, "\x00")
		if err := aw.begin(db, coll); err != nil {
			return nil, err
		}
		for _, d := range docs[ns] {
			if err := aw.write(d); err != nil {
				return nil, err
			}
		}
		if err := aw.end(db, coll); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil
}

// OneNamespaceArchive returns a plain archive of one namespace db.coll holding
// docs, for documents a server cannot produce.
func OneNamespaceArchive(db, coll string, docs []bson.Raw) ([]byte, error) {
	var out bytes.Buffer
	aw, err := newArchiveWriter(&out, Header{ConcurrentCollections: 1, Version: ArchiveVersion, ToolVersion: ToolVersion},
		[]CollectionMetadata{{DB: db, Collection: coll, Type: "collection"}})
	if err == nil {
		err = aw.begin(db, coll)
	}
	for _, d := range docs {
		if err == nil {
			err = aw.write(d)
		}
	}
	if err == nil {
		err = aw.end(db, coll)
	}
	return out.Bytes(), err
}
