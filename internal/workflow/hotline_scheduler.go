package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// The scheduler: the jobs a served node runs by itself, on a short tick,
// against the service's clock (Service.Now): delivery receipts of the
// peer's hotline messages and checks, escalations of unacknowledged
// hotline messages, scheduled communication checks; other workflows
// register theirs (reminders, escalations of requests) from their own
// files with RegisterPeriodic.
//
// Each job decides from the record and the clock what is due, and writes
// it once: running a job again, or on both nodes, writes nothing twice.

// PeriodicFunc is a job the scheduler runs on every tick: a method
// expression such as (*Service).Receipts fits. It must be cheap
// when there is nothing to do, and safe to run again after a failure.
type PeriodicFunc func(s *Service, ctx context.Context) error

type periodicJob struct {
	name string
	run  PeriodicFunc
}

var (
	periodicMu sync.Mutex
	periodic   []periodicJob
)

// RegisterPeriodic adds a job to every service's scheduler, named for the
// logs; call it from an init function.
func RegisterPeriodic(name string, f PeriodicFunc) {
	periodicMu.Lock()
	defer periodicMu.Unlock()
	periodic = append(periodic, periodicJob{name, f})
}

func periodicJobs() []periodicJob {
	periodicMu.Lock()
	defer periodicMu.Unlock()
	return append([]periodicJob(nil), periodic...)
}

// SchedulerInterval is how often a served node's scheduler runs its jobs.
const SchedulerInterval = 500 * time.Millisecond

// Tick runs every registered job once, in registration order. A job that
// fails does not stop the others; the errors are joined, each naming its
// job.
func (s *Service) Tick(ctx context.Context) error {
	var errs []error
	for _, j := range periodicJobs() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := j.run(s, ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", j.name, err))
		}
	}
	return errors.Join(errs...)
}

// StartScheduler runs the jobs every SchedulerInterval in the background
// until ctx is done, logging their failures (each distinct failure once,
// until it changes). The channel it returns is closed once the scheduler
// stopped, so that the caller can wait for it before closing the store.
// On a nil service it starts nothing and returns a closed channel.
func (s *Service) StartScheduler(ctx context.Context, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if s == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		s.RunScheduler(ctx, SchedulerInterval, log)
	}()
	return done
}

// RunScheduler runs the jobs every interval until ctx is done, logging
// their failures (each distinct failure once, until it changes). Tests
// call it with a short interval and a service whose clock they move.
func (s *Service) RunScheduler(ctx context.Context, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.Tick(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil && last != "":
			log.Info("the dialogue's scheduled jobs run again")
			last = ""
		case err != nil && err.Error() != last:
			last = err.Error()
			log.Warn("a scheduled job of the dialogue failed; retrying", "err", err)
		}
	}
}
