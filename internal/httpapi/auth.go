package httpapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/throttle"
)

type userKey struct{}

// UserFrom returns the user the request was authenticated as, or nil.
func UserFrom(ctx context.Context) *dialogue.User {
	u, _ := ctx.Value(userKey{}).(*dialogue.User)
	return u
}

// NewContextWithUser returns ctx carrying u, as the authentication
// middleware does; handlers read it with UserFrom.
func NewContextWithUser(ctx context.Context, u *dialogue.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// authenticator checks HTTP Basic credentials and bearer tokens against
// the store. argon2id costs 64 MiB and tens of milliseconds per check, so
// successful checks are remembered for a short while (keyed by a hash of
// name and password, never the password itself), and at most a few checks
// run at once so that a flood of bad passwords cannot exhaust memory. A
// remembered check counts only while the user, read from the store on
// each request, is the same one (dialogue.User.Same): a new password, a
// disabled or deleted user takes effect at the next request, whichever
// process made the change. A disabled user's tokens are refused too.
//
// Failures are throttled as the web UI's sign-in is (internal/throttle):
// after throttle.MaxFailures wrong passwords for one user name, or failed
// passwords or unknown tokens from one client address, within
// throttle.FailureWindow, that name or address gets 429 with Retry-After,
// without a password check, until its lock ends — even with the right
// password, which an automated client should not depend on: a token is
// locked only by its client's address, never by a user name someone else
// guesses at.
type authenticator struct {
	store dialogue.Store
	ttl   time.Duration
	sem   chan struct{}
	thr   *throttle.Throttle
	now   func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cachedUser
}

type cachedUser struct {
	user    *dialogue.User
	expires time.Time
}

const maxCachedCredentials = 4096

// dummyHash is checked when a user does not exist, so that an unknown
// name costs as much time as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := dialogue.HashPassword("parley-dummy-password-never-matches")
	return h
})

func newAuthenticator(st dialogue.Store, ttl time.Duration, concurrent int, now func() time.Time) *authenticator {
	if now == nil {
		now = time.Now
	}
	return &authenticator{store: st, ttl: ttl, sem: make(chan struct{}, concurrent), thr: throttle.New(), now: now,
		cache: make(map[[32]byte]cachedUser)}
}

// LockedError is the error of a request refused because its user name
// or client address failed too often; it is answered 429 with
// Retry-After.
type LockedError struct {
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many failed sign-ins for this user or from this address: try again after %s", e.Until.UTC().Format(time.RFC3339))
}

func (a *authenticator) locked(now time.Time, keys ...string) error {
	until := a.thr.Locked(now, keys...)
	if until.IsZero() {
		return nil
	}
	return WithStatus(http.StatusTooManyRequests, dialogue.E("httpapi.authenticate", dialogue.KindUnauthenticated, &LockedError{until}))
}

// authenticate returns the user the request's Authorization header names,
// or an error of kind KindUnauthenticated.
func (a *authenticator) authenticate(r *http.Request) (*dialogue.User, error) {
	const op = "httpapi.authenticate"
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, dialogue.Errorf(op, dialogue.KindUnauthenticated, "authentication required: use HTTP Basic or a bearer token")
	}
	scheme, cred, _ := strings.Cut(h, " ")
	now := a.now()
	addrKey := throttle.AddrKey(r)
	switch strings.ToLower(scheme) {
	case "bearer":
		token := strings.TrimSpace(cred)
		if token == "" {
			return nil, dialogue.Errorf(op, dialogue.KindUnauthenticated, "empty bearer token")
		}
		if err := a.locked(now, addrKey); err != nil {
			return nil, err
		}
		u, err := a.store.UserByToken(r.Context(), dialogue.HashToken(token))
		if err != nil {
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				a.thr.Fail(now, addrKey)
				return nil, dialogue.Errorf(op, dialogue.KindUnauthenticated, "unknown or revoked token")
			}
			return nil, dialogue.E(op, dialogue.KindOther, err)
		}
		if err := dialogue.CheckEnabled(u); err != nil {
			return nil, dialogue.E(op, dialogue.KindUnauthenticated, err)
		}
		return u, nil
	case "basic":
		name, password, ok := r.BasicAuth()
		if !ok || name == "" {
			return nil, dialogue.Errorf(op, dialogue.KindUnauthenticated, "malformed Basic credentials")
		}
		userKey := throttle.UserKey(name)
		if err := a.locked(now, userKey, addrKey); err != nil {
			return nil, err
		}
		u, err := a.checkPassword(r.Context(), name, password)
		switch {
		case err == nil:
			a.thr.Succeed(userKey)
		case dialogue.KindOf(err) == dialogue.KindUnauthenticated:
			a.thr.Fail(now, userKey, addrKey)
		}
		return u, err
	}
	return nil, dialogue.Errorf(op, dialogue.KindUnauthenticated, "unsupported authorization scheme %q: use Basic or Bearer", scheme)
}

