package httpapi

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
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
// run at once so that a flood of bad passwords cannot exhaust memory.
type authenticator struct {
	store dialogue.Store
	ttl   time.Duration
	sem   chan struct{}

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

func newAuthenticator(st dialogue.Store, ttl time.Duration, concurrent int) *authenticator {
	return &authenticator{store: st, ttl: ttl, sem: make(chan struct{}, concurrent), cache: make(map[[32]byte]cachedUser)}
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
	switch strings.ToLower(scheme) {
	case "bearer":
		token := strings.TrimSpace(cred)
		if token == "" {
			return nil, dialogue.Errorf(op, dialogue.KindUnauthenticated, "empty bearer token")
		}
		u, err := a.store.UserByToken(r.Context(), dialogue.HashToken(token))
		if err != nil {
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				return nil, dialogue.Errorf(op, dialogue.KindUnauthenticated, "unknown or revoked token")
			}
			return nil, dialogue.E(op, dialogue.KindOther, err)
		}
		return u, nil
	case "basic":
		name, password, ok := r.BasicAuth()
		if !ok || name == "" {
			return nil, dialogue.Errorf(op, dialogue.KindUnauthenticated, "malformed Basic credentials")
		}
		return a.checkPassword(r.Context(), name, password)
	}
	return nil, dialogue.Errorf(op, dialogue.KindUnauthenticated, "unsupported authorization scheme %q: use Basic or Bearer", scheme)
}

func (a *authenticator) checkPassword(ctx context.Context, name, password string) (*dialogue.User, error) {
	const op = "httpapi.authenticate"
	bad := dialogue.Errorf(op, dialogue.KindUnauthenticated, "wrong user name or password")
	key := sha256.Sum256([]byte(name + "\x00" + password))
	now := time.Now()
	a.mu.Lock()
	c, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.user, nil
	}

	select {
	case a.sem <- struct{}{}:
		defer func() { <-a.sem }()
	case <-ctx.Done():
		return nil, dialogue.E(op, dialogue.KindUnavailable, ctx.Err())
	}
	hash, err := a.store.PasswordHash(ctx, name)
	switch {
	case dialogue.KindOf(err) == dialogue.KindNotFound:
		dialogue.CheckPassword(dummyHash(), password)
		return nil, bad
	case err != nil:
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	if !dialogue.CheckPassword(hash, password) {
		return nil, bad
	}
	u, err := a.store.User(ctx, name)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
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

// middleware authenticates every request; a request without valid
// credentials gets a 401 TAXII error with a WWW-Authenticate header.
func (a *authenticator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := a.authenticate(r)
		if err != nil {
			Error(w, r, err)
			return
		}
		if ri := infoFrom(r.Context()); ri != nil {
			ri.user = u.Name
		}
		next.ServeHTTP(w, r.WithContext(NewContextWithUser(r.Context(), u)))
	})
}
