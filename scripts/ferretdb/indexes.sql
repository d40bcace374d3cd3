-- Indexes FerretDB 1.24 (PostgreSQL backend) can really use. Installed by `npm start` / `npm test`
-- into the embedded PostgreSQL (scripts/services.ts); idempotent.
--
-- FerretDB keeps each collection as a table with one jsonb column `_jsonb` and creates a btree on
-- `(_jsonb -> 'field')` for each index, but pushes an equality filter down as
-- `_jsonb -> $1 @> $2` (a dotted key as `_jsonb #> $1 @> $2`), which a btree cannot serve: every
-- query scanned its table. For each btree FerretDB creates on a collection table (the unique `_id_`
-- index included) this adds a GIN companion on the same key, which serves `@>`, and drops it with
-- its btree. The server also runs with plan_cache_mode = force_custom_plan: FerretDB prepares its
-- statements with the field name as a parameter, and a generic plan cannot match an expression
-- index on a constant key.

CREATE SCHEMA IF NOT EXISTS quantdesk_ferretdb;

CREATE OR REPLACE FUNCTION quantdesk_ferretdb.companion_name(btree text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT left(btree, 48) || '_gin_' || substr(md5(btree), 1, 8) $$;

-- The CREATE INDEX of the GIN companion of one FerretDB btree expression index, or NULL.
CREATE OR REPLACE FUNCTION quantdesk_ferretdb.companion_ddl(idx oid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  tbl regclass; sch text; name text; expr text; keys text[];
BEGIN
  SELECT i.indrelid::regclass, n.nspname, c.relname, pg_get_indexdef(i.indexrelid, 1, false)
    INTO tbl, sch, name, expr
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE i.indexrelid = idx AND am.amname = 'btree' AND i.indexprs IS NOT NULL;
  IF tbl IS NULL THEN RETURN NULL; END IF;
  -- Only tables of FerretDB databases (a schema with its metadata table), never that table itself.
  IF to_regclass(format('%I._ferretdb_database_metadata', sch)) IS NULL
     OR tbl = to_regclass(format('%I._ferretdb_database_metadata', sch)) THEN
    RETURN NULL;
  END IF;
  -- The leading key, e.g. ((_jsonb -> '_id'::text)) or (((_jsonb -> 'a'::text) -> 'b'::text)).
  expr := translate(expr, '()', '');
  IF expr !~ '^_jsonb( -> ''[^'']*''::text)+$' THEN RETURN NULL; END IF;
  SELECT array_agg(m[1]) INTO keys FROM regexp_matches(expr, '''([^'']*)''::text', 'g') AS m;
  IF array_length(keys, 1) = 1 THEN
    RETURN format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L) jsonb_path_ops)',
                  quantdesk_ferretdb.companion_name(name), tbl, keys[1]);
  END IF;
  RETURN format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb #> %L::text[]) jsonb_path_ops)',
                quantdesk_ferretdb.companion_name(name), tbl, keys::text);
END $$;

CREATE OR REPLACE FUNCTION quantdesk_ferretdb.ensure_companion(idx oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE ddl text := quantdesk_ferretdb.companion_ddl(idx);
BEGIN
  IF ddl IS NOT NULL THEN EXECUTE ddl; END IF;
END $$;

CREATE OR REPLACE FUNCTION quantdesk_ferretdb.on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    BEGIN
      PERFORM quantdesk_ferretdb.ensure_companion(r.objid);
    EXCEPTION WHEN OTHERS THEN
      -- Never make FerretDB's own DDL fail because of a companion.
      RAISE WARNING 'quantdesk_ferretdb: no companion for index %: %', r.objid, SQLERRM;
    END;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION quantdesk_ferretdb.on_drop_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT schema_name, object_name FROM pg_event_trigger_dropped_objects()
            WHERE object_type = 'index' AND original AND object_name !~ '_gin_[0-9a-f]{8}$' LOOP
    EXECUTE format('DROP INDEX IF EXISTS %I.%I', r.schema_name, quantdesk_ferretdb.companion_name(r.object_name));
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS quantdesk_ferretdb_create_index;
CREATE EVENT TRIGGER quantdesk_ferretdb_create_index ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION quantdesk_ferretdb.on_create_index();

DROP EVENT TRIGGER IF EXISTS quantdesk_ferretdb_drop_index;
CREATE EVENT TRIGGER quantdesk_ferretdb_drop_index ON sql_drop
  WHEN TAG IN ('DROP INDEX') EXECUTE FUNCTION quantdesk_ferretdb.on_drop_index();

-- Companions for indexes that existed before (a data folder from an earlier run).
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT i.indexrelid FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE to_regclass(format('%I._ferretdb_database_metadata', n.nspname)) IS NOT NULL LOOP
    PERFORM quantdesk_ferretdb.ensure_companion(r.indexrelid);
  END LOOP;
END $$;
