-- Inverse of 0006_transcripts_and_analyses.

drop table public.meeting_analyses;

drop table public.meeting_transcripts;

drop function private.is_valid_dimension_scores(jsonb);

drop function private.is_valid_transcript_segments(jsonb);
