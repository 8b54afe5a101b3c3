-- Inverse of 0032_realtime_replica_identity: back to logging only the primary key of an old row.

alter table public.practice_sessions replica identity default;

alter table public.meetings replica identity default;
