#!/bin/sh
# Run once by the postgres image on an empty data folder: the role web and worker connect as.
# Its grants come from `manage.py grant_app_role imgdash_app --apply` after each migrate.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_password="$IMGDASH_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE imgdash_app LOGIN PASSWORD :'app_password';
GRANT CONNECT ON DATABASE imgdash TO imgdash_app;
GRANT USAGE ON SCHEMA public TO imgdash_app;
SQL
