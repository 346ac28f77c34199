-- Tags on trails (CloudTrail's AddTags, RemoveTags, ListTags and CreateTrail's TagsList):
-- at most 50 per trail, a key once per trail. They go with the trail when it is renamed or
-- deleted.
CREATE TABLE trail_tags (
    trail TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (trail, tag_key)
);
