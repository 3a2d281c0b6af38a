-- Whether a table (by qualified name) has a column: false when either does not exist.
SELECT EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = to_regclass($1)
                 AND attname = $2 AND NOT attisdropped)
