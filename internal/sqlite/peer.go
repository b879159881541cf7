package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/tlog"
)

// Peering: see migrations/00005_peers.sql for the tables.

var _ dialogue.PeerStore = (*DB)(nil)

// Limits on the text of a peer or channel, which may come from the peer.
const (
	maxTitle       = 200
	maxDescription = 4000
	maxDetail      = 1000
)

// checkText checks a one-line text field: valid UTF-8, no control
// characters, at most limit bytes; empty only when !required.
func checkText(field, s string, limit int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%s: is empty", field)
	case len(s) > limit:
		return fmt.Errorf("%s: %d bytes, over %d", field, len(s), limit)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s: is not valid UTF-8", field)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%s: has a control character", field)
	}
	return nil
}

// checkPeer checks the fields of a new peer.
func checkPeer(p *dialogue.Peer) error {
	if err := checkText("name", p.Name, maxTitle, true); err != nil {
		return err
	}
	u, err := url.Parse(p.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("url: %q is not https://HOST:PORT", p.URL)
	}
	if pin, err := base64.StdEncoding.DecodeString(p.TLSPin); err != nil || len(pin) != 32 {
		return fmt.Errorf("tls pin: %q is not the base64 of a SHA-256", p.TLSPin)
	}
	v, err := tlog.NewVerifier(p.LogKey)
	if err != nil {
		return fmt.Errorf("log key: not a signed-note verifier key")
	}
	if v.Name() != p.Name {
		return fmt.Errorf("log key: it is named %q, not the peer's name %q", v.Name(), p.Name)
	}
	if p.Territory != "" && (len(p.Territory) != 2 || strings.ToUpper(p.Territory) != p.Territory || !isLetters(p.Territory)) {
		return fmt.Errorf("territory: %q is not an ISO 3166-1 alpha-2 code", p.Territory)
	}
	return nil
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// AddPeer stores a new peer, its CreatedAt set to now when zero.
// KindInvalid names a field that breaks a rule: the name must be the name
// of the log key (a signed-note verifier key), the URL https://HOST:PORT,
// the pin the base64 of a SHA-256. KindConflict when the name, pin or log
// key is taken already.
func (db *DB) AddPeer(ctx context.Context, p *dialogue.Peer) error {
	const op = "sqlite.AddPeer"
	p.LogKey = strings.TrimSpace(p.LogKey)
	if err := checkPeer(p); err != nil {
		return dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("peer %q: %w", p.Name, err))
	}
	created := p.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		for _, c := range []struct{ col, what, val string }{{"name", "name", p.Name}, {"tls_pin", "TLS pin", p.TLSPin}, {"log_key", "log key", p.LogKey}} {
			var other string
			err := tx.QueryRowContext(ctx, "SELECT name FROM peers WHERE "+c.col+" = ?", c.val).Scan(&other)
			if err == nil {
				return dialogue.Errorf(op, dialogue.KindConflict, "peer %q: its %s is peer %q's already", p.Name, c.what, other)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO peers (name, url, tls_pin, log_key, territory, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			p.Name, p.URL, p.TLSPin, p.LogKey, p.Territory, micros(created))
		return err
	})
	if err != nil {
		return err
	}
	p.CreatedAt = fromMicros(micros(created))
	return nil
}

// peerCols are the columns scanPeer reads, from peersFrom: a peer with
// its open alarm, if any.
const (
	peerCols  = "p.name, p.url, p.tls_pin, p.log_key, p.territory, p.created_at, p.last_contact, coalesce(a.alarm, ''), coalesce(a.detail, ''), a.raised_at, coalesce(a.id, 0)"
	peersFrom = "peers p LEFT JOIN alarms a ON a.peer = p.name AND a.cleared_at IS NULL"
)

func scanPeer(sc interface{ Scan(...any) error }) (*dialogue.Peer, error) {
	var p dialogue.Peer
	var created int64
	var contact, alarmAt sql.NullInt64
	if err := sc.Scan(&p.Name, &p.URL, &p.TLSPin, &p.LogKey, &p.Territory, &created, &contact, &p.Alarm, &p.AlarmDetail, &alarmAt, &p.AlarmID); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(created)
	p.LastContact = nullMicros(contact)
	p.AlarmAt = nullMicros(alarmAt)
	return &p, nil
}

func nullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// Peers lists the peers by name.
func (db *DB) Peers(ctx context.Context) ([]*dialogue.Peer, error) {
	const op = "sqlite.Peers"
	rows, err := db.rQuery(ctx, "SELECT "+peerCols+" FROM "+peersFrom+" ORDER BY p.name")
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var ps []*dialogue.Peer
	for rows.Next() {
		p, err := scanPeer(rows)
		if err != nil {
			return nil, dbErr(op, err)
		}
		ps = append(ps, p)
	}
	return ps, dbErr(op, rows.Err())
}

