"""The Hasura project on disk: config, migrations, metadata; files only, no network, no database."""
