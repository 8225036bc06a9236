"""Alembic environment: the engine comes from `migrate.alembic_config`."""

from alembic import context

from onceonly.adapters.db.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A column dropped on SQLite rebuilds its table (batch mode), and dropping a table
        # other rows refer to fails while references are enforced. As SQLite's own advice
        # for rebuilds goes, they are checked once the migration is done instead, before
        # it commits. (Set before the transaction begins: inside one it does nothing.)
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration leaves rows of {broken[0][0]} "
                                       f"referring to missing rows of {broken[0][2]}")
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