// Peer finds a peer by name (KindNotFound).
func (db *DB) Peer(ctx context.Context, name string) (*dialogue.Peer, error) {
	const op = "sqlite.Peer"
	p, err := scanPeer(db.rQueryRow(ctx, "SELECT "+peerCols+" FROM "+peersFrom+" WHERE p.name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "peer %q does not exist", name)
	}
	if err != nil {
		return nil, dbErr(op, err)
	}
	return p, nil
}

// PeerByPin finds the peer whose TLS pin is pin (KindNotFound).
func (db *DB) PeerByPin(ctx context.Context, pin string) (*dialogue.Peer, error) {
	const op = "sqlite.PeerByPin"
	p, err := scanPeer(db.rQueryRow(ctx, "SELECT "+peerCols+" FROM "+peersFrom+" WHERE p.tls_pin = ?", pin))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "no peer has TLS pin %q", pin)
	}
	if err != nil {
		return nil, dbErr(op, err)
	}
	return p, nil
}

// peerExists fails with KindNotFound when there is no peer named name.
func peerExists(ctx context.Context, tx *sql.Tx, op, name string) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM peers WHERE name = ?", name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return dialogue.Errorf(op, dialogue.KindNotFound, "peer %q does not exist", name)
	}
	return nil
}

// SetPeerContact records a successful exchange with the peer at t, kept
// when later than the stored one. KindNotFound for no such peer.
func (db *DB) SetPeerContact(ctx context.Context, name string, t time.Time) error {
	const op = "sqlite.SetPeerContact"
	if t.IsZero() {
		return dialogue.Errorf(op, dialogue.KindInvalid, "contact time: is zero")
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE peers SET last_contact = max(coalesce(last_contact, ?1), ?1) WHERE name = ?2`, micros(t), name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return dialogue.Errorf(op, dialogue.KindNotFound, "peer %q does not exist", name)
		}
		return nil
	})
}

// RaiseAlarm raises an alarm about a peer at t. A peer has at most one
// open alarm (the partial unique index alarms_open): raising keeps one
// already open, with its detail and time (the first one counts). An alarm
// other than dialogue.AlarmFork and AlarmBadData is KindInvalid; no such
// peer KindNotFound.
func (db *DB) RaiseAlarm(ctx context.Context, name, alarm, detail string, t time.Time) error {
	const op = "sqlite.RaiseAlarm"
	switch alarm {
	case dialogue.AlarmFork, dialogue.AlarmBadData:
	default:
		return dialogue.Errorf(op, dialogue.KindInvalid, "alarm: %q is neither %s nor %s", alarm, dialogue.AlarmFork, dialogue.AlarmBadData)
	}
	if t.IsZero() {
		return dialogue.Errorf(op, dialogue.KindInvalid, "alarm time: is zero")
	}
	detail = clipText(detail, maxDetail)
	return db.write(ctx, op, func(tx *sql.Tx) error {
		if err := peerExists(ctx, tx, op, name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO alarms (peer, alarm, detail, raised_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (peer) WHERE cleared_at IS NULL DO NOTHING`, name, alarm, detail, micros(t))
		return err
	})
}

// clipText keeps text for people readable and bounded: invalid UTF-8 is
// replaced and the text cut at a rune boundary within max bytes.
func clipText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

const alarmCols = "id, peer, alarm, detail, raised_at, cleared_at, cleared_by, reason"

func scanAlarm(sc interface{ Scan(...any) error }) (*dialogue.Alarm, error) {
	var a dialogue.Alarm
	var raised int64
	var cleared sql.NullInt64
	if err := sc.Scan(&a.ID, &a.Peer, &a.Alarm, &a.Detail, &raised, &cleared, &a.ClearedBy, &a.Reason); err != nil {
		return nil, err
	}
	a.RaisedAt, a.ClearedAt = fromMicros(raised), nullMicros(cleared)
	return &a, nil
}

// Alarms lists the open alarms, or every alarm when all, by id.
func (db *DB) Alarms(ctx context.Context, all bool) ([]*dialogue.Alarm, error) {
	const op = "sqlite.Alarms"
	q := "SELECT " + alarmCols + " FROM alarms WHERE cleared_at IS NULL ORDER BY id"
	if all {
		q = "SELECT " + alarmCols + " FROM alarms ORDER BY id"
	}
	rows, err := db.rQuery(ctx, q)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	out := []*dialogue.Alarm{}
	for rows.Next() {
		a, err := scanAlarm(rows)
		if err != nil {
			return nil, dbErr(op, err)
		}
		out = append(out, a)
	}
	return out, dbErr(op, rows.Err())
}

