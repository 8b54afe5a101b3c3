-- Inverse of 0024_dashboard.

drop function public.dashboard();
