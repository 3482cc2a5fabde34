"""`tootback daemon`: posts each day's toots at their due times, for months."""
