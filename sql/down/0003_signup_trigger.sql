-- Inverse of 0003_signup_trigger. Profiles and progress rows created by the trigger or the backfill are
-- data, not schema: they stay (their tables belong to 0002).

drop trigger on_auth_user_created on auth.users;

drop function private.handle_new_user();
