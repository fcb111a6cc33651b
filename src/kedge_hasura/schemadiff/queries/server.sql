-- Facts about the server and the session, to qualify the snapshot.
SELECT json_build_object(
  'version_num', current_setting('server_version_num')::int,
  'version', current_setting('server_version'),
  'database', current_database(),
  'user', current_user,
  'is_superuser', (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
)
