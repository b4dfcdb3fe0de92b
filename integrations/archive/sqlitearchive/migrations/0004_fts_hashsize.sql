-- Larger search index segments: FTS5 writes the terms it holds in memory
-- out as a new segment when they pass 'hashsize' bytes (1 MB by default),
-- and at each commit. An import's batch of 5,000 messages holds more, so
-- it was written as several small segments, which FTS5 then merged again
-- and again (automerge). At 8 MB a batch is one segment: an import
-- merges less, and the archive's searches read fewer segments. Memory:
-- what a batch's terms take, a few MB, and only while it is written.
INSERT INTO archive_fts (archive_fts, rank) VALUES ('hashsize', 8388608);
