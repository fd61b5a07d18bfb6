-- The peer of W1 (and W1-live, W2-http, which write to it: see the trigger at the end): the
-- read model a team would build by hand for PostGraphile, holding one timeline
-- already resolved to its best-known facts. Same size as the timeline bench/reads.py serves
-- from Chronicle: 200 entries of 5 facts each (killed, wounded, weapon, occurred, place), each
-- fact with its best value, its range, whether it is disputed and which sources back it.
--
-- PostGraphile names its fields after these tables and keys: timelineBySlug (the unique slug),
-- entriesByTimelineId and factsByEntryId (the foreign keys, indexed so they are exposed).
-- Loaded into a throwaway database by peers/postgraphile/serve.py; it replaces itself.

DROP SCHEMA IF EXISTS peer_pgl CASCADE;
CREATE SCHEMA peer_pgl;

CREATE TABLE peer_pgl.timeline (
  id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug  text NOT NULL UNIQUE,
  title text NOT NULL
);

CREATE TABLE peer_pgl.entry (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  timeline_id integer NOT NULL REFERENCES peer_pgl.timeline (id),
  occurred_on date,
  title       text NOT NULL
);
CREATE INDEX entry_timeline_id ON peer_pgl.entry (timeline_id);

CREATE TABLE peer_pgl.fact (
  id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entry_id  integer NOT NULL REFERENCES peer_pgl.entry (id),
  attribute text NOT NULL,
  best      jsonb,
  low       numeric,
  high      numeric,
  disputed  boolean NOT NULL DEFAULT false,
  sources   text[] NOT NULL
);
CREATE INDEX fact_entry_id ON peer_pgl.fact (entry_id);

INSERT INTO peer_pgl.timeline (slug, title) VALUES ('bench', 'Bench');

-- Entries e0..e199, dated through February 2018 like the bench story's.
INSERT INTO peer_pgl.entry (timeline_id, occurred_on, title)
SELECT t.id, date '2018-02-01' + (n % 28), 'Entry ' || n
FROM peer_pgl.timeline t, generate_series(0, 199) AS n
ORDER BY n;

-- Five facts per entry, valued as Chronicle's values read (a count with its range, a text, a
-- day, a place); every third fact disputed, each backed by two of the bench story's sources.
INSERT INTO peer_pgl.fact (entry_id, attribute, best, low, high, disputed, sources)
SELECT e.id, a.attribute,
       CASE a.attribute
         WHEN 'weapon'   THEN jsonb_build_object('text', (ARRAY['artillery', 'air strike',
                                'drone', 'tank', 'mortar', 'small arms'])[1 + e.id % 6])
         WHEN 'occurred' THEN jsonb_build_object('start', to_char(e.occurred_on, 'YYYY-MM-DD'),
                                'precision', 'DAY')
         WHEN 'place'    THEN jsonb_build_object('name', (ARRAY['Khasham', 'Al Tabiyeh',
                                'Deir ez-Zor', 'Conoco field', 'Euphrates crossing'])[1 + e.id % 5])
         ELSE jsonb_build_object('best', c.best)
       END,
       c.best, c.best + c.spread,
       (e.id + a.k) % 3 = 0,
       ARRAY[(ARRAY['wire', 'ministry', 'army', 'monitor'])[1 + (e.id + a.k) % 4],
             (ARRAY['channel', 'witness', 'paper', 'rumour'])[1 + e.id % 4]]
FROM peer_pgl.entry e
CROSS JOIN (VALUES (1, 'killed'), (2, 'wounded'), (3, 'weapon'), (4, 'occurred'), (5, 'place'))
  AS a (k, attribute)
LEFT JOIN LATERAL (
  SELECT CASE a.attribute WHEN 'killed' THEN 5 + e.id * 37 % 300 ELSE 10 + e.id * 53 % 500 END
           AS best,
         e.id * 41 % 200 AS spread
  WHERE a.attribute IN ('killed', 'wounded')
) AS c ON true
ORDER BY e.id, a.k;

-- The writes of bench/live_reads.py (W1-live) and bench/appends.py (W2-http) go through
-- PostGraphile's createFact: a new report of an entry's attribute. As in Chronicle, where a
-- new report changes a fact rather than adding one, the new row replaces the entry's fact
-- on that attribute, so the timeline keeps its 5 facts per entry however many are written
-- (the read's answer changes, its size does not). Writers of the same fact take turns (the
-- advisory lock), so two concurrent reports cannot both survive. Created after the fill
-- above, which it would only slow down; W1 itself never writes.
CREATE FUNCTION peer_pgl.replace_fact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(NEW.entry_id, hashtext(NEW.attribute));
  DELETE FROM peer_pgl.fact WHERE entry_id = NEW.entry_id AND attribute = NEW.attribute;
  RETURN NEW;
END
$$;
CREATE TRIGGER fact_replaces BEFORE INSERT ON peer_pgl.fact
  FOR EACH ROW EXECUTE FUNCTION peer_pgl.replace_fact();
