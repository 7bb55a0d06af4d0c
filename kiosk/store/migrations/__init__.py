"""SQL migrations, one file each, named NNNN_name.sql; applied in order by kiosk.store.migrate()."""
