-- The big-data centre's exchange database beside the curated one, for the compose stack only.
CREATE DATABASE exchange OWNER sdx;
