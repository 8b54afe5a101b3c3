-- Inverse of 0002_profiles_and_progress.

drop table public.user_progress;

drop table public.profiles;
