-- 0032 realtime replica identity: the tables clients watch through Realtime log their whole old row, so a
-- change's old values reach the change decoder (wal2json on PostgreSQL). Supabase documents this as the way
-- to receive old records; shipspeak-db serve also needs it to authorise a DELETE event: the deleted row can
-- no longer be selected, so the subscriber's SELECT policies are evaluated on the old row instead.

alter table public.meetings replica identity full;

alter table public.practice_sessions replica identity full;
