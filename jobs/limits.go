package jobs

import (
	"errors"
	"fmt"
	"time"
)

// admitRemoteLocked takes a place for a job of member under the limits
// of remote jobs, or says which limit is reached; s.mu is held.
func (s *Service) admitRemoteLocked(member string) error {
	switch running := s.remoteRunningLocked(); {
	case running >= s.cfg.MaxRemoteJobs:
		return fmt.Errorf("runs %d programs for other members already, the most it takes (--max-remote-jobs)", running)
	case s.remoteBy[member] >= s.cfg.MaxRemoteJobsPerMember:
		return fmt.Errorf("runs %d programs for %s already, the most it takes from one member (--max-remote-jobs-per-member)", s.remoteBy[member], member)
	}
	s.remoteBy[member]++
	return nil
}

// remoteRunningLocked is how many jobs run here for other members now,
// all members' together; s.mu is held.
func (s *Service) remoteRunningLocked() int {
	n := 0
	for _, count := range s.remoteBy {
		n += count
	}
	return n
}

// releaseRemote gives back the place of a job of member.
func (s *Service) releaseRemote(member string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remoteBy[member]--; s.remoteBy[member] <= 0 {
		delete(s.remoteBy, member)
	}
}

// timeLimitError is why a job run for another member was stopped when it
// ran out of time: the cause it is killed with, and the error its end
// reports.
type timeLimitError struct {
	limit time.Duration
	node  string
}

func (e *timeLimitError) Error() string {
	return fmt.Sprintf("stopped: %s lets a program of another member run %v at most (--remote-job-time-limit)", e.node, e.limit)
}

// Is makes the time limit a kill, so that the job ends killed.
func (e *timeLimitError) Is(target error) bool { return target == ErrKilled }

// killReason is the error a killed job's end reports: none for a plain
// kill, the limit for a job that ran out of time.
func killReason(err error) error {
	var limit *timeLimitError
	if errors.As(err, &limit) {
		return limit
	}
	return nil
}

// limitTime kills j once it has run for limit, unless it ended before;
// the returned function stops the clock.
func limitTime(j *Job, limit time.Duration, node string) (stop func() bool) {
	if limit <= 0 {
		return func() bool { return false }
	}
	return time.AfterFunc(limit, func() { j.cancel(&timeLimitError{limit: limit, node: node}) }).Stop
}
