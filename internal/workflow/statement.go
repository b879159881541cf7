package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Statements (docs/design/workflow.md, parley-statement and
// parley-signature): a text, possibly in several languages, that one party
// proposes and both sign by its hash. A statement is agreed when both
// parties' signatures name its text_sha256. A statement never changes:
// its first version is the one that counts (a later version of the same
// id is ignored), so a changed text is a new statement with a new hash
// and needs new signatures.

// StatementKind is what a statement is for.
type StatementKind string

// The kinds of statement.
const (
	StatementJoint     StatementKind = "joint-statement"
	StatementMinutes   StatementKind = "minutes"
	StatementOffLimits StatementKind = "off-limits"
)

// ParseStatementKind checks a kind of statement.
func ParseStatementKind(s string) (StatementKind, error) {
	switch k := StatementKind(s); k {
	case StatementJoint, StatementMinutes, StatementOffLimits:
		return k, nil
	}
	return "", dialogue.Errorf("workflow.ParseStatementKind", dialogue.KindInvalid, "statement kind %q: want joint-statement, minutes or off-limits", s)
}

// The states of a statement.
const (
	StatementProposed = "proposed" // no signature that counts yet
	StatementSigned   = "signed"   // one party signed its hash
	StatementAgreed   = "agreed"   // both parties signed its hash
	StatementInvalid  = "invalid"  // its text_sha256 is not its texts' hash: it can never be agreed
)

// MaxStatementText caps one language's text of a statement, in bytes.
const MaxStatementText = 256 << 10

// languageTag is a BCP 47 language tag as statements key their texts:
// a 2- or 3-letter primary language, then subtags.
var languageTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$`)

// TextSHA256 returns the hex SHA-256 of the RFC 8785 (JCS) serialisation
// of a statement's texts (language → text), after checking them: at least
// one text, language tags such as "en" or "ru", texts not empty, valid
// UTF-8 and at most MaxStatementText bytes.
func TextSHA256(texts map[string]string) (string, error) {
	const op = "workflow.TextSHA256"
	if len(texts) == 0 {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "texts: want at least one text, keyed by language (en, ru, …)")
	}
	for lang, text := range texts {
		switch {
		case !languageTag.MatchString(lang):
			return "", dialogue.Errorf(op, dialogue.KindInvalid, "texts: language %q: want a language tag such as en, ru or en-GB", lang)
		case strings.TrimSpace(text) == "":
			return "", dialogue.Errorf(op, dialogue.KindInvalid, "texts[%s]: empty", lang)
		case !utf8.ValidString(text):
			return "", dialogue.Errorf(op, dialogue.KindInvalid, "texts[%s]: not valid UTF-8", lang)
		case len(text) > MaxStatementText:
			return "", dialogue.Errorf(op, dialogue.KindTooLarge, "texts[%s]: %d bytes, over the limit of %d", lang, len(text), MaxStatementText)
		}
	}
	b, err := stix.CanonicalJSON(texts)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// StatementProposal is what ProposeStatement needs.
type StatementProposal struct {
	Kind StatementKind `json:"kind"`
	// Texts is the statement's text per language: {"en": …, "ru": …}.
	Texts map[string]string `json:"texts"`
	// MeetingRef is the meeting the statement belongs to (required for
	// minutes, optional otherwise).
	MeetingRef string `json:"meeting_ref,omitempty"`
	// Sectors are the off-limits sector codes (off-limits only, at least
	// one).
	Sectors []string `json:"sectors,omitempty"`
}

// Signature is one party's signature of a statement, as shown.
type Signature struct {
	ID         string    `json:"id"`
	Party      string    `json:"party"`
	SignedBy   string    `json:"signed_by"`
	TextSHA256 string    `json:"text_sha256"`
	Created    time.Time `json:"created"`
	// Counts is false for a signature that does not name the statement's
	// hash, or repeats one of the same party; Reason says which.
	Counts bool   `json:"counts"`
	Reason string `json:"reason,omitempty"`
}

// Statement is a statement with its computed state.
type Statement struct {
	ID         string            `json:"id"`
	Channel    string            `json:"channel"`
	Kind       StatementKind     `json:"kind"`
	Texts      map[string]string `json:"texts"`
	TextSHA256 string            `json:"text_sha256"`
	MeetingRef string            `json:"meeting_ref,omitempty"`
	Sectors    []string          `json:"sectors,omitempty"`
	ProposedBy string            `json:"proposed_by"`
	Created    time.Time         `json:"created"`
	// State is proposed, signed (by the parties in SignedBy), agreed or
	// invalid (Problem says why).
	State    string      `json:"state"`
	SignedBy []string    `json:"signed_by"`
	AgreedAt *time.Time  `json:"agreed_at,omitempty"`
	Problem  string      `json:"problem,omitempty"`
	Sigs     []Signature `json:"signatures"`
}

// StateText is the state for a person: "proposed", "signed by NAME",
// "agreed", "invalid: …".
func (st *Statement) StateText() string {
	switch st.State {
	case StatementSigned:
		return "signed by " + strings.Join(st.SignedBy, ", ")
	case StatementInvalid:
		return "invalid: " + st.Problem
	}
	return st.State
}

// ProposeStatement files a statement on a channel (id or title) as this
// party's proposal and returns its id. Off-limits statements need their
// sectors (codes of dialogue's sector list); minutes need their meeting.
func (s *Service) ProposeStatement(ctx context.Context, channel string, p StatementProposal) (string, error) {
	const op = "workflow.ProposeStatement"
	ch, other, err := s.Channel(ctx, channel)
	if err != nil {
		return "", err
	}
	kind, err := ParseStatementKind(string(p.Kind))
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, err)
	}
	sum, err := TextSHA256(p.Texts)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindOf(err), err)
	}
	props := map[string]any{"statement_kind": string(kind), "texts": p.Texts, "text_sha256": sum}
	switch {
	case kind == StatementOffLimits:
		sectors, err := statementSectors(p.Sectors)
		if err != nil {
			return "", dialogue.E(op, dialogue.KindInvalid, err)
		}
		props["sectors"] = sectors
	case len(p.Sectors) > 0:
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "sectors: only an off-limits statement names sectors, not a %s", kind)
	}
	if kind == StatementMinutes && p.MeetingRef == "" {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "meeting_ref: minutes belong to a meeting: name it")
	}
	if p.MeetingRef != "" {
		if _, err := s.meeting(ctx, ch, other, p.MeetingRef); err != nil {
			return "", dialogue.Errorf(op, dialogue.KindOf(err), "meeting_ref: %s", dialogue.Message(err))
		}
		props["meeting_ref"] = p.MeetingRef
	}
	raw, err := s.NewObject(stix.TypeStatement, props)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, err)
	}
	ids, err := s.File(ctx, ch, raw)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// statementSectors checks off-limits sector codes and returns them sorted,
// without repeats.
func statementSectors(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("sectors: an off-limits statement names at least one sector")
	}
	var out []string
	for _, c := range in {
		code, err := checkSector(c)
		if err != nil {
			return nil, fmt.Errorf("sectors: %w", err)
		}
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	sort.Strings(out)
	return out, nil
}

// SignStatement signs a statement (by id, on any channel) as this party:
// textSHA256 is the hash the signer read, and must be the statement's;
// signedBy names the person ("name (role)"), for the record. A party signs
// a statement once. It returns the signature's id.
func (s *Service) SignStatement(ctx context.Context, id, textSHA256, signedBy string) (string, error) {
	const op = "workflow.SignStatement"
	ch, other, err := s.statementChannel(ctx, id)
	if err != nil {
		return "", err
	}
	st, err := s.statement(ctx, ch, other, id)
	if err != nil {
		return "", err
	}
	textSHA256 = strings.ToLower(strings.TrimSpace(textSHA256))
	switch {
	case textSHA256 == "":
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "text_sha256: give the hash of the text you sign (%s shows it)", id)
	case st.State == StatementInvalid:
		return "", dialogue.Errorf(op, dialogue.KindConflict, "statement %s cannot be signed: %s", id, st.Problem)
	case textSHA256 != st.TextSHA256:
		return "", dialogue.Errorf(op, dialogue.KindConflict, "text_sha256 %s is not the hash of statement %s's text (%s): read the statement again before signing", textSHA256, id, st.TextSHA256)
	}
	for _, sig := range st.Sigs {
		if sig.Party == s.Self.Name {
			return "", dialogue.Errorf(op, dialogue.KindConflict, "statement %s is signed by %s already (signature %s): a party signs once", id, s.Self.Name, sig.ID)
		}
	}
	if strings.TrimSpace(signedBy) == "" {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "signed_by: name who signs, for the record")
	}
	raw, err := s.NewObject(stix.TypeSignature, map[string]any{"statement_ref": id, "text_sha256": textSHA256, "signed_by": signedBy})
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, err)
	}
	ids, err := s.File(ctx, ch, raw)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// StatementByID returns a statement (on any channel) with its state.
func (s *Service) StatementByID(ctx context.Context, id string) (*Statement, error) {
	ch, other, err := s.statementChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.statement(ctx, ch, other, id)
}

// Statements lists the statements of a channel (id or title; every
// channel when empty), of the given kind ("" for all), oldest first. A
// channel's statements are folded once between two writes to them (the
// fold cache); each call gets its own copies.
func (s *Service) Statements(ctx context.Context, channel string, kind StatementKind) ([]*Statement, error) {
	chans, err := s.statementChannels(ctx, channel)
	if err != nil {
		return nil, err
	}
	out := []*Statement{}
	for _, ch := range chans {
		other, err := s.otherParty(ctx, ch)
		if err != nil {
			return nil, err
		}
		sts, err := s.channelStatements(ctx, ch, other)
		if err != nil {
			return nil, err
		}
		for _, st := range sts {
			if kind == "" || st.Kind == kind {
				out = append(out, st.clone())
			}
		}
	}
	return out, nil
}

// OffLimits returns the agreed off-limits sectors of a channel: the
// sectors of its latest agreed off-limits statement (none when there is
// none).
func (s *Service) OffLimits(ctx context.Context, ch *dialogue.Channel) ([]string, error) {
	return s.offLimitsAt(ctx, ch, time.Time{})
}

// offLimitsAt is OffLimits as agreed at t (every agreement when t is
// zero): the sectors of the statement agreed last by then.
func (s *Service) offLimitsAt(ctx context.Context, ch *dialogue.Channel, t time.Time) ([]string, error) {
	other, err := s.otherParty(ctx, ch)
	if err != nil {
		return nil, err
	}
	sts, err := s.channelStatements(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	var latest *Statement
	for _, st := range sts {
		if st.Kind != StatementOffLimits || st.State != StatementAgreed || !t.IsZero() && st.AgreedAt.After(t) {
			continue
		}
		if latest == nil || st.AgreedAt.After(*latest.AgreedAt) || st.AgreedAt.Equal(*latest.AgreedAt) && st.ID > latest.ID {
			latest = st
		}
	}
	if latest == nil {
		return []string{}, nil
	}
	return slices.Clone(latest.Sectors), nil
}

// otherParty is the peer's party on a channel.
func (s *Service) otherParty(ctx context.Context, ch *dialogue.Channel) (dialogue.Party, error) {
	_, other, err := s.Channel(ctx, ch.ID)
	return other, err
}

// statementChannels resolves a channel (id or title), or lists every
// channel that is not refused when channel is empty.
func (s *Service) statementChannels(ctx context.Context, channel string) ([]*dialogue.Channel, error) {
	if channel != "" {
		ch, _, err := s.Channel(ctx, channel)
		if err != nil {
			return nil, err
		}
		return []*dialogue.Channel{ch}, nil
	}
	all, err := s.Channels(ctx)
	if err != nil {
		return nil, err
	}
	var out []*dialogue.Channel
	for _, ch := range all {
		if ch.State == dialogue.ChannelActive || ch.State == dialogue.ChannelProposed {
			out = append(out, ch)
		}
	}
	return out, nil
}

// statementChannel finds the channel holding the object id.
func (s *Service) statementChannel(ctx context.Context, id string) (*dialogue.Channel, dialogue.Party, error) {
	const op = "workflow.Statement"
	if !strings.HasPrefix(id, stix.TypeStatement+"--") && !strings.HasPrefix(id, stix.TypeMeeting+"--") {
		return nil, dialogue.Party{}, dialogue.Errorf(op, dialogue.KindInvalid, "id %q: want a %s-- or %s-- id", id, stix.TypeStatement, stix.TypeMeeting)
	}
	chans, err := s.statementChannels(ctx, "")
	if err != nil {
		return nil, dialogue.Party{}, err
	}
	for _, ch := range chans {
		page, err := s.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{IDs: []string{id}, Limit: 1, MetaOnly: true})
		if err != nil {
			return nil, dialogue.Party{}, err
		}
		if len(page.Objects) > 0 {
			c, other, err := s.Channel(ctx, ch.ID)
			return c, other, err
		}
	}
	return nil, dialogue.Party{}, dialogue.Errorf(op, dialogue.KindNotFound, "no %s on any channel", id)
}

// statement returns one statement of a channel, looked up by id: its
// first version and the channel's signatures of it (the signatures' fold
// is kept while the store's stamp of them is unchanged), without the
// channel's other statements. It is the caller's to change.
func (s *Service) statement(ctx context.Context, ch *dialogue.Channel, other dialogue.Party, id string) (*Statement, error) {
	notFound := dialogue.Errorf("workflow.Statement", dialogue.KindNotFound, "no statement %s on channel %s", id, ch.ID)
	if !strings.HasPrefix(id, stix.TypeStatement+"--") {
		return nil, notFound
	}
	page, err := s.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{IDs: []string{id}, Types: []string{stix.TypeStatement}, Versions: dialogue.VersionMatch{First: true}})
	if err != nil {
		return nil, err
	}
	var base *stmtBase
	memo := s.memo("statements", ch, other)
	for _, o := range page.Objects {
		if o.ID == id && o.Type == stix.TypeStatement {
			base, _ = memo.peek(func() any { return parseStatement(o) }, o.Raw).(*stmtBase)
		}
	}
	if base == nil || s.partyOf(other, base.createdBy) == nil {
		return nil, notFound
	}
	sigs, err := s.statementSignatures(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	st := s.foldStatement(ch, other, base, sigs[id])
	st.Texts, st.Sectors = cloneTexts(st.Texts), slices.Clone(st.Sectors)
	return st, nil
}

// clone is a copy of a statement that shares nothing with it.
func (st *Statement) clone() *Statement {
	c := *st
	c.Texts, c.Sectors = cloneTexts(st.Texts), slices.Clone(st.Sectors)
	c.SignedBy, c.Sigs = slices.Clone(st.SignedBy), slices.Clone(st.Sigs)
	if st.AgreedAt != nil {
		t := *st.AgreedAt
		c.AgreedAt = &t
	}
	return &c
}

// cloneTexts is a copy of a statement's texts (nil stays nil).
func cloneTexts(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// statementFold is a channel's statements with their signatures folded,
// shared by the readers of the fold cache: none changes them.
type statementFold struct {
	list []*Statement // by created time, then id
	byID map[string]*Statement
}

// channelStatements folds the statements and signatures of a channel,
// ordered by created time then id. The statements are shared: the
// caller must not change them (Statements gives copies).
func (s *Service) channelStatements(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) ([]*Statement, error) {
	f, err := s.statementFold(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	return f.list, nil
}

// statementFold returns the fold of a channel's statements, from the
// fold cache while the store's stamp of statements and signatures is
// unchanged. Computed again, it joins the statements (statementBases) and
// their signatures (statementSignatures), each kept while its own stamp
// is unchanged.
func (s *Service) statementFold(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) (*statementFold, error) {
	v, err := s.cachedFold(ctx, "statements", ch, other, []string{stix.TypeStatement, stix.TypeSignature}, func() (any, error) {
		bases, err := s.statementBases(ctx, ch, other)
		if err != nil {
			return nil, err
		}
		sigs, err := s.statementSignatures(ctx, ch, other)
		if err != nil {
			return nil, err
		}
		out := &statementFold{list: make([]*Statement, 0, len(bases)), byID: make(map[string]*Statement, len(bases))}
		for _, b := range bases {
			if out.byID[b.st.ID] != nil {
				continue // one first version per id; never two
			}
			st := s.foldStatement(ch, other, b, sigs[b.st.ID])
			out.list = append(out.list, st)
			out.byID[st.ID] = st
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*statementFold), nil
}

// statementBases returns the first versions of a channel's statements
// by either party, parsed and their hashes checked, ordered by created
// time then id, from the fold cache while the store's stamp of statements
// is unchanged (a signature leaves it as it is). Computed again, it
// parses only the versions it did not see last time (versionMemo).
func (s *Service) statementBases(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) ([]*stmtBase, error) {
	v, err := s.cachedFold(ctx, "statement-bases", ch, other, []string{stix.TypeStatement}, func() (any, error) {
		memo := s.memo("statements", ch, other)
		firsts, err := s.firstVersions(ctx, ch, stix.TypeStatement)
		if err != nil {
			return nil, err
		}
		var bases []*stmtBase
		for _, o := range firsts {
			b, _ := memo.get(func() any { return parseStatement(o) }, o.Raw).(*stmtBase)
			if b != nil && s.partyOf(other, b.createdBy) != nil {
				bases = append(bases, b)
			}
		}
		memo.keep()
		slices.SortStableFunc(bases, func(a, b *stmtBase) int {
			if c := a.st.Created.Compare(b.st.Created); c != 0 {
				return c
			}
			return strings.Compare(a.st.ID, b.st.ID)
		})
		return bases, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]*stmtBase), nil
}

// firstVersions returns the first version of each object of a type in a
// channel's collection (VersionMatch.First: the earliest modified), in no
// particular order. It lists every version and keeps the earliest of
// each id: the store's First finds each with a query per row, about three
// times the cost at 5,000 statements. An unversioned object (no
// modified) makes it ask the store's First instead.
func (s *Service) firstVersions(ctx context.Context, ch *dialogue.Channel, typ string) ([]*dialogue.Object, error) {
	list := func(v dialogue.VersionMatch, fn func(*dialogue.Object) bool) error {
		f := dialogue.ObjectFilter{Types: []string{typ}, Versions: v}
		for {
			page, err := s.Store.FindObjects(ctx, ch.ID, f)
			if err != nil {
				return err
			}
			for _, o := range page.Objects {
				if !fn(o) {
					return nil
				}
			}
			if !page.More {
				return nil
			}
			f.After = page.Next
		}
	}
	var out []*dialogue.Object
	at := map[string]int{}
	unversioned := false
	err := list(dialogue.VersionMatch{All: true}, func(o *dialogue.Object) bool {
		if o.Modified.IsZero() {
			unversioned = true
			return false
		}
		i, ok := at[o.ID]
		switch {
		case !ok:
			at[o.ID] = len(out)
			out = append(out, o)
		case o.Modified.Before(out[i].Modified):
			out[i] = o
		}
		return true
	})
	if err != nil || !unversioned {
		return out, err
	}
	out = out[:0]
	err = list(dialogue.VersionMatch{First: true}, func(o *dialogue.Object) bool {
		out = append(out, o)
		return true
	})
	return out, err
}

// partyOf is the party of an identity id on a channel; nil for neither.
func (s *Service) partyOf(other dialogue.Party, identity string) *dialogue.Party {
	switch identity {
	case s.Self.IdentityID:
		return &s.Self
	case other.IdentityID:
		return &other
	}
	return nil
}

// stmtBase is what a statement's first version says, its texts' hash
// checked: computed once per version. It is shared by the folds: none
// changes it.
type stmtBase struct {
	st        Statement // without its proposer, signatures and state
	createdBy string
}

// parseStatement reads a stored statement; nil when it is not a JSON
// object (as Items leaves it out).
func parseStatement(o *dialogue.Object) *stmtBase {
	it := &Item{Object: o}
	if err := json.Unmarshal(o.Raw, &it.Props); err != nil {
		return nil
	}
	b := &stmtBase{createdBy: it.Str("created_by_ref")}
	st := &b.st
	*st = Statement{ID: o.ID, Kind: StatementKind(it.Str("statement_kind")), TextSHA256: it.Str("text_sha256"), MeetingRef: it.Str("meeting_ref"), Created: o.Created}
	var body struct {
		Texts   map[string]string `json:"texts"`
		Sectors []string          `json:"sectors"`
	}
	if err := json.Unmarshal(o.Raw, &body); err != nil {
		st.Problem = "texts: want an object of strings"
	}
	st.Texts, st.Sectors = body.Texts, body.Sectors
	if st.Problem == "" {
		sum, err := TextSHA256(st.Texts)
		switch {
		case err != nil:
			st.Problem = dialogue.Message(err)
		case sum != st.TextSHA256:
			st.Problem = fmt.Sprintf("its text_sha256 %s is not the hash of its texts (%s)", st.TextSHA256, sum)
		}
	}
	if st.Problem == "" && st.Kind == StatementOffLimits {
		if _, err := statementSectors(st.Sectors); err != nil {
			st.Problem = err.Error()
		}
	}
	return b
}

// sigBase is what a signature's first version says.
type sigBase struct {
	sig          Signature // without its party and whether it counts
	createdBy    string
	statementRef string
}

// statementSignatures returns the signatures of a channel's statements
// by the statement they name, each statement's by created time then id,
// from the fold cache while the store's stamp of signatures is
// unchanged. The signatures are shared: the caller must not change them.
func (s *Service) statementSignatures(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) (map[string][]*sigBase, error) {
	v, err := s.cachedFold(ctx, "statement-signatures", ch, other, []string{stix.TypeSignature}, func() (any, error) {
		memo := s.memo("statement-signatures", ch, other)
		firsts, err := s.firstVersions(ctx, ch, stix.TypeSignature)
		if err != nil {
			return nil, err
		}
		var all []*sigBase
		for _, o := range firsts {
			b, _ := memo.get(func() any { return parseSignature(o) }, o.Raw).(*sigBase)
			if b != nil && s.partyOf(other, b.createdBy) != nil {
				all = append(all, b)
			}
		}
		memo.keep()
		slices.SortStableFunc(all, func(a, b *sigBase) int {
			if c := a.sig.Created.Compare(b.sig.Created); c != 0 {
				return c
			}
			return strings.Compare(a.sig.ID, b.sig.ID)
		})
		out := map[string][]*sigBase{}
		for _, b := range all {
			out[b.statementRef] = append(out[b.statementRef], b)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string][]*sigBase), nil
}

// parseSignature reads a stored signature; nil when it is not a JSON
// object.
func parseSignature(o *dialogue.Object) *sigBase {
	it := &Item{Object: o}
	if err := json.Unmarshal(o.Raw, &it.Props); err != nil {
		return nil
	}
	return &sigBase{createdBy: it.Str("created_by_ref"), statementRef: it.Str("statement_ref"),
		sig: Signature{ID: o.ID, SignedBy: it.Str("signed_by"), TextSHA256: it.Str("text_sha256"), Created: o.Created}}
}

// foldStatement is a statement with its signatures (in created time
// order) and its state. Its texts and sectors are the base's.
func (s *Service) foldStatement(ch *dialogue.Channel, other dialogue.Party, b *stmtBase, sigs []*sigBase) *Statement {
	st := new(Statement)
	*st = b.st
	st.Channel = ch.ID
	st.ProposedBy = s.partyOf(other, b.createdBy).Name
	st.SignedBy, st.Sigs = []string{}, make([]Signature, 0, len(sigs))
	for _, sb := range sigs {
		sig := sb.sig
		sig.Party, sig.Counts = s.partyOf(other, sb.createdBy).Name, true
		switch {
		case sig.TextSHA256 != st.TextSHA256:
			sig.Counts, sig.Reason = false, "it names another text's hash"
		case slices.Contains(st.SignedBy, sig.Party):
			sig.Counts, sig.Reason = false, "the party signed before"
		}
		if sig.Counts {
			st.SignedBy = append(st.SignedBy, sig.Party)
			if len(st.SignedBy) == 2 {
				t := sig.Created
				st.AgreedAt = &t
			}
		}
		st.Sigs = append(st.Sigs, sig)
	}
	switch {
	case st.Problem != "":
		st.State, st.AgreedAt = StatementInvalid, nil
	case len(st.SignedBy) >= 2:
		st.State = StatementAgreed
	case len(st.SignedBy) == 1:
		st.State = StatementSigned
	default:
		st.State = StatementProposed
	}
	return st
}
