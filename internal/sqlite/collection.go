package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
)

// CreateCollection stores c; an empty c.ID is filled with a new UUID and a
// zero c.CreatedAt with the current time. A title, alias or id already
// taken is KindConflict.
func (db *DB) CreateCollection(ctx context.Context, c *dialogue.Collection) error {
	const op = "sqlite.CreateCollection"
	if strings.TrimSpace(c.Title) == "" {
		return dialogue.Errorf(op, dialogue.KindInvalid, "a collection needs a title")
	}
	id := c.ID
	if id == "" {
		id = uuid.NewString()
	}
	created := c.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	var alias any
	if c.Alias != "" {
		alias = c.Alias
	}
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		checks := []struct{ col, what, val string }{{"id", "id", id}, {"title", "title", c.Title}}
		if c.Alias != "" {
			checks = append(checks, struct{ col, what, val string }{"alias", "alias", c.Alias})
		}
		for _, ch := range checks {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM collections WHERE "+ch.col+" = ?", ch.val).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return dialogue.Errorf(op, dialogue.KindConflict, "a collection with %s %q exists already", ch.what, ch.val)
			}
		}
		_, err := tx.ExecContext(ctx,
			"INSERT INTO collections (id, title, alias, description, created_at) VALUES (?, ?, ?, ?, ?)",
			id, c.Title, alias, c.Description, micros(created))
		if isUnique(err) {
			return dialogue.Errorf(op, dialogue.KindConflict, "collection %q: id, title or alias is taken", c.Title)
		}
		return err
	})
	if err != nil {
		return err
	}
	c.ID = id
	c.CreatedAt = fromMicros(micros(created))
	return nil
}

const collectionCols = "id, title, coalesce(alias, ''), description, created_at"

func scanCollection(sc interface{ Scan(...any) error }) (*dialogue.Collection, error) {
	var c dialogue.Collection
	var created int64
	if err := sc.Scan(&c.ID, &c.Title, &c.Alias, &c.Description, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// Collections lists every collection, oldest first.
func (db *DB) Collections(ctx context.Context) ([]*dialogue.Collection, error) {
	const op = "sqlite.Collections"
	rows, err := db.rQuery(ctx, "SELECT "+collectionCols+" FROM collections ORDER BY created_at, pk")
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var cs []*dialogue.Collection
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, dbErr(op, err)
		}
		cs = append(cs, c)
	}
	return cs, dbErr(op, rows.Err())
}

// FindCollection finds a collection by id, else by title, else by alias.
func (db *DB) FindCollection(ctx context.Context, idOrTitle string) (*dialogue.Collection, error) {
	const op = "sqlite.FindCollection"
	for _, col := range []string{"id", "title", "alias"} {
		c, err := scanCollection(db.rQueryRow(ctx, "SELECT "+collectionCols+" FROM collections WHERE "+col+" = ?", idOrTitle))
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, dbErr(op, err)
		}
	}
	return nil, dialogue.Errorf(op, dialogue.KindNotFound, "collection %q does not exist", idOrTitle)
}

// collectionPK returns the internal key of a collection, or KindNotFound.
// pk is collectionPK with a cache: a collection's pk never changes and
// collections are never deleted, so a pk once found is kept (per DB, as
// two stores may hold a collection of the same id). Looking it up was a
// sixth of a served inclusion proof's CPU.
func (db *DB) pk(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, op, id string) (int64, error) {
	if v, ok := db.pks.Load(id); ok {
		return v.(int64), nil
	}
	pk, err := collectionPK(ctx, q, op, id)
	if err == nil {
		db.pks.Store(id, pk)
	}
	return pk, err
}

func collectionPK(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, op, id string) (int64, error) {
	var pk int64
	err := q.QueryRowContext(ctx, "SELECT pk FROM collections WHERE id = ?", id).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, dialogue.Errorf(op, dialogue.KindNotFound, "collection %q does not exist", id)
	}
	if err != nil {
		return 0, dbErr(op, err)
	}
	return pk, nil
}

// SetGrant creates or replaces the grant for (g.CollectionID, g.Principal).
func (db *DB) SetGrant(ctx context.Context, g dialogue.Grant) error {
	const op = "sqlite.SetGrant"
	if g.Principal == "" {
		return dialogue.Errorf(op, dialogue.KindInvalid, "a grant needs a principal (a user name or \"*\")")
	}
	if g.Principal != "*" {
		if err := dialogue.ValidateUserName(g.Principal); err != nil {
			return dialogue.E(op, dialogue.KindInvalid, err)
		}
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		pk, err := db.pk(ctx, tx, op, g.CollectionID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO grants (collection_pk, principal, can_read, can_write) VALUES (?, ?, ?, ?)
			ON CONFLICT (collection_pk, principal) DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write`,
			pk, g.Principal, g.Read, g.Write)
		return err
	})
}

// Grants lists the grants of one collection, by principal.
func (db *DB) Grants(ctx context.Context, collectionID string) ([]dialogue.Grant, error) {
	const op = "sqlite.Grants"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	rows, err := db.rQuery(ctx, "SELECT principal, can_read, can_write FROM grants WHERE collection_pk = ? ORDER BY principal", pk)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var gs []dialogue.Grant
	for rows.Next() {
		g := dialogue.Grant{CollectionID: collectionID}
		if err := rows.Scan(&g.Principal, &g.Read, &g.Write); err != nil {
			return nil, dbErr(op, err)
		}
		gs = append(gs, g)
	}
	return gs, dbErr(op, rows.Err())
}

// AccessFor applies the grant rule (dialogue.GrantAccess) to u's grants
// in the collection: u's own grant, allow or deny, beats the "*" grant;
// writing also needs a role that may write. A nil u has no access.
func (db *DB) AccessFor(ctx context.Context, u *dialogue.User, collectionID string) (dialogue.Access, error) {
	gs, err := db.Grants(ctx, collectionID)
	if err != nil {
		return dialogue.Access{}, err
	}
	return dialogue.GrantAccess(u, gs), nil
}
