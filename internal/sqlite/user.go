package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// CreateUser adds a user with the hash of its password (see
// dialogue.HashPassword). KindConflict if the name is taken; KindInvalid
// for a bad name or role. A zero u.CreatedAt is set to now.
func (db *DB) CreateUser(ctx context.Context, u *dialogue.User, passwordHash string) error {
	const op = "sqlite.CreateUser"
	if err := dialogue.ValidateUserName(u.Name); err != nil {
		return dialogue.E(op, dialogue.KindInvalid, err)
	}
	if _, err := dialogue.ParseRole(string(u.Role)); err != nil {
		return dialogue.E(op, dialogue.KindInvalid, err)
	}
	if passwordHash == "" {
		return dialogue.Errorf(op, dialogue.KindInvalid, "user %s: no password hash", u.Name)
	}
	created := u.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
			u.Name, string(u.Role), passwordHash, micros(created))
		if isUnique(err) {
			return dialogue.Errorf(op, dialogue.KindConflict, "user %s exists already", u.Name)
		}
		return err
	})
	if err != nil {
		return err
	}
	u.CreatedAt = fromMicros(micros(created))
	return nil
}

func scanUser(sc interface{ Scan(...any) error }, more ...any) (*dialogue.User, error) {
	var u dialogue.User
	var role string
	var created int64
	if err := sc.Scan(append([]any{&u.Name, &role, &created}, more...)...); err != nil {
		return nil, err
	}
	u.Role = dialogue.Role(role)
	u.CreatedAt = fromMicros(created)
	return &u, nil
}

// User finds a user by name.
func (db *DB) User(ctx context.Context, name string) (*dialogue.User, error) {
	const op = "sqlite.User"
	u, err := scanUser(db.rQueryRow(ctx, "SELECT name, role, created_at FROM users WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "user %q does not exist", name)
	}
	if err != nil {
		return nil, dbErr(op, err)
	}
	return u, nil
}

// Users lists every user by name.
func (db *DB) Users(ctx context.Context) ([]*dialogue.User, error) {
	const op = "sqlite.Users"
	rows, err := db.rQuery(ctx, "SELECT name, role, created_at FROM users ORDER BY name")
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var us []*dialogue.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, dbErr(op, err)
		}
		us = append(us, u)
	}
	return us, dbErr(op, rows.Err())
}

// PasswordHash returns the stored hash of a user's password.
func (db *DB) PasswordHash(ctx context.Context, name string) (string, error) {
	const op = "sqlite.PasswordHash"
	var h string
	err := db.rQueryRow(ctx, "SELECT password_hash FROM users WHERE name = ?", name).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", dialogue.Errorf(op, dialogue.KindNotFound, "user %q does not exist", name)
	}
	return h, dbErr(op, err)
}

// CreateToken stores a token hash (see dialogue.HashToken) for a user,
// with a label for the user's own listing. KindNotFound if there is no
// such user; KindConflict if the hash is stored already.
func (db *DB) CreateToken(ctx context.Context, user, tokenHash, label string) error {
	const op = "sqlite.CreateToken"
	if tokenHash == "" {
		return dialogue.Errorf(op, dialogue.KindInvalid, "no token hash")
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE name = ?", user).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return dialogue.Errorf(op, dialogue.KindNotFound, "user %q does not exist", user)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO tokens (hash, user, label, created_at) VALUES (?, ?, ?, ?)",
			tokenHash, user, label, micros(db.now()))
		if isUnique(err) {
			return dialogue.Errorf(op, dialogue.KindConflict, "that token is stored already")
		}
		return err
	})
}

// lastUsedGranularity is how stale a token's recorded last use may get:
// UserByToken writes (a commit, so an fsync) at most once per token per
// period, not on every request.
const lastUsedGranularity = time.Minute

// UserByToken finds the user a token hash belongs to and records the
// token's last use (to the minute). KindNotFound for an unknown hash.
func (db *DB) UserByToken(ctx context.Context, tokenHash string) (*dialogue.User, error) {
	const op = "sqlite.UserByToken"
	var lastUsed sql.NullInt64
	u, err := scanUser(db.rQueryRow(ctx, `SELECT u.name, u.role, u.created_at, t.last_used
		FROM tokens t JOIN users u ON u.name = t.user WHERE t.hash = ?`, tokenHash), &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "no such token")
	}
	if err != nil {
		return nil, dbErr(op, err)
	}
	now := db.now()
	if lastUsed.Valid && now.Sub(fromMicros(lastUsed.Int64)) < lastUsedGranularity {
		return u, nil
	}
	err = db.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE tokens SET last_used = ? WHERE hash = ? AND coalesce(last_used, 0) < ?",
			micros(now), tokenHash, micros(now))
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