// ClearAlarm clears an open alarm at t, recording who cleared it and why,
// and returns it cleared. An empty by or reason is KindInvalid; no such
// alarm KindNotFound; an alarm cleared already KindConflict (naming who
// cleared it).
func (db *DB) ClearAlarm(ctx context.Context, id int64, by, reason string, t time.Time) (*dialogue.Alarm, error) {
	const op = "sqlite.ClearAlarm"
	by, reason = strings.TrimSpace(by), strings.TrimSpace(reason)
	switch {
	case by == "":
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "cleared by: is empty")
	case reason == "":
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "reason: is empty")
	}
	by, reason = clipText(by, maxTitle), clipText(reason, maxDetail)
	if t.IsZero() {
		t = db.now()
	}
	var a *dialogue.Alarm
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		a, err = scanAlarm(tx.QueryRowContext(ctx, "SELECT "+alarmCols+" FROM alarms WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return dialogue.Errorf(op, dialogue.KindNotFound, "no alarm with id %d", id)
		}
		if err != nil {
			return err
		}
		if !a.ClearedAt.IsZero() {
			return dialogue.Errorf(op, dialogue.KindConflict, "alarm %d was cleared already, by %s at %s", id, a.ClearedBy, a.ClearedAt.UTC().Format(time.RFC3339))
		}
		_, err = tx.ExecContext(ctx, "UPDATE alarms SET cleared_at = ?, cleared_by = ?, reason = ? WHERE id = ?", micros(t), by, reason, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.ClearedAt, a.ClearedBy, a.Reason = fromMicros(micros(t)), by, reason
	return a, nil
}

// checkChannelID checks a channel id: a UUID in its canonical lower-case
// form, as CreateCollection makes them (a peer's offer names it).
func checkChannelID(id string) error {
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return fmt.Errorf("channel id: %q is not a UUID in lower-case canonical form", id)
	}
	return nil
}

func checkChannel(ch *dialogue.Channel) error {
	if err := checkChannelID(ch.ID); err != nil {
		return err
	}
	if err := checkText("title", ch.Title, maxTitle, true); err != nil {
		return err
	}
	if len(ch.Description) > maxDescription || !utf8.ValidString(ch.Description) {
		return fmt.Errorf("description: over %d bytes or not valid UTF-8", maxDescription)
	}
	if ch.Peer == "" {
		return fmt.Errorf("peer: is empty")
	}
	return nil
}

// ProposeChannel creates, in one transaction, a collection (id, title and
// description of ch; an empty ID gets a new UUID, written back) and the
// channel with the peer ch.Peer, in state ChannelProposed, not notified,
// and the collection's grant dialogue.DefaultChannelGrant.
// The fields of ch are written back as stored. KindNotFound for no such
// peer; KindConflict for a collection id or title taken already;
// KindInvalid for an id that is not a UUID, an empty title.
func (db *DB) ProposeChannel(ctx context.Context, ch *dialogue.Channel) error {
	const op = "sqlite.ProposeChannel"
	c := *ch
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = db.now()
	}
	c.CreatedAt = fromMicros(micros(c.CreatedAt))
	if err := checkChannel(&c); err != nil {
		return dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("channel %q: %w", c.Title, err))
	}
	c.State, c.Incoming, c.Notified, c.AcceptedAt = dialogue.ChannelProposed, false, false, time.Time{}
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		if err := peerExists(ctx, tx, op, c.Peer); err != nil {
			return err
		}
		if err := channelFree(ctx, tx, op, c.ID); err != nil {
			return err
		}
		pk, err := createCollection(ctx, tx, op, &dialogue.Collection{ID: c.ID, Title: c.Title, Description: c.Description, CreatedAt: c.CreatedAt})
		if err != nil {
			return err
		}
		if err := defaultChannelGrant(ctx, tx, pk); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO channels (id, collection_pk, title, description, peer, state, incoming, notified, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)`, c.ID, pk, c.Title, c.Description, c.Peer, string(c.State), micros(c.CreatedAt))
		return err
	})
	if err != nil {
		return err
	}
	*ch = c
	return nil
}

// channelFree fails with KindConflict when a channel or a collection has
// the id already.
func channelFree(ctx context.Context, tx *sql.Tx, op, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM channels WHERE id = ?1) + (SELECT count(*) FROM collections WHERE id = ?1)`, id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return dialogue.Errorf(op, dialogue.KindConflict, "a channel or collection with id %s exists already", id)
	}
	return nil
}