func (a *authenticator) checkPassword(ctx context.Context, name, password string) (*dialogue.User, error) {
	const op = "httpapi.authenticate"
	bad := dialogue.Errorf(op, dialogue.KindUnauthenticated, "wrong user name or password")
	key := sha256.Sum256([]byte(name + "\x00" + password))
	now := time.Now()
	// The user as stored now: a remembered check counts only while the
	// user is the same (not deleted, no new password, not disabled since),
	// whichever process changed it. One read per request.
	u, err := a.store.User(ctx, name)
	switch {
	case dialogue.KindOf(err) == dialogue.KindNotFound:
		a.forget(key)
	case err != nil:
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	a.mu.Lock()
	c, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(c.expires) && c.user.Same(u) {
		if err := dialogue.CheckEnabled(u); err != nil {
			return nil, dialogue.E(op, dialogue.KindUnauthenticated, err)
		}
		return u, nil
	}
	if ok {
		a.forget(key)
	}

	select {
	case a.sem <- struct{}{}:
		defer func() { <-a.sem }()
	case <-ctx.Done():
		return nil, dialogue.E(op, dialogue.KindUnavailable, ctx.Err())
	}
	// The user was read before the hash: should the password change in
	// between, the generation remembered is the old one, and the next
	// request checks again.
	var hash string
	if u != nil {
		hash, err = a.store.PasswordHash(ctx, name)
	}
	switch {
	case u == nil || dialogue.KindOf(err) == dialogue.KindNotFound:
		dialogue.CheckPassword(dummyHash(), password)
		return nil, bad
	case err != nil:
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	if !dialogue.CheckPassword(hash, password) {
		return nil, bad
	}
	if err := dialogue.CheckEnabled(u); err != nil {
		return nil, dialogue.E(op, dialogue.KindUnauthenticated, err)
	}
	a.mu.Lock()
	if len(a.cache) >= maxCachedCredentials {
		for k, v := range a.cache {
			if !now.Before(v.expires) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCachedCredentials {
			clear(a.cache)
		}
	}
	a.cache[key] = cachedUser{user: u, expires: now.Add(a.ttl)}
	a.mu.Unlock()
	return u, nil
}

// forget drops a remembered check.
func (a *authenticator) forget(key [32]byte) {
	a.mu.Lock()
	delete(a.cache, key)
	a.mu.Unlock()
}

// middleware authenticates every request; a request without valid
// credentials gets a 401 TAXII error with a WWW-Authenticate header.
func (a *authenticator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := a.authenticate(r)
		if err != nil {
			var le *LockedError
			if errors.As(err, &le) {
				w.Header().Set("Retry-After", strconv.Itoa(int(le.Until.Sub(a.now()).Seconds())+1))
				LoggerFrom(r.Context()).WarnContext(r.Context(), "authentication refused: too many failures", "addr", throttle.ClientAddr(r), "until", le.Until)
			}
			Error(w, r, err)
			return
		}
		if ri := infoFrom(r.Context()); ri != nil {
			ri.user = u.Name
		}
		next.ServeHTTP(w, r.WithContext(NewContextWithUser(r.Context(), u)))
	})
}
