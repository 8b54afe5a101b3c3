-- Inverse of 0007_modules.

drop table public.modules;