// defaultChannelGrant gives a channel's new collection, inside tx, the
// grant every channel starts with (dialogue.DefaultChannelGrant), in the
// transaction that creates it: a channel is never there without it.
func defaultChannelGrant(ctx context.Context, tx *sql.Tx, pk int64) error {
	g := dialogue.DefaultChannelGrant
	_, err := tx.ExecContext(ctx, `INSERT INTO grants (collection_pk, principal, can_read, can_write) VALUES (?, ?, ?, ?)
		ON CONFLICT (collection_pk, principal) DO NOTHING`, pk, g.Principal, g.Read, g.Write)
	return err
}

// createCollection inserts a collection inside tx and returns its pk:
// KindConflict when its id or title is taken.
func createCollection(ctx context.Context, tx *sql.Tx, op string, c *dialogue.Collection) (int64, error) {
	for _, ch := range []struct{ col, what, val string }{{"id", "id", c.ID}, {"title", "title", c.Title}} {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM collections WHERE "+ch.col+" = ?", ch.val).Scan(&n); err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, dialogue.Errorf(op, dialogue.KindConflict, "a collection with %s %q exists already", ch.what, ch.val)
		}
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO collections (id, title, description, created_at) VALUES (?, ?, ?, ?)",
		c.ID, c.Title, c.Description, micros(c.CreatedAt))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// OfferChannel records a channel the peer ch.Peer proposed: state
// ChannelOffered, Incoming, no collection yet. Offering again a channel
// that exists with the same peer changes nothing (ch is then filled from
// the stored channel); with another peer, or an id that is a collection
// here already, it is KindConflict. When the peer has maxPending channels
// offered here already (0: no limit), nothing is stored: KindConflict
// with dialogue.ErrTooManyProposals in its chain. KindNotFound for no
// such peer.
func (db *DB) OfferChannel(ctx context.Context, ch *dialogue.Channel, maxPending int) error {
	const op = "sqlite.OfferChannel"
	c := *ch
	if c.CreatedAt.IsZero() {
		c.CreatedAt = db.now()
	}
	c.CreatedAt = fromMicros(micros(c.CreatedAt))
	if err := checkChannel(&c); err != nil {
		return dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("channel %q: %w", c.Title, err))
	}
	c.State, c.Incoming, c.Notified, c.AcceptedAt = dialogue.ChannelOffered, true, false, time.Time{}
	var stored *dialogue.Channel
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		if err := peerExists(ctx, tx, op, c.Peer); err != nil {
			return err
		}
		old, err := scanChannel(tx.QueryRowContext(ctx, "SELECT "+channelCols+" FROM channels ch LEFT JOIN collections c ON c.pk = ch.collection_pk WHERE ch.id = ?", c.ID))
		if err == nil {
			if old.Peer != c.Peer {
				return dialogue.Errorf(op, dialogue.KindConflict, "channel %s is shared with peer %q, not %q", c.ID, old.Peer, c.Peer)
			}
			stored = old
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := channelFree(ctx, tx, op, c.ID); err != nil {
			return err
		}
		if maxPending > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM channels WHERE peer = ? AND state = 'offered'", c.Peer).Scan(&n); err != nil {
				return err
			}
			if n >= maxPending {
				return dialogue.Errorf(op, dialogue.KindConflict, "peer %q has %d channel proposals waiting here, the most this node keeps: %w", c.Peer, n, dialogue.ErrTooManyProposals)
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO channels (id, collection_pk, title, description, peer, state, incoming, notified, created_at)
			VALUES (?, NULL, ?, ?, ?, ?, 1, 0, ?)`, c.ID, c.Title, c.Description, c.Peer, string(c.State), micros(c.CreatedAt))
		return err
	})
	if err != nil {
		return err
	}
	if stored != nil {
		*ch = *stored
	} else {
		*ch = c
	}
	return nil
}

// channelCols are the columns scanChannel reads, from channels ch LEFT
// JOIN collections c.
const channelCols = "ch.id, ch.title, ch.description, ch.peer, ch.state, ch.incoming, ch.notified, ch.created_at, ch.accepted_at"

func scanChannel(sc interface{ Scan(...any) error }) (*dialogue.Channel, error) {
	var ch dialogue.Channel
	var state string
	var created int64
	var accepted sql.NullInt64
	if err := sc.Scan(&ch.ID, &ch.Title, &ch.Description, &ch.Peer, &state, &ch.Incoming, &ch.Notified, &created, &accepted); err != nil {
		return nil, err
	}
	ch.State = dialogue.ChannelState(state)
	ch.CreatedAt = fromMicros(created)
	ch.AcceptedAt = nullMicros(accepted)
	return &ch, nil
}

// txChannel reads a channel by id inside tx (KindNotFound).
func txChannel(ctx context.Context, tx *sql.Tx, op, id string) (*dialogue.Channel, error) {
	ch, err := scanChannel(tx.QueryRowContext(ctx, "SELECT "+channelCols+" FROM channels ch WHERE ch.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "channel %q does not exist", id)
	}
	return ch, err
}

// AcceptChannel accepts an offered channel: it creates the collection
// with the channel's id, titled title (the proposed title when empty),
// and makes the channel active at t, not notified; the collection gets
// dialogue.DefaultChannelGrant. KindNotFound for no
// such channel; KindConflict when it is not offered, or the title is a
// collection's already.
func (db *DB) AcceptChannel(ctx context.Context, id, title string, t time.Time) (*dialogue.Channel, error) {
	const op = "sqlite.AcceptChannel"
	if title != "" {
		if err := checkText("title", title, maxTitle, true); err != nil {
			return nil, dialogue.E(op, dialogue.KindInvalid, err)
		}
	}
	if t.IsZero() {
		t = db.now()
	}
	var ch *dialogue.Channel
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		if ch, err = txChannel(ctx, tx, op, id); err != nil {
			return err
		}
		if ch.State != dialogue.ChannelOffered {
			return dialogue.Errorf(op, dialogue.KindConflict, "channel %s is %s, not offered: there is nothing to accept", id, ch.State)
		}
		if title == "" {
			title = ch.Title
		}
		pk, err := createCollection(ctx, tx, op, &dialogue.Collection{ID: ch.ID, Title: title, Description: ch.Description, CreatedAt: t})
		if err != nil {
			return err
		}
		if err := defaultChannelGrant(ctx, tx, pk); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE channels SET collection_pk = ?, state = 'active', notified = 0, accepted_at = ? WHERE id = ?`, pk, micros(t), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	ch.State, ch.Notified, ch.AcceptedAt = dialogue.ChannelActive, false, fromMicros(micros(t))
	return ch, nil
}

