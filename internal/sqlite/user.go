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

// userColumns are the columns scanUser reads, in its order.
const userColumns = "name, role, created_at, disabled_at, generation"

func scanUser(sc interface{ Scan(...any) error }, more ...any) (*dialogue.User, error) {
	var u dialogue.User
	var role string
	var created int64
	var disabled sql.NullInt64
	if err := sc.Scan(append([]any{&u.Name, &role, &created, &disabled, &u.Generation}, more...)...); err != nil {
		return nil, err
	}
	u.Role = dialogue.Role(role)
	u.CreatedAt = fromMicros(created)
	u.DisabledAt = nullMicros(disabled)
	return &u, nil
}

// User finds a user by name.
func (db *DB) User(ctx context.Context, name string) (*dialogue.User, error) {
	const op = "sqlite.User"
	u, err := scanUser(db.rQueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE name = ?", name))
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
	rows, err := db.rQuery(ctx, "SELECT "+userColumns+" FROM users ORDER BY name")
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
	u, err := scanUser(db.rQueryRow(ctx, `SELECT u.name, u.role, u.created_at, u.disabled_at, u.generation, t.last_used
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

// SetPassword replaces a user's password hash and moves its generation on,
// so that remembered checks of the old password end. KindNotFound for no
// such user; KindInvalid for an empty hash.
func (db *DB) SetPassword(ctx context.Context, name, passwordHash string) error {
	const op = "sqlite.SetPassword"
	if passwordHash == "" {
		return dialogue.Errorf(op, dialogue.KindInvalid, "user %s: no password hash", name)
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		return userChanged(op, name)(tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, generation = generation + 1 WHERE name = ?", passwordHash, name))
	})
}

// SetUserDisabled disables a user at t, or enables it again; the
// generation moves on only when that changes anything (disabling twice
// keeps the first time). KindNotFound for no such user.
func (db *DB) SetUserDisabled(ctx context.Context, name string, disabled bool, t time.Time) error {
	const op = "sqlite.SetUserDisabled"
	return db.write(ctx, op, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, op, name); err != nil {
			return err
		}
		var err error
		if disabled {
			_, err = tx.ExecContext(ctx, "UPDATE users SET disabled_at = ?, generation = generation + 1 WHERE name = ? AND disabled_at IS NULL", micros(t), name)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE users SET disabled_at = NULL, generation = generation + 1 WHERE name = ? AND disabled_at IS NOT NULL", name)
		}
		return err
	})
}

// DeleteUser removes a user, its tokens (by the foreign key's cascade) and
// its grants, in one transaction. KindNotFound for no such user.
func (db *DB) DeleteUser(ctx context.Context, name string) error {
	const op = "sqlite.DeleteUser"
	return db.write(ctx, op, func(tx *sql.Tx) error {
		if err := userChanged(op, name)(tx.ExecContext(ctx, "DELETE FROM users WHERE name = ?", name)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM grants WHERE principal = ?", name)
		return err
	})
}

// userChanged turns the result of an UPDATE or DELETE of one user into
// KindNotFound when no row matched.
func userChanged(op, name string) func(sql.Result, error) error {
	return func(res sql.Result, err error) error {
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return dialogue.Errorf(op, dialogue.KindNotFound, "user %q does not exist", name)
		}
		return nil
	}
}

func userExists(ctx context.Context, tx *sql.Tx, op, name string) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE name = ?", name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return dialogue.Errorf(op, dialogue.KindNotFound, "user %q does not exist", name)
	}
	return nil
}

// Tokens lists the tokens of a user, or of every user when user is "", by
// id: never the hashes. KindNotFound for no such user.
func (db *DB) Tokens(ctx context.Context, user string) ([]*dialogue.Token, error) {
	const op = "sqlite.Tokens"
	q, args := "SELECT id, user, label, created_at, last_used FROM tokens ORDER BY id", []any{}
	if user != "" {
		if _, err := db.User(ctx, user); err != nil {
			return nil, dialogue.E(op, dialogue.KindOf(err), err)
		}
		q, args = "SELECT id, user, label, created_at, last_used FROM tokens WHERE user = ? ORDER BY id", []any{user}
	}
	rows, err := db.rQuery(ctx, q, args...)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	ts := []*dialogue.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, dbErr(op, err)
		}
		ts = append(ts, t)
	}
	return ts, dbErr(op, rows.Err())
}

func scanToken(sc interface{ Scan(...any) error }) (*dialogue.Token, error) {
	var t dialogue.Token
	var created int64
	var used sql.NullInt64
	if err := sc.Scan(&t.ID, &t.User, &t.Label, &created, &used); err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsed = fromMicros(created), nullMicros(used)
	return &t, nil
}

// RevokeToken deletes the token with the id and returns it as it was.
// KindNotFound for no such token.
func (db *DB) RevokeToken(ctx context.Context, id int64) (*dialogue.Token, error) {
	const op = "sqlite.RevokeToken"
	var tok *dialogue.Token
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		tok, err = scanToken(tx.QueryRowContext(ctx, "SELECT id, user, label, created_at, last_used FROM tokens WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return dialogue.Errorf(op, dialogue.KindNotFound, "no token with id %d", id)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM tokens WHERE id = ?", id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return tok, nil
}
