"""Scheduled jobs: what runs when (`JobSpec` and aligned triggers), who runs it (one leader across
replicas, `leader`), and once per tick (claims in `scheduler_runs`, `JobRunner`). APScheduler drives
the clock (`scheduler.Scheduler`); bot/scheduler.py lists the jobs."""