// ActivateChannel records that the peer accepted, at t, a channel this
// node proposed: the channel becomes active, and notified, since the peer
// is the one that told. A channel active already is left as it is.
// KindNotFound for no such channel; KindConflict when peer is not the
// channel's peer, or the channel is one the peer offered (only this node
// accepts those).
func (db *DB) ActivateChannel(ctx context.Context, id, peer string, t time.Time) error {
	const op = "sqlite.ActivateChannel"
	if t.IsZero() {
		t = db.now()
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		ch, err := txChannel(ctx, tx, op, id)
		if err != nil {
			return err
		}
		switch {
		case ch.Peer != peer:
			return dialogue.Errorf(op, dialogue.KindConflict, "channel %s is shared with peer %q, not %q", id, ch.Peer, peer)
		case ch.State == dialogue.ChannelActive:
			return nil
		case ch.State == dialogue.ChannelOffered:
			return dialogue.Errorf(op, dialogue.KindConflict, "channel %s was offered by peer %q: only this node can accept it", id, peer)
		}
		_, err = tx.ExecContext(ctx, `UPDATE channels SET state = 'active', notified = 1, accepted_at = ? WHERE id = ? AND state = 'proposed'`, micros(t), id)
		return err
	})
}

// DeclineChannel makes a channel declined. With peer "", this node
// declines a channel the peer offered: it has no collection, and is not
// notified, so that the peer is told. With peer set, that peer declined a
// channel this node proposed: its collection stays (nothing flows), and
// it is notified, since the peer is the one that told. KindNotFound for
// no such channel; KindConflict for another state or another peer; a
// declined channel is left as it is.
func (db *DB) DeclineChannel(ctx context.Context, id, peer string) (*dialogue.Channel, error) {
	const op = "sqlite.DeclineChannel"
	var ch *dialogue.Channel
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		if ch, err = txChannel(ctx, tx, op, id); err != nil {
			return err
		}
		switch {
		case peer != "" && ch.Peer != peer:
			return dialogue.Errorf(op, dialogue.KindConflict, "channel %s is shared with peer %q, not %q", id, ch.Peer, peer)
		case ch.State == dialogue.ChannelDeclined:
			return nil
		case peer == "" && ch.State != dialogue.ChannelOffered:
			return dialogue.Errorf(op, dialogue.KindConflict, "channel %s is %s, not offered: only a channel a peer proposed and nobody accepted can be declined", id, ch.State)
		case peer != "" && ch.State != dialogue.ChannelProposed:
			return dialogue.Errorf(op, dialogue.KindConflict, "channel %s is %s here, not proposed: peer %q cannot decline it", id, ch.State, peer)
		}
		ch.State, ch.Notified = dialogue.ChannelDeclined, peer != ""
		_, err = tx.ExecContext(ctx, `UPDATE channels SET state = 'declined', notified = ? WHERE id = ?`, ch.Notified, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// SetChannelNotified records that the peer was told the channel's state
// as it was: only when the channel is still in state. KindNotFound for no
// such channel.
func (db *DB) SetChannelNotified(ctx context.Context, id string, state dialogue.ChannelState) error {
	const op = "sqlite.SetChannelNotified"
	return db.write(ctx, op, func(tx *sql.Tx) error {
		if _, err := txChannel(ctx, tx, op, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE channels SET notified = 1 WHERE id = ? AND state = ?`, id, string(state))
		return err
	})
}

// Channel finds a channel by id, else by its collection's title, else (a
// channel only offered, with no collection yet) by its proposed title when
// one channel alone has it. KindNotFound when none.
func (db *DB) Channel(ctx context.Context, idOrTitle string) (*dialogue.Channel, error) {
	const op = "sqlite.Channel"
	for _, q := range []string{
		"SELECT " + channelCols + " FROM channels ch WHERE ch.id = ?",
		"SELECT " + channelCols + " FROM channels ch JOIN collections c ON c.pk = ch.collection_pk WHERE c.title = ?",
	} {
		ch, err := scanChannel(db.rQueryRow(ctx, q, idOrTitle))
		if err == nil {
			return ch, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, dbErr(op, err)
		}
	}
	chs, err := db.channels(ctx, op, "WHERE ch.collection_pk IS NULL AND ch.title = ?", idOrTitle)
	if err != nil {
		return nil, err
	}
	if len(chs) == 1 {
		return chs[0], nil
	}
	return nil, dialogue.Errorf(op, dialogue.KindNotFound, "channel %q does not exist", idOrTitle)
}

// ChannelByID finds a channel by its id alone (KindNotFound).
func (db *DB) ChannelByID(ctx context.Context, id string) (*dialogue.Channel, error) {
	const op = "sqlite.ChannelByID"
	ch, err := scanChannel(db.rQueryRow(ctx, "SELECT "+channelCols+" FROM channels ch WHERE ch.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "channel %q does not exist", id)
	}
	if err != nil {
		return nil, dbErr(op, err)
	}
	return ch, nil
}

// Channels lists every channel, oldest first.
func (db *DB) Channels(ctx context.Context) ([]*dialogue.Channel, error) {
	return db.channels(ctx, "sqlite.Channels", "")
}

func (db *DB) channels(ctx context.Context, op, where string, args ...any) ([]*dialogue.Channel, error) {
	rows, err := db.rQuery(ctx, "SELECT "+channelCols+" FROM channels ch "+where+" ORDER BY ch.created_at, ch.rowid", args...)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var out []*dialogue.Channel
	for rows.Next() {
		ch, err := scanChannel(rows)
		if err != nil {
			return nil, dbErr(op, err)
		}
		out = append(out, ch)
	}
	return out, dbErr(op, rows.Err())
}

// peerLog reads one column of peer_logs for (peer, collection): 0 when no
// row; KindNotFound for no such peer or collection.
func (db *DB) peerLog(ctx context.Context, op, col, peer, collectionID string) (int64, error) {
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return 0, err
	}
	var n sql.NullInt64
	err = db.rQueryRow(ctx, "SELECT l."+col+" FROM peers p LEFT JOIN peer_logs l ON l.peer = p.name AND l.collection_pk = ? WHERE p.name = ?", pk, peer).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, dialogue.Errorf(op, dialogue.KindNotFound, "peer %q does not exist", peer)
	}
	if err != nil {
		return 0, dbErr(op, err)
	}
	return n.Int64, nil
}

// Cosigned returns the size of this node's log of a collection that the
// peer last cosigned (0: none). KindNotFound for no such peer or
// collection.
func (db *DB) Cosigned(ctx context.Context, peer, collectionID string) (int64, error) {
	return db.peerLog(ctx, "sqlite.Cosigned", "cosigned", peer, collectionID)
}

// SetCosigned records that the peer cosigned size, kept when larger than
// the stored one. KindNotFound for no such peer or collection.
func (db *DB) SetCosigned(ctx context.Context, peer, collectionID string, size int64) error {
	const op = "sqlite.SetCosigned"
	if size < 0 {
		return dialogue.Errorf(op, dialogue.KindInvalid, "cosigned size %d is negative", size)
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		pk, err := db.pk(ctx, tx, op, collectionID)
		if err != nil {
			return err
		}
		if err := peerExists(ctx, tx, op, peer); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO peer_logs (peer, collection_pk, cosigned) VALUES (?, ?, ?)
			ON CONFLICT (peer, collection_pk) DO UPDATE SET cosigned = max(cosigned, excluded.cosigned)`, peer, pk, size)
		return err
	})
}

// Applied returns how many entries of the peer's log of a collection are
// applied here (0: none). KindNotFound for no such peer or collection.
func (db *DB) Applied(ctx context.Context, peer, collectionID string) (int64, error) {
	return db.peerLog(ctx, "sqlite.Applied", "applied", peer, collectionID)
}

// ApplyReceived applies a batch of the peer's entries in one write
// transaction. It checks that the collection is an active channel shared
// with b.Peer (KindNotFound when it is no channel; KindForbidden for
// another peer's channel; KindConflict when not active) and that the
// applied size is b.From (KindConflict otherwise: the batch was applied
// already, or one is missing; nothing is written).
//
// The objects are added as AddObjects adds them (DateAdded, superseded
// versions), with the peer as their origin, and never entered in this
// node's own log. An (id, version) present already, or earlier in the
// batch, with the same content is Unchanged; with other content it is
// skipped and listed in Conflicts, and the rest is still applied. An
// object that breaks the store's rules (no id, type or JSON) fails the
// whole batch with KindInvalid: the peer signed data it should not have.
// The blobs not fetched already are recorded as wanted from the peer, and
// the applied size is set to b.To.
func (db *DB) ApplyReceived(ctx context.Context, b *dialogue.ApplyBatch) (*dialogue.ApplyResult, error) {
	const op = "sqlite.ApplyReceived"
	switch {
	case b.Peer == "":
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "batch: no peer")
	case b.From < 0 || b.To < b.From:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "batch: entries [%d, %d) are not a range of indexes", b.From, b.To)
	}
	for _, r := range b.Blobs {
		if r.Size < 0 {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "batch: blob %x has a negative size %d", r.SHA256, r.Size)
		}
	}
	ba := prepareBatch(op, b.Objects, false)
	for _, r := range ba.results {
		if r.Status == dialogue.Rejected {
			return nil, dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("batch of peer %q, entries [%d, %d): %w", b.Peer, b.From, b.To, r.Err))
		}
	}
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		pk, err := db.pk(ctx, tx, op, b.CollectionID)
		if err != nil {
			return err
		}
		ch, err := txChannel(ctx, tx, op, b.CollectionID)
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			return dialogue.Errorf(op, dialogue.KindNotFound, "collection %s is not a channel", b.CollectionID)
		}
		if err != nil {
			return err
		}
		if ch.Peer != b.Peer {
			return dialogue.Errorf(op, dialogue.KindForbidden, "channel %s is shared with peer %q, not %q", ch.ID, ch.Peer, b.Peer)
		}
		if ch.State != dialogue.ChannelActive {
			return dialogue.Errorf(op, dialogue.KindConflict, "channel %s is %s, not active: nothing flows yet", ch.ID, ch.State)
		}
		var applied int64
		err = tx.QueryRowContext(ctx, `SELECT applied FROM peer_logs WHERE peer = ? AND collection_pk = ?`, b.Peer, pk).Scan(&applied)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if applied != b.From {
			return dialogue.Errorf(op, dialogue.KindConflict, "%d entries of peer %q's log of channel %s are applied, not %d", applied, b.Peer, ch.ID, b.From)
		}
		if _, err := db.addBatch(ctx, tx, pk, ba, b.Peer); err != nil {
			return err
		}
		if len(b.Indexes) == len(b.Objects) {
			for i, o := range b.Objects {
				if !stix.IsParleyType(o.Type) {
					continue
				}
				if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO received_index (collection_pk, id, version, peer, idx) VALUES (?, ?, ?, ?, ?)`,
					pk, o.ID, ba.versions[i], b.Peer, b.Indexes[i]); err != nil {
					return err
				}
			}
		}
		now := micros(db.now())
		for _, r := range b.Blobs {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO wanted_blobs (sha256, peer, size, wanted_at)
				SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM wanted_blobs WHERE sha256 = ?1 AND fetched_at IS NOT NULL)`,
				r.SHA256[:], b.Peer, r.Size, now); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO peer_logs (peer, collection_pk, applied) VALUES (?, ?, ?)
			ON CONFLICT (peer, collection_pk) DO UPDATE SET applied = excluded.applied`, b.Peer, pk, b.To)
		return err
	})
	if err != nil {
		return nil, err
	}
	ba.committed(db)
	res := &dialogue.ApplyResult{}
	for _, r := range ba.results {
		switch r.Status {
		case dialogue.Added:
			res.Added++
		case dialogue.Unchanged:
			res.Unchanged++
		default:
			res.Conflicts = append(res.Conflicts, r)
		}
	}
	return res, nil
}

// WantedBlobs lists the blobs named by a peer's entries that are not
// fetched yet, oldest wanted first.
func (db *DB) WantedBlobs(ctx context.Context, peer string) ([]dialogue.BlobRef, error) {
	const op = "sqlite.WantedBlobs"
	rows, err := db.rQuery(ctx, `SELECT sha256, size FROM wanted_blobs WHERE peer = ? AND fetched_at IS NULL ORDER BY wanted_at, sha256`, peer)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var out []dialogue.BlobRef
	for rows.Next() {
		var sum []byte
		var r dialogue.BlobRef
		if err := rows.Scan(&sum, &r.Size); err != nil {
			return nil, dbErr(op, err)
		}
		if len(sum) != len(r.SHA256) {
			return nil, dbErr(op, fmt.Errorf("wanted blob of %d bytes of hash", len(sum)))
		}
		r.SHA256 = [32]byte(sum)
		out = append(out, r)
	}
	return out, dbErr(op, rows.Err())
}

// BlobFetched records that a wanted blob is kept now (from whichever peer
// named it). KindNotFound when no peer's entries named it.
func (db *DB) BlobFetched(ctx context.Context, sum [32]byte) error {
	const op = "sqlite.BlobFetched"
	return db.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE wanted_blobs SET fetched_at = coalesce(fetched_at, ?) WHERE sha256 = ?`, micros(db.now()), sum[:])
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return dialogue.Errorf(op, dialogue.KindNotFound, "no peer's entries name blob %x", sum)
		}
		return nil
	})
}

