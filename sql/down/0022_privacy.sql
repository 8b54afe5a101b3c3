-- 0022 down: removes the data inventory and the export rpc.

drop view audit.data_inventory;

drop function public.export_my_data();