// LargeObject returns the bytes of this node's object whose log entry in
// the collection names sha256: an object over tlog.MaxEntrySize bytes,
// found through the partial index objects_large. KindNotFound when none
// (a received object is in its peer's log, not this node's).
func (db *DB) LargeObject(ctx context.Context, collectionID string, sum [32]byte) ([]byte, error) {
	const op = "sqlite.LargeObject"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	var raw []byte
	// The large term is the index's own condition, so that the planner
	// may use it (migrations/00009).
	err = db.rQueryRow(ctx, `SELECT raw FROM objects INDEXED BY objects_large
		WHERE collection_pk = ? AND sha256 = ? AND large = 1 AND origin IS NULL LIMIT 1`, pk, sum[:]).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "collection %s holds no object over %d bytes of SHA-256 %x", collectionID, tlog.MaxEntrySize, sum)
	}
	if err != nil {
		return nil, dbErr(op, err)
	}
	return raw, nil
}

// Origin returns the peer an object version came from: "" for this
// node's own, KindNotFound for no such version. version is the object's
// Version(), or for an unversioned object either the zero time or its
// TAXII version (its DateAdded).
func (db *DB) Origin(ctx context.Context, collectionID, id string, version time.Time) (string, error) {
	const op = "sqlite.Origin"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return "", err
	}
	notFound := dialogue.Errorf(op, dialogue.KindNotFound, "collection %s has no version %s of object %s", collectionID, version.Format(time.RFC3339Nano), id)
	v := ""
	if !version.IsZero() {
		if !stampable(version) {
			return "", notFound
		}
		v = stamp(version)
	}
	var origin sql.NullString
	err = db.rQueryRow(ctx, `SELECT origin FROM objects WHERE collection_pk = ?1 AND id_hash = ?2 AND id = ?3
		AND (version = ?4 OR (version = '' AND (?4 = '' OR date_added = ?5))) LIMIT 1`,
		pk, idHash(id), id, v, exactMicros(version)).Scan(&origin)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound
	}
	if err != nil {
		return "", dbErr(op, err)
	}
	return origin.String, nil
}

// ReceivedIndex returns the index, in the sending peer's log, of a
// dialogue object version received from that peer (ok false when none is
// recorded: this node's own, or not a dialogue object).
func (db *DB) ReceivedIndex(ctx context.Context, collectionID, id string, version time.Time) (peer string, idx int64, ok bool, err error) {
	const op = "sqlite.ReceivedIndex"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return "", 0, false, err
	}
	v := ""
	if !version.IsZero() {
		if !stampable(version) {
			return "", 0, false, nil
		}
		v = stamp(version)
	}
	err = db.rQueryRow(ctx, `SELECT peer, idx FROM received_index WHERE collection_pk = ? AND id = ? AND version = ?`, pk, id, v).Scan(&peer, &idx)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, dbErr(op, err)
	}
	return peer, idx, true, nil
}
